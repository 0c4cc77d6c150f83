"""The contract's rules, checked the same way at every entry point (CLI, gateway, worker).

``touchpoint_from_json`` / ``feedback_from_json`` read the JSON form (RFC 3339 times);
``check_touchpoint`` / ``check_feedback`` check records decoded from Avro, since producers
outside the project are not trusted. Every broken rule is reported, each with its field and code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Final

from cxstream.schemas.errors import FieldError, ValidationError
from cxstream.schemas.records import A11V2, Feedback, Touchpoint
from cxstream.vocabulary import (
    CHANNELS,
    DEFAULT_TRANSACTION_POINT,
    DOMAINS,
    DRIVERS,
    MAX_ANSWER,
    MIN_ANSWER,
    OUTCOMES,
    REQUIRED_DRIVERS,
    TRANSACTION_POINTS,
    TRUST_SCALES,
    TRUST_VALUES,
    UNKNOWN,
)

MAX_ID_LENGTH: Final = 64
MAX_NAME_LENGTH: Final = 128  # agency and service names
MAX_COMMENT_LENGTH: Final = 2000
#: Longer comments are refused before redaction reads them: redaction shortens text at most ~3x
#: (a 16-digit card number becomes "[CARD]"), so none of them could end within the limit.
MAX_COMMENT_BEFORE_REDACTION: Final = 5 * MAX_COMMENT_LENGTH
MAX_SECONDS: Final = 2**31 - 1  # Avro int
#: Times before this are refused (no A-11 data predates Section 280's ancestors by that much).
EARLIEST_MS: Final = int(datetime(2000, 1, 1, tzinfo=UTC).timestamp() * 1000)
#: Times further than this ahead of the checker's clock are refused (clock skew allowance).
MAX_FUTURE_MS: Final = 86_400_000

# ASCII digits only (``\d`` alone also matches other scripts' digits), matched in full (``$``
# alone would let a trailing newline through).
_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_TOUCHPOINT_FIELDS = frozenset(
    ("touchpoint_id", "occurred_at", "agency", "service", "channel", "outcome", "wait_seconds",
     "handle_seconds", "survey_offered")
)
_FEEDBACK_FIELDS = frozenset(
    ("feedback_id", "touchpoint_id", "submitted_at", "answers", "comment", "agency", "service", "channel", "a11_v2")
)
_A11_V2_FIELDS = frozenset(("trust", "trust_scale", "went_well", "did_not_go_well", "offered", "transaction_point"))
_DRIVERS = frozenset(DRIVERS)
#: Values a reader sees for symbols added after it was built; accepted from Avro, not from JSON.
_AVRO_CHANNELS = frozenset((*CHANNELS, UNKNOWN))
_JSON_CHANNELS = frozenset(CHANNELS)
_AVRO_OUTCOMES = frozenset((*OUTCOMES, UNKNOWN))
_JSON_OUTCOMES = frozenset(OUTCOMES)
_DOMAINS = frozenset(DOMAINS)

#: Hook for PII redaction of comments (applied before the length rule); the entry points pass
#: cxstream.redaction.redact (the JSON path of `cxstream publish`, and the gateway).
Redactor = Callable[[str], str]


def _no_redaction(text: str) -> str:
    return text


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, field: str, rule: str, message: str) -> None:
        self.items.append(FieldError(field, rule, message))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationError(self.items)

    def raise_if_any_at(self, field: str) -> None:
        """Stop early when ``field`` is broken (the whole object: no other rule can be checked)."""
        if any(e.field == field for e in self.items):
            raise ValidationError(self.items)


# --- public entry points ---------------------------------------------------------------------
def touchpoint_from_json(obj: Mapping[str, Any], now_ms: int) -> Touchpoint:
    """A valid Touchpoint from its JSON form, or ValidationError naming every broken rule."""
    errors = _Errors()
    _unknown_fields(obj, _TOUCHPOINT_FIELDS, errors)
    errors.raise_if_any_at("$")
    occurred_at = _time(obj, "occurred_at", now_ms, errors)
    record = _touchpoint(obj, occurred_at, json_input=True, errors=errors)
    errors.raise_if_any()
    assert record is not None
    return record


def feedback_from_json(obj: Mapping[str, Any], now_ms: int, redact: Redactor = _no_redaction) -> Feedback:
    """A valid Feedback from its JSON form, or ValidationError naming every broken rule."""
    errors = _Errors()
    _unknown_fields(obj, _FEEDBACK_FIELDS, errors)
    errors.raise_if_any_at("$")
    submitted_at = _time(obj, "submitted_at", now_ms, errors)
    record = _feedback(obj, submitted_at, json_input=True, errors=errors, redact=redact)
    errors.raise_if_any()
    assert record is not None
    return record


def check_touchpoint(datum: Mapping[str, Any], now_ms: int) -> Touchpoint:
    """A valid Touchpoint from a decoded Avro datum (times already epoch ms)."""
    errors = _Errors()
    occurred_at = _epoch_ms(datum.get("occurred_at"), "occurred_at", now_ms, errors)
    record = _touchpoint(datum, occurred_at, json_input=False, errors=errors)
    errors.raise_if_any()
    assert record is not None
    return record


def touchpoint_is_valid(datum: Mapping[str, Any], now_ms: int) -> bool:
    """Whether a decoded Avro touchpoint keeps every rule, at a glance: the same rules as
    :func:`check_touchpoint` in one expression, 1.2-2.1 us where building the record as well
    took 3.2-5.7 (the tests compare the two on valid and broken datums). The worker checks every
    touchpoint it reads with this and reads the datum itself; :func:`check_touchpoint` then
    names the broken rules of one that fails."""
    get = datum.get
    touchpoint_id, occurred_at, agency, service = get("touchpoint_id"), get("occurred_at"), get("agency"), get("service")
    outcome, wait, handle, offered = get("outcome"), get("wait_seconds"), get("handle_seconds"), get("survey_offered")
    channel = get("channel")
    return bool(
        type(touchpoint_id) is str and 0 < len(touchpoint_id) <= MAX_ID_LENGTH and touchpoint_id.strip()
        and type(agency) is str and 0 < len(agency) <= MAX_NAME_LENGTH and agency.strip()
        and type(service) is str and 0 < len(service) <= MAX_NAME_LENGTH and service.strip()
        and type(channel) is str and channel in _AVRO_CHANNELS
        and (outcome is None or (type(outcome) is str and outcome in _AVRO_OUTCOMES))
        and type(occurred_at) is int and EARLIEST_MS <= occurred_at <= now_ms + MAX_FUTURE_MS
        and (wait is None or (type(wait) is int and 0 <= wait <= MAX_SECONDS))
        and (handle is None or (type(handle) is int and 0 <= handle <= MAX_SECONDS))
        and (offered is None or type(offered) is bool))


def check_feedback(datum: Mapping[str, Any], now_ms: int, redact: Redactor = _no_redaction) -> Feedback:
    """A valid Feedback from a decoded Avro datum (times already epoch ms)."""
    errors = _Errors()
    submitted_at = _epoch_ms(datum.get("submitted_at"), "submitted_at", now_ms, errors)
    record = _feedback(datum, submitted_at, json_input=False, errors=errors, redact=redact)
    errors.raise_if_any()
    assert record is not None
    return record


def parse_rfc3339(text: str) -> int:
    """UTC epoch ms of an RFC 3339 timestamp with an offset; ValueError otherwise."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError("not an RFC 3339 timestamp with a UTC offset")
    fraction = (match.group(7) or ".")[1:]
    zone = match.group(8)
    offset = "+00:00" if zone in ("Z", "z") else zone
    year, month, day, hour, minute, second = match.groups()[:6]
    # RFC 3339 allows a leap second (:60, in the last minute of an hour in the writer's offset).
    # Epoch time has none: it is read as the first instant of the next minute, as POSIX does.
    leap = 1 if second == "60" and minute == "59" else 0
    date_time = f"{year}-{month}-{day}T{hour}:{minute}:{int(second) - leap:02d}"
    try:
        whole_seconds = datetime.fromisoformat(date_time + offset)  # ValueError for impossible dates
        seconds = int(whole_seconds.timestamp()) + leap
    except OverflowError as exc:  # year 1 or 9999 pushed past datetime's range by the offset
        raise ValueError(str(exc)) from None
    return seconds * 1000 + int((fraction + "000")[:3])


# --- the rules -------------------------------------------------------------------------------
def _touchpoint(
    obj: Mapping[str, Any], occurred_at: int | None, *, json_input: bool, errors: _Errors
) -> Touchpoint | None:
    touchpoint_id = _text(obj, "touchpoint_id", MAX_ID_LENGTH, errors, required=True)
    agency = _text(obj, "agency", MAX_NAME_LENGTH, errors, required=True)
    service = _text(obj, "service", MAX_NAME_LENGTH, errors, required=True)
    channel = _choice(obj, "channel", _JSON_CHANNELS if json_input else _AVRO_CHANNELS, errors, required=True)
    outcome = _choice(obj, "outcome", _JSON_OUTCOMES if json_input else _AVRO_OUTCOMES, errors, required=False)
    wait_seconds = _seconds(obj, "wait_seconds", errors)
    handle_seconds = _seconds(obj, "handle_seconds", errors)
    survey_offered = obj.get("survey_offered")
    if survey_offered is not None and not isinstance(survey_offered, bool):
        errors.add("survey_offered", "not_a_boolean", f"must be true or false, got {survey_offered!r}")
    if errors.items:
        return None
    assert touchpoint_id and agency and service and channel and occurred_at is not None
    return Touchpoint(touchpoint_id, occurred_at, agency, service, channel, outcome, wait_seconds,
                      handle_seconds, survey_offered)


def _feedback(
    obj: Mapping[str, Any],
    submitted_at: int | None,
    *,
    json_input: bool,
    errors: _Errors,
    redact: Redactor,
) -> Feedback | None:
    feedback_id = _text(obj, "feedback_id", MAX_ID_LENGTH, errors, required=True)
    touchpoint_id = _text(obj, "touchpoint_id", MAX_ID_LENGTH, errors, required=False)
    a11_v2 = _a11_v2(obj.get("a11_v2"), errors, json_input=json_input)
    has_v2 = obj.get("a11_v2") is not None
    answers = _answers(obj.get("answers"), errors, may_be_empty=has_v2)
    comment = obj.get("comment")
    if comment is not None:
        if not isinstance(comment, str):
            errors.add("comment", "not_a_string", f"must be text, got {type(comment).__name__}")
            comment = None
        elif len(comment) > MAX_COMMENT_BEFORE_REDACTION:
            errors.add("comment", "too_long", f"{len(comment)} characters, at most {MAX_COMMENT_LENGTH}")
            comment = None
        else:
            comment = redact(comment)
            if len(comment) > MAX_COMMENT_LENGTH:
                errors.add("comment", "too_long", f"{len(comment)} characters, at most {MAX_COMMENT_LENGTH}")
    direct = touchpoint_id is None and "touchpoint_id" not in {e.field for e in errors.items}
    agency = _text(obj, "agency", MAX_NAME_LENGTH, errors, required=False)
    service = _text(obj, "service", MAX_NAME_LENGTH, errors, required=False)
    channel = _choice(obj, "channel", _JSON_CHANNELS if json_input else _AVRO_CHANNELS, errors, required=False)
    if direct:
        for name, value in (("agency", agency), ("service", service), ("channel", channel)):
            if value is None and name not in {e.field for e in errors.items}:
                errors.add(name, "direct_survey_needs_attribution",
                           "required when touchpoint_id is absent (a survey tied to no interaction)")
    if errors.items:
        return None
    assert feedback_id and answers is not None and submitted_at is not None
    return Feedback(feedback_id, submitted_at, answers, touchpoint_id, comment, agency, service, channel, a11_v2)


def _unknown_fields(obj: Mapping[str, Any], known: frozenset[str], errors: _Errors) -> None:
    if not isinstance(obj, Mapping):
        errors.add("$", "not_an_object", "expected a JSON object")
        return
    for name in sorted(set(obj) - known):
        errors.add(name[:40], "unknown_field", "not a field of the contract")


def _text(obj: Mapping[str, Any], field: str, max_length: int, errors: _Errors, *, required: bool) -> str | None:
    value = obj.get(field)
    if value is None:
        if required:
            errors.add(field, "required", "missing")
        return None
    if not isinstance(value, str):
        errors.add(field, "not_a_string", f"must be text, got {type(value).__name__}")
        return None
    if not value.strip():
        errors.add(field, "empty", "must not be empty or blank")
        return None
    if len(value) > max_length:
        errors.add(field, "too_long", f"{len(value)} characters, at most {max_length}")
        return None
    return value


def _choice(obj: Mapping[str, Any], field: str, allowed: frozenset[str], errors: _Errors, *, required: bool) -> str | None:
    value = obj.get(field)
    if value is None:
        if required:
            errors.add(field, "required", "missing")
        return None
    # The isinstance check comes first: a JSON list or object is unhashable and would make the
    # set lookup raise TypeError instead of reporting the rule.
    if not isinstance(value, str) or value not in allowed:
        rule = "unknown_channel" if field == "channel" else f"unknown_{field}"
        shown = value if isinstance(value, str) and len(value) <= 40 else f"{str(value)[:40]}..."
        errors.add(field, rule, f"{shown!r} is not in the contract's vocabulary")
        return None
    return str(value)


def _seconds(obj: Mapping[str, Any], field: str, errors: _Errors) -> int | None:
    value = obj.get(field)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, "not_an_integer", f"must be a whole number of seconds, got {value!r}")
        return None
    if not 0 <= value <= MAX_SECONDS:
        errors.add(field, "out_of_range", f"must be within 0..{MAX_SECONDS}, got {value}")
        return None
    return value


def _answers(value: Any, errors: _Errors, *, may_be_empty: bool) -> dict[str, int] | None:
    if value is None and may_be_empty:
        return {}
    if value is None:
        errors.add("answers", "required", "missing: give answers (1..7 domains), a11_v2, or both")
        return None
    if not isinstance(value, Mapping):
        errors.add("answers", "not_an_object", "must map domain names to answers 1..5")
        return None
    if not value and may_be_empty:
        return {}
    if not 1 <= len(value) <= len(DOMAINS):
        errors.add("answers", "wrong_count", f"must answer 1..{len(DOMAINS)} domains, got {len(value)}")
        return None
    answers: dict[str, int] = {}
    for domain, answer in value.items():
        field = f"answers.{str(domain)[:40]}"
        if domain not in _DOMAINS:
            errors.add(field, "unknown_domain", f"the domains are {', '.join(DOMAINS)}")
        elif isinstance(answer, bool) or not isinstance(answer, int):
            errors.add(field, "not_an_integer", f"must be a whole number 1..5, got {answer!r}")
        elif not MIN_ANSWER <= answer <= MAX_ANSWER:
            errors.add(field, "out_of_range", f"must be within {MIN_ANSWER}..{MAX_ANSWER}, got {answer}")
        else:
            answers[domain] = answer
    return answers if len(answers) == len(value) else None


def _a11_v2(value: Any, errors: _Errors, *, json_input: bool) -> A11V2 | None:
    """The current form's answers (docs/CONTRACT.md), every broken rule named under ``a11_v2.``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        errors.add("a11_v2", "not_an_object", "must be an object with trust, trust_scale and offered")
        return None
    before = len(errors.items)
    if json_input:
        for name in sorted(set(value) - _A11_V2_FIELDS):
            errors.add(f"a11_v2.{str(name)[:40]}", "unknown_field", "not a field of a11_v2")
    scale = value.get("trust_scale")
    if scale is None:
        errors.add("a11_v2.trust_scale", "required", f"missing: one of {', '.join(TRUST_SCALES)}")
    elif not isinstance(scale, str) or scale not in TRUST_SCALES:
        errors.add("a11_v2.trust_scale", "unknown_trust_scale",
                   f"{str(scale)[:40]!r} is not one of {', '.join(TRUST_SCALES)}")
        scale = None
    trust = value.get("trust")
    if trust is None:
        errors.add("a11_v2.trust", "required", "missing")
    elif isinstance(trust, bool) or not isinstance(trust, int):
        errors.add("a11_v2.trust", "not_an_integer", f"must be a whole number, got {str(trust)[:40]!r}")
    elif scale is not None and trust not in TRUST_VALUES[scale]:
        allowed = "0 (thumbs down) or 1 (thumbs up)" if scale == "thumbs" else "1..5"
        errors.add("a11_v2.trust", "out_of_range", f"a {scale} answer is {allowed}, got {trust}")
    offered = _drivers(value, "offered", errors, required=True)
    if offered is not None:
        missing = [d for d in REQUIRED_DRIVERS if d not in offered]
        if missing:
            errors.add("a11_v2.offered", "missing_required_driver",
                       f"every form offers {' and '.join(REQUIRED_DRIVERS)}; missing {', '.join(missing)}")
    chosen = {name: _drivers(value, name, errors, required=False) for name in ("went_well", "did_not_go_well")}
    for name, drivers in chosen.items():
        outside = [d for d in drivers or () if offered is not None and d not in offered]
        if outside:
            errors.add(f"a11_v2.{name}", "not_offered",
                       f"{', '.join(outside)} not in offered: a driver must be offered to be chosen")
    point = value.get("transaction_point", DEFAULT_TRANSACTION_POINT)
    if point is None:
        point = DEFAULT_TRANSACTION_POINT
    if not isinstance(point, str) or point not in TRANSACTION_POINTS:
        errors.add("a11_v2.transaction_point", "unknown_transaction_point",
                   f"{str(point)[:40]!r} is not one of {', '.join(TRANSACTION_POINTS)}")
    if len(errors.items) > before:
        return None
    assert isinstance(trust, int) and isinstance(scale, str) and offered is not None
    return A11V2(trust, scale, chosen["went_well"] or (), chosen["did_not_go_well"] or (), offered, point)


def _drivers(obj: Mapping[str, Any], name: str, errors: _Errors, *, required: bool) -> tuple[str, ...] | None:
    """A list of driver names (known, no repeats), or None when broken (or absent and required)."""
    field = f"a11_v2.{name}"
    value = obj.get(name)
    if value is None:
        if required:
            errors.add(field, "required", f"missing: the drivers the form offered ({', '.join(DRIVERS)})")
            return None
        return ()
    if not isinstance(value, (list, tuple)):
        errors.add(field, "not_a_list", "must be a list of driver names")
        return None
    unknown = [str(d)[:40] for d in value if not isinstance(d, str) or d not in _DRIVERS]
    if unknown:
        errors.add(field, "unknown_driver", f"{', '.join(map(repr, unknown[:5]))}: the drivers are {', '.join(DRIVERS)}")
        return None
    if len(set(value)) != len(value):
        errors.add(field, "duplicate_driver", "names a driver more than once")
        return None
    return tuple(value)


def _time(obj: Mapping[str, Any], field: str, now_ms: int, errors: _Errors) -> int | None:
    value = obj.get(field)
    if value is None:
        errors.add(field, "required", "missing")
        return None
    if not isinstance(value, str):
        errors.add(field, "not_rfc3339", f"must be an RFC 3339 string, got {type(value).__name__}")
        return None
    try:
        millis = parse_rfc3339(value)
    except ValueError:
        errors.add(field, "not_rfc3339", f"{value[:40]!r} is not RFC 3339 with a UTC offset (e.g. 2026-11-25T14:03:07Z)")
        return None
    return _epoch_ms(millis, field, now_ms, errors)


def _epoch_ms(value: Any, field: str, now_ms: int, errors: _Errors) -> int | None:
    if value is None:
        errors.add(field, "required", "missing")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.add(field, "not_a_timestamp", f"must be UTC epoch milliseconds, got {type(value).__name__}")
        return None
    if value < EARLIEST_MS:
        errors.add(field, "out_of_range", "before 2000-01-01T00:00:00Z")
        return None
    if value > now_ms + MAX_FUTURE_MS:
        errors.add(field, "out_of_range", "more than one day in the future")
        return None
    return value
