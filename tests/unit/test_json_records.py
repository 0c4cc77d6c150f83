"""Any line, however hostile, becomes a JSON object or a named rejection: never an exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxstream.ingest.json_records import NotARecord, lone_surrogate_path, parse_record


def _rule(data: bytes) -> tuple[str, str]:
    with pytest.raises(NotARecord) as caught:
        parse_record(data)
    return caught.value.error.field, caught.value.error.rule


def test_a_lone_surrogate_in_a_value_is_named_with_its_field() -> None:
    line = b'{"feedback_id": "f", "comment": "great service \\ud83d"}'
    assert _rule(line) == ("comment", "lone_surrogate")


def test_a_lone_surrogate_in_a_key_or_a_nested_value_is_found() -> None:
    assert _rule(b'{"\\udc00x": 1}')[1] == "lone_surrogate"
    field, rule = _rule(b'{"a11_v2": {"went_well": ["ease", "\\udfff"]}}')
    assert (field, rule) == ("a11_v2.went_well[1]", "lone_surrogate")


def test_a_whole_surrogate_pair_is_a_character_and_passes() -> None:
    assert parse_record(b'{"comment": "great \\ud83d\\ude00"}') == {"comment": "great \U0001f600"}


def test_an_integer_past_the_conversion_limit_is_not_json() -> None:
    assert _rule(b'{"wait_seconds": ' + b"9" * 5000 + b"}") == ("$", "not_json")


def test_nesting_past_the_recursion_limit_is_not_json() -> None:
    assert _rule(b"[" * 100_000) == ("$", "not_json")
    assert _rule(b'{"a": ' * 50_000 + b"1" + b"}" * 50_000) == ("$", "not_json")


def test_deep_but_parseable_nesting_is_walked_without_recursion() -> None:
    depth = 900
    data = b'{"a": ' + b"[" * depth + b'"\\ud800"' + b"]" * depth + b"}"
    assert _rule(data)[1] == "lone_surrogate"


@pytest.mark.parametrize(("data", "rule"), [(b"\xff\xfe{}", "not_utf8"), (b"[1, 2]", "not_an_object"),
                                            (b"{not json", "not_json"), (b'"text"', "not_an_object")])
def test_other_non_records_keep_their_rules(data: bytes, rule: str) -> None:
    assert _rule(data)[1] == rule


def test_the_reported_path_prints_on_any_terminal() -> None:
    path = lone_surrogate_path({"\ud83d": "x"})
    assert path is not None
    path.encode("utf-8")  # would raise for a raw surrogate


_hostile = st.one_of(
    st.binary(max_size=200),
    st.text(max_size=50).map(lambda t: json.dumps({"comment": t}).encode("utf-8", "surrogatepass")),
    st.integers(1, 30_000).map(lambda n: b"[" * n),
    st.integers(4_290, 4_400).map(lambda n: b'{"n": ' + b"7" * n + b"}"),
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF).map(
        lambda c: ('{"service": "x\\u%04x"}' % ord(c)).encode()),
)


@settings(max_examples=300, deadline=None)
@given(_hostile)
def test_no_input_escapes_as_anything_but_a_rejection(data: bytes) -> None:
    try:
        obj = parse_record(data)
    except NotARecord:
        return
    json.dumps(obj, ensure_ascii=False).encode("utf-8")  # what is accepted can always be encoded
