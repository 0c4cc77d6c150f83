"""Schemathesis against the gateway's own OpenAPI document, on the real gateway and broker.

Valid and invalid requests generated from the document: no answer may be a 5xx other than the
documented 503, every status must be documented, and every body must match its documented schema.
"""

from __future__ import annotations

import json
import uuid
import zlib
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from cxstream.config import Settings
from cxstream.gateway import openapi
from cxstream.stack import StackStatus
from cxstream.vocabulary import CHANNELS
from tests.support.gateway import GatewayRun, gateway_settings, running_gateway

pytestmark = pytest.mark.integration

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_ctx: schemathesis.SerializationContext, value: Any) -> bytes:
    """The document describes an NDJSON body as an array of records: one JSON line each."""
    import json

    items = value if isinstance(value, list) else [value]
    return "".join(json.dumps(item) + "\n" for item in items).encode()


@pytest.fixture(scope="module")
def gateway(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayRun]:
    folder = tmp_path_factory.mktemp("gateway-fuzz")
    with running_gateway(gateway_settings(settings, folder, gateway_max_records=50), folder) as run:
        yield run


@pytest.fixture(scope="module")
def key(gateway: GatewayRun) -> str:
    return gateway.add_key(agency="VA", channels=CHANNELS, rate=1_000_000)


# The document the gateway serves (built by the same code; test_gateway.py checks it is served).
schema = schemathesis.openapi.from_dict(openapi.document())


def _own_agency(body: Any) -> Any:
    """Half the generated records carry the key's agency, so the accepted path (Kafka) is exercised too."""
    records = body if isinstance(body, list) else [body]
    for record in records:
        if isinstance(record, dict) and zlib.crc32(repr(sorted(record)).encode()) % 2 == 0:
            record["agency"] = "VA"
    return body


@schema.parametrize()
@hypothesis.settings(max_examples=150, deadline=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
def test_no_generated_request_breaks_the_gateway_or_its_document(case: Any, gateway: GatewayRun, key: str) -> None:
    if case.body is not None and not isinstance(case.body, (str, bytes)):
        case.body = _own_agency(case.body)
    case.call_and_validate(base_url=f"http://127.0.0.1:{gateway.port}", headers={"Authorization": f"Bearer {key}"},
                           checks=CHECKS)


#: Input classes that once made the gateway answer 500 for a whole batch (or nearly): a lone UTF-16
#: surrogate (half an emoji), an integer past Python's 4,300-digit limit, nesting past the parser's
#: recursion limit. Generated ones are mixed with valid records in one NDJSON body.
_HOSTILE = st.one_of(
    st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF).map(
        lambda c: ('{"touchpoint_id": "h", "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA", '
                   '"service": "s\\u%04x", "channel": "phone"}' % ord(c)).encode()),
    st.integers(4_301, 8_000).map(lambda n: b'{"touchpoint_id": "h", "wait_seconds": ' + b"9" * n + b"}"),
    st.integers(2_000, 100_000).map(lambda n: b"[" * n),
    st.integers(2_000, 50_000).map(lambda n: b'{"x":' * n),
)


@hypothesis.settings(max_examples=25, deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(plan=st.lists(st.tuples(st.booleans(), _HOSTILE), min_size=1, max_size=8))
def test_hostile_lines_are_rejected_by_position_and_the_rest_accepted(
    plan: list[tuple[bool, bytes]], gateway: GatewayRun, key: str
) -> None:
    run = uuid.uuid4().hex[:8]
    lines = [json.dumps({"touchpoint_id": f"tp-{run}-{i}", "occurred_at": "2026-11-25T14:03:07Z", "agency": "VA",
                         "service": "claims", "channel": "phone"}).encode() if valid else hostile
             for i, (valid, hostile) in enumerate(plan)]
    answer = gateway.post("/v1/touchpoints", b"\n".join(lines) + b"\n", key, content_type="application/x-ndjson")

    good = {i + 1 for i, (valid, _) in enumerate(plan) if valid}
    assert answer.status == (200 if good else 422), answer
    assert answer.body["accepted"] == len(good)
    assert {r["record"] for r in answer.body["rejected"]} == set(range(1, len(lines) + 1)) - good
