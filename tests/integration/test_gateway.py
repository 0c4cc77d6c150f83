"""`cxstream gateway` on the real broker: every status it answers, and what reaches Kafka with each."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxstream.config import Settings
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback, Touchpoint
from cxstream.stack import StackStatus
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.gateway import GatewayRun, gateway_settings, read_topic, running_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(stack: StackStatus, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayRun]:
    folder = tmp_path_factory.mktemp("gateway")
    with running_gateway(gateway_settings(settings, folder, gateway_max_records=20, gateway_max_bytes=4096),
                         folder) as run:
        yield run


def _touchpoint(tp_id: str, **changes: Any) -> dict[str, Any]:
    return {"touchpoint_id": tp_id, "occurred_at": "2026-11-25T14:03:07.250Z", "agency": "VA",
            "service": "disability-claims", "channel": "phone", "outcome": "completed", "wait_seconds": 95,
            **changes}


def _feedback(fb_id: str, **changes: Any) -> dict[str, Any]:
    return {"feedback_id": fb_id, "touchpoint_id": f"tp-of-{fb_id}", "submitted_at": "2026-11-25T14:09:41Z",
            "answers": {"satisfaction": 4, "trust": 3}, **changes}


def _ours(gateway: GatewayRun, topic: str, run: str) -> list[Any]:
    return [m for m in read_topic(gateway.settings, gateway.topic(topic)) if run in m.key.decode()]


def test_one_touchpoint_answered_200_is_in_kafka_keyed_and_decodable(gateway: GatewayRun) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()

    answer = gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}"), key)

    assert answer.status == 200, answer
    assert answer.body == {"accepted": 1, "rejected": []}
    # Acknowledged before the answer: the record is readable right away, no waiting needed.
    messages = _ours(gateway, TOPIC_TOUCHPOINTS, run)
    assert [m.key for m in messages] == [f"tp-{run}".encode()]
    touchpoint = Touchpoint(**Codec().decode(messages[0].value, expected="Touchpoint")[1])
    assert touchpoint.occurred_at == 1_795_615_387_250 and touchpoint.agency == "VA"


def test_batch_accepts_the_good_records_and_lists_every_rejected_one_with_its_field_errors(
    gateway: GatewayRun,
) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()
    good = [json.dumps(_touchpoint(f"tp-{run}-{i}")) for i in range(5)]
    bad_channel = json.dumps(_touchpoint(f"tp-{run}-bad", channel="carrier_pigeon", wait_seconds=-5))
    body = "\n".join([good[0], good[1], "{not json", bad_channel, "", good[2], "[1, 2]", good[3], good[4]]) + "\n"

    answer = gateway.post("/v1/touchpoints", body, key, content_type="application/x-ndjson")

    assert answer.status == 200, answer
    assert answer.body["accepted"] == 5
    rejected = {r["record"]: r for r in answer.body["rejected"]}
    assert set(rejected) == {3, 4, 6}  # positions count records, blank lines are skipped
    assert rejected[3]["errors"][0]["rule"] == "not_json"
    assert rejected[4]["id"] == f"tp-{run}-bad"
    assert {(e["field"], e["rule"]) for e in rejected[4]["errors"]} == {
        ("channel", "unknown_channel"), ("wait_seconds", "out_of_range")}
    assert rejected[6]["errors"][0]["rule"] == "not_an_object"
    assert sorted(m.key.decode() for m in _ours(gateway, TOPIC_TOUCHPOINTS, run)) == [
        f"tp-{run}-{i}" for i in range(5)]


def test_nothing_valid_is_422_with_every_records_errors_and_nothing_written(gateway: GatewayRun) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()

    single = gateway.post("/v1/feedback", _feedback(f"fb-{run}-1", answers={"happiness": 9}), key)
    batch = gateway.post("/v1/feedback", [_feedback(f"fb-{run}-2", submitted_at="yesterday"),
                                          {"feedback_id": f"fb-{run}-3"}], key)

    assert single.status == 422, single
    assert single.body["error"] == "invalid" and single.body["accepted"] == 0
    assert [(e["field"], e["rule"]) for e in single.body["rejected"][0]["errors"]] == [
        ("answers.happiness", "unknown_domain")]
    assert batch.status == 422, batch
    assert [r["id"] for r in batch.body["rejected"]] == [f"fb-{run}-2", f"fb-{run}-3"]
    assert {e["field"] for e in batch.body["rejected"][1]["errors"]} >= {"submitted_at", "answers"}
    assert _ours(gateway, TOPIC_FEEDBACK, run) == []


def test_feedback_comment_reaches_kafka_redacted(gateway: GatewayRun) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()
    comment = "Call me at (202) 555-0143 or jane.doe@example.org, card 4111 1111 1111 1111."

    answer = gateway.post("/v1/feedback", _feedback(f"fb-{run}", touchpoint_id=f"tp-{run}", comment=comment), key)

    assert answer.status == 200, answer
    [message] = _ours(gateway, TOPIC_FEEDBACK, run)
    stored = Feedback(**Codec().decode(message.value, expected="Feedback")[1]).comment
    assert stored == "Call me at [PHONE] or [EMAIL], card [CARD]."


def test_missing_malformed_unknown_or_revoked_key_is_401(gateway: GatewayRun) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()
    key_id = key.split("_")[1]
    record = _touchpoint(f"tp-{run}")

    missing = gateway.post("/v1/touchpoints", record, None)
    not_bearer = gateway.post("/v1/touchpoints", record, None, headers={"Authorization": f"Basic {key}"})
    wrong_secret = gateway.post("/v1/touchpoints", record, key[:-4] + "AAAA")
    unknown_id = gateway.post("/v1/touchpoints", record, "cxk_000000000000_" + key.split("_", 2)[2])
    before_revoke = gateway.post("/v1/touchpoints", record, key)
    revoked = subprocess.run([sys.executable, "-m", "cxstream.cli", "keys", "revoke", key_id], env=gateway.env,
                             capture_output=True, timeout=60, check=False)
    after_revoke = gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}-2"), key)

    for answer in (missing, not_bearer, wrong_secret, unknown_id, after_revoke):
        assert answer.status == 401, answer
        assert answer.body["error"] == "unauthenticated"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert before_revoke.status == 200, before_revoke
    assert revoked.returncode == 0, revoked.stderr.decode()
    assert [m.key.decode() for m in _ours(gateway, TOPIC_TOUCHPOINTS, run)] == [f"tp-{run}"]


def test_a_record_for_another_agency_or_channel_is_403_and_nothing_of_the_batch_is_written(
    gateway: GatewayRun,
) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key(agency="VA", channels=("phone",))

    other_agency = gateway.post("/v1/touchpoints", [_touchpoint(f"tp-{run}-1"),
                                                    _touchpoint(f"tp-{run}-2", agency="USDA")], key)
    other_channel = gateway.post("/v1/feedback", _feedback(f"fb-{run}", touchpoint_id=None, agency="VA",
                                                           service="claims", channel="website"), key)
    own = gateway.post("/v1/feedback", _feedback(f"fb-{run}-ok", touchpoint_id=None, agency="VA",
                                                 service="claims", channel="phone"), key)

    assert other_agency.status == 403, other_agency
    assert other_agency.body["refused"] == [{"record": 2, "id": f"tp-{run}-2", "agency": "USDA", "channel": "phone"}]
    assert other_channel.status == 403, other_channel
    assert other_channel.body["refused"][0]["channel"] == "website"
    assert own.status == 200, own
    assert _ours(gateway, TOPIC_TOUCHPOINTS, run) == []
    assert [m.key.decode() for m in _ours(gateway, TOPIC_FEEDBACK, run)] == [f"fb-{run}-ok"]


def test_too_large_body_or_too_many_records_is_413_and_nothing_written(gateway: GatewayRun) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()
    too_many = [_touchpoint(f"tp-{run}-{i}") for i in range(21)]  # the fixture allows 20
    too_big = [_touchpoint(f"tp-{run}-big-{i}", service="s" * 120) for i in range(19)]  # > 4096 bytes

    count = gateway.post("/v1/touchpoints", too_many, key)
    size = gateway.post("/v1/touchpoints", too_big, key)
    exactly_max = gateway.post("/v1/touchpoints", too_many[:20], key)

    assert count.status == 413 and count.body["error"] == "too_many_records", count
    assert size.status == 413 and size.body["error"] == "body_too_large", size
    assert exactly_max.status == 200 and exactly_max.body["accepted"] == 20, exactly_max
    assert len(_ours(gateway, TOPIC_TOUCHPOINTS, run)) == 20


def test_a_body_without_content_length_over_the_limit_is_413(gateway: GatewayRun) -> None:
    """Chunked upload: the size is only known while reading."""
    import http.client

    key = gateway.add_key()
    conn = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=30)
    try:
        conn.putrequest("POST", "/v1/touchpoints")
        for name, value in (("Authorization", f"Bearer {key}"), ("Content-Type", "application/x-ndjson"),
                            ("Transfer-Encoding", "chunked")):
            conn.putheader(name, value)
        conn.endheaders()
        chunk = b"x" * 1000
        for _ in range(6):
            conn.send(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        assert response.status == 413, response.read()
        assert json.loads(response.read())["error"] == "body_too_large"
    finally:
        conn.close()


def test_a_body_that_is_neither_json_nor_ndjson_is_415(gateway: GatewayRun) -> None:
    key = gateway.add_key()

    answer = gateway.post("/v1/touchpoints", "touchpoint_id=1", key, content_type="application/x-www-form-urlencoded")

    assert answer.status == 415 and answer.body["error"] == "unsupported_media_type", answer


def test_rate_limit_is_429_with_retry_after_and_the_key_recovers(gateway: GatewayRun) -> None:
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key(rate=3)
    other = gateway.add_key(rate=3)

    answers = [gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}-{i}"), key) for i in range(6)]
    other_key = gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}-other"), other)
    limited = [a for a in answers if a.status == 429]
    time.sleep(int(limited[0].headers["retry-after"]) if limited else 0)
    after_wait = gateway.post("/v1/touchpoints", _touchpoint(f"tp-{run}-later"), key)

    assert [a.status for a in answers[:3]] == [200, 200, 200]
    assert limited, [a.status for a in answers]
    assert all(a.headers["retry-after"].isdigit() and int(a.headers["retry-after"]) >= 1 for a in limited)
    assert limited[0].body["error"] == "rate_limited"
    assert other_key.status == 200  # limits are per key
    assert after_wait.status == 200, after_wait
    written = {m.key.decode() for m in _ours(gateway, TOPIC_TOUCHPOINTS, run)}
    assert len(written) == 6 - len(limited) + 2  # a refused request wrote nothing


def test_the_openapi_document_is_served_and_names_every_endpoint_and_status(gateway: GatewayRun) -> None:
    answer = gateway.request("GET", "/v1/openapi.json")

    assert answer.status == 200
    assert answer.body["openapi"].startswith("3.")
    post = answer.body["paths"]["/v1/feedback"]["post"]
    assert set(post["responses"]) == {"200", "401", "403", "408", "413", "415", "422", "429", "503"}
    assert set(post["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}


def test_a_retried_request_with_the_same_ids_is_answered_200_again(gateway: GatewayRun) -> None:
    """The gateway does not refuse a retry; the pipeline keeps one record per id (tested end to end in
    test_gateway_pipeline.py)."""
    run = uuid.uuid4().hex[:8]
    key = gateway.add_key()
    batch = [_feedback(f"fb-{run}-{i}") for i in range(3)]

    first = gateway.post("/v1/feedback", batch, key)
    retry = gateway.post("/v1/feedback", batch, key)

    assert (first.status, retry.status) == (200, 200)
    assert len(_ours(gateway, TOPIC_FEEDBACK, run)) == 6


def test_keys_file_holds_no_key_and_is_private(gateway: GatewayRun, tmp_path: Path) -> None:
    key = gateway.add_key()

    text = gateway.settings.gateway_keys_file.read_text()

    assert key.split("_", 2)[2] not in text and key not in text
    assert gateway.settings.gateway_keys_file.stat().st_mode & 0o077 == 0
    assert key not in gateway.log_text()
