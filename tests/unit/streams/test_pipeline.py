"""The worker's stages in process (tests/support/pipeline.py): join in any order, dedupe, fallbacks,
bad input, late input, alerts, and a generated data set scored exactly.

The same behaviours run end to end on the real broker in tests/integration/test_worker.py, one
per family; here each one takes milliseconds, and time is the test's to move.
"""

from __future__ import annotations

import pytest

from cxstream.schemas.records import A11V2, Alert, Feedback, Touchpoint
from cxstream.streams.partitioning import home_partition
from cxstream.streams.windows import window_start_ms
from cxstream.vocabulary import TOPIC_FEEDBACK, TOPIC_TOUCHPOINTS
from tests.support.ground_truth import generate
from tests.support.pipeline import Clock, Pipeline, pipeline_settings

NOW = 1_796_300_000_000
WINDOW = window_start_ms(NOW - 120_000)
JOIN_WAIT_S = 3


@pytest.fixture
def pipe() -> Pipeline:
    """Join wait 3 s, window retention 1 h, as the real-stack worker tests use."""
    return Pipeline(pipeline_settings(join_wait_seconds=JOIN_WAIT_S, window_retention_seconds=3600), Clock(NOW))


def _tp(tp_id: str, agency: str = "VA", channel: str = "phone") -> Touchpoint:
    return Touchpoint(tp_id, NOW - 180_000, agency, "claims", channel)


def _fb(fb_id: str, tp_id: str | None, answers: dict[str, int], at: int = NOW - 120_000, **own: str) -> Feedback:
    return Feedback(fb_id, at, answers, tp_id, None, own.get("agency"), own.get("service"), own.get("channel"))


def _cell(pipe: Pipeline, agency: str, channel: str, domain: str, service: str = "claims",
          window: int = WINDOW) -> tuple[int, ...] | None:
    return pipe.counts().get((window, agency, service, channel, domain))


def _wait_out_the_join(pipe: Pipeline) -> None:
    pipe.clock.now_ms += JOIN_WAIT_S * 1000
    pipe.settle()


def test_feedback_before_touchpoint_is_joined_when_it_arrives(pipe: Pipeline) -> None:
    pipe.send_feedback(_fb("fb-1", "tp-1", {"satisfaction": 4, "trust": 2}))
    pipe.settle()
    assert pipe.scores() == {}
    pipe.send_touchpoint(_tp("tp-1"))
    pipe.settle()
    assert _cell(pipe, "VA", "phone", "trust") == (0, 1, 0, 0, 0)
    assert _cell(pipe, "VA", "phone", "satisfaction") == (0, 0, 0, 1, 0)
    [stored] = pipe.enriched()
    assert stored.matched and stored.agency == "VA" and stored.channel == "phone"


def test_feedback_after_touchpoint_is_attributed_at_once(pipe: Pipeline) -> None:
    pipe.send_touchpoint(_tp("tp-1", channel="website"))
    pipe.send_feedback(_fb("fb-1", "tp-1", {"ease": 5}))
    pipe.settle()
    assert _cell(pipe, "VA", "website", "ease") == (0, 0, 0, 0, 1)


def test_a_retried_feedback_counts_once_and_is_stored_once(pipe: Pipeline) -> None:
    pipe.send_touchpoint(_tp("tp-1"))
    for _ in range(3):
        pipe.send_feedback(_fb("fb-1", "tp-1", {"quality": 3}))
    pipe.settle()
    assert _cell(pipe, "VA", "phone", "quality") == (0, 0, 1, 0, 0)
    assert [e.feedback_id for e in pipe.enriched()] == ["fb-1"]


def test_wrong_and_missing_keys_still_meet_their_partner(pipe: Pipeline) -> None:
    home = home_partition(b"tp-1", 6)
    pipe.send_touchpoint(_tp("tp-1"), key=b"not-the-touchpoint-id", partition=(home + 1) % 6)
    pipe.send_feedback(_fb("fb-1", "tp-1", {"efficiency": 1}), key=None, partition=(home + 2) % 6)
    pipe.settle()
    assert _cell(pipe, "VA", "phone", "efficiency") == (1, 0, 0, 0, 0)
    assert [e.matched for e in pipe.enriched()] == [True]


def test_direct_survey_uses_its_own_attribution(pipe: Pipeline) -> None:
    pipe.send_feedback(_fb("fb-1", None, {"equity": 4}, agency="USDA", service="farm-loans", channel="paper"))
    pipe.settle()
    assert _cell(pipe, "USDA", "paper", "equity", service="farm-loans") == (0, 0, 0, 1, 0)


def test_feedback_without_its_touchpoint_falls_back_after_join_wait(pipe: Pipeline) -> None:
    pipe.send_feedback(_fb("fb-own", "tp-missing", {"helpfulness": 5}, agency="VA", service="claims", channel="fax"))
    pipe.send_feedback(_fb("fb-none", "tp-missing-2", {"trust": 1}))
    pipe.settle()
    pipe.clock.now_ms += JOIN_WAIT_S * 1000 - 1
    pipe.settle()
    assert pipe.enriched() == []  # still waiting
    pipe.clock.now_ms += 1
    pipe.settle()
    assert _cell(pipe, "VA", "fax", "helpfulness") == (0, 0, 0, 0, 1)
    unmatched = {e.feedback_id: e for e in pipe.enriched()}["fb-none"]
    assert (unmatched.agency, unmatched.service, unmatched.channel, unmatched.matched) == (
        "unknown", "unknown", "unknown", False)
    # The touchpoint arriving later releases nothing twice.
    pipe.send_touchpoint(_tp("tp-missing"))
    pipe.settle()
    assert len(pipe.enriched()) == 2 and _cell(pipe, "VA", "fax", "helpfulness") == (0, 0, 0, 0, 1)


def test_bad_input_is_dead_lettered_with_its_position_and_scoring_goes_on(pipe: Pipeline) -> None:
    not_avro = pipe.send_raw(TOPIC_FEEDBACK, b"k1", b'{"json": "where Avro is expected"}')
    bad_answer = pipe.codec.encode("Feedback", {**_fb("fb-bad", None, {"trust": 4}, agency="VA", service="s",
                                                      channel="phone").to_avro(), "answers": {"trust": 6}})
    invalid = pipe.send_raw(TOPIC_FEEDBACK, b"k2", bad_answer)
    pipe.send_feedback(_fb("fb-good", None, {"trust": 4}, agency="VA", service="s", channel="phone"))
    pipe.settle()
    assert _cell(pipe, "VA", "phone", "trust", service="s") == (0, 0, 0, 1, 0)
    letters = {(d.source_topic, d.partition, d.offset): d for d in pipe.dead_letters()}
    assert letters[(not_avro.topic, not_avro.partition, not_avro.offset)].reason == "not_single_object"
    letter = letters[(invalid.topic, invalid.partition, invalid.offset)]
    assert letter.reason == "invalid" and "answers.trust: out_of_range" in letter.detail
    assert (letter.key, letter.raw) == (b"k2", bad_answer)


def test_a_record_on_the_other_input_topic_is_dead_lettered_as_the_wrong_type(pipe: Pipeline) -> None:
    feedback = _fb("fb-1", None, {"trust": 4}, agency="VA", service="s", channel="phone")
    on_touchpoints = pipe.send_raw(TOPIC_TOUCHPOINTS, b"fb-1", pipe.codec.encode_record(feedback))
    on_feedback = pipe.send_raw(TOPIC_FEEDBACK, b"tp-1", pipe.codec.encode_record(_tp("tp-1")))
    pipe.settle()
    assert {(d.source_topic, d.offset, d.reason) for d in pipe.dead_letters()} == {
        (on_touchpoints.topic, on_touchpoints.offset, "wrong_record_type"),
        (on_feedback.topic, on_feedback.offset, "wrong_record_type")}
    assert pipe.scores() == {} and pipe.enriched() == []


def test_late_feedback_is_stored_and_dead_lettered_with_the_position_the_channel_sent(pipe: Pipeline) -> None:
    late_at = NOW - 2 * 3_600_000
    late = _fb("fb-late", None, {"trust": 1}, at=late_at, agency="VA", service="s", channel="phone")
    sent = pipe.send_feedback(late, key=None, partition=5)  # wrongly keyed too: forwarded before judged
    pipe.settle()
    [letter] = pipe.dead_letters()
    assert (letter.reason, letter.source_topic, letter.partition, letter.offset, letter.key, letter.raw) == (
        "too_late", sent.topic, 5, sent.offset, None, sent.value)
    assert [e.feedback_id for e in pipe.enriched()] == ["fb-late"]  # still stored
    assert pipe.scores() == {}


def test_one_message_from_a_fast_clock_does_not_shrink_the_retention_of_others(pipe: Pipeline) -> None:
    ahead, behind = NOW + 55 * 60_000, NOW - 40 * 60_000  # windows are kept 1 h
    pipe.send_feedback(_fb("fb-ahead", None, {"ease": 5}, at=ahead, agency="VA", service="s", channel="phone"),
                       partition=0)
    pipe.send_feedback(_fb("fb-behind", None, {"ease": 2}, at=behind, agency="VA", service="s", channel="phone"),
                       partition=0)
    pipe.settle()
    assert _cell(pipe, "VA", "phone", "ease", service="s", window=window_start_ms(behind)) == (0, 1, 0, 0, 0)
    assert pipe.dead_letters() == []


def test_the_copy_received_first_wins_even_when_a_later_copy_is_joined_sooner(pipe: Pipeline) -> None:
    pipe.send_touchpoint(_tp("tp-known", channel="website"))
    pipe.settle()
    pipe.send_feedback(_fb("fw-1", "tp-never", {"satisfaction": 1}, agency="VA", service="claims", channel="fax"))
    pipe.settle()
    pipe.clock.now_ms += 1_000
    pipe.send_feedback(_fb("fw-1", "tp-known", {"satisfaction": 5}))
    pipe.settle()
    assert pipe.scores() == {}  # the retry was released at once, and lost to the first copy's claim
    _wait_out_the_join(pipe)
    assert _cell(pipe, "VA", "fax", "satisfaction") == (1, 0, 0, 0, 0)
    assert _cell(pipe, "VA", "website", "satisfaction") is None
    [stored] = pipe.enriched()
    assert (stored.channel, stored.matched, stored.answers) == ("fax", False, {"satisfaction": 1})


def test_a_drop_in_a_rolling_score_fires_an_alert_and_recovery_resolves_it(pipe: Pipeline) -> None:
    own = {"agency": "VA", "service": "claims", "channel": "phone"}
    for i in range(35):  # strongly disagree: 0% positive, above the min-n of 30
        pipe.send_feedback(_fb(f"low-{i}", None, {"trust": 1}, at=NOW - 60_000, **own))
    pipe.settle()
    fired: list[Alert] = pipe.alerts()
    assert [(a.state, a.domain, a.responses, a.pct_positive) for a in fired] == [("firing", "trust", 35, 0.0)]
    assert (fired[0].threshold, fired[0].min_responses) == (60.0, 30)
    for i in range(100):
        pipe.send_feedback(_fb(f"high-{i}", None, {"trust": 5}, at=NOW - 60_000, **own))
    pipe.settle()
    assert [a.state for a in pipe.alerts()] == ["firing", "resolved"]
    assert pipe.alerts()[-1].pct_positive == pytest.approx(100 * 100 / 135)


def test_the_alert_stage_reads_its_states_again_when_its_partitions_change(pipe: Pipeline) -> None:
    own = {"agency": "VA", "service": "claims", "channel": "phone"}
    for i in range(35):
        pipe.send_feedback(_fb(f"low-{i}", None, {"trust": 1}, at=NOW - 60_000, **own))
    pipe.settle()
    assert [a.state for a in pipe.alerts()] == ["firing"]
    # Another worker owned the partition meanwhile and its state says nothing fires (the store
    # was restored from its changelog): the stage must not go on from the states it kept.
    states = pipe.tables["alert"]["alert-states"]
    for key, value in list(states.items()):
        states[key] = {domain: {**state, "firing": False} for domain, state in value.items()}
    pipe.stage("alert").on_assigned(set(range(pipe.settings.partitions)))
    for i in range(5):
        pipe.send_feedback(_fb(f"more-low-{i}", None, {"trust": 1}, at=NOW - 60_000, **own))
    pipe.settle()
    assert [a.state for a in pipe.alerts()] == ["firing", "firing"]


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_a_generated_data_set_scores_exactly_its_ground_truth(seed: int) -> None:
    """Out of order, retried and direct feedback across every partition (tests/support/ground_truth.py)."""
    pipe = Pipeline(pipeline_settings(join_wait_seconds=300), Clock(NOW))
    dataset = generate(seed=seed, agency_prefix="G", touchpoints=400, now_ms=NOW)
    for message in dataset.messages:
        if isinstance(message, Touchpoint):
            pipe.send_touchpoint(message)
        else:
            pipe.send_feedback(message)
    pipe.settle()
    assert pipe.counts() == dataset.expected
    assert len({e.feedback_id for e in pipe.enriched()}) == len(pipe.enriched())


@pytest.mark.parametrize(("seed", "form"), [(21, "v2"), (22, "mixed"), (23, "mixed")])
def test_the_current_form_scores_exactly_each_scale_and_driver_on_its_own(seed: int, form: str) -> None:
    """v2 and mixed traffic (v1 only, v2 only, both in one feedback): domains, trust per scale and
    drivers each equal the ground truth; thumbs and five-point answers never share a row."""
    pipe = Pipeline(pipeline_settings(join_wait_seconds=300), Clock(NOW))
    dataset = generate(seed=seed, agency_prefix="F", touchpoints=300, now_ms=NOW, form=form)
    for message in dataset.messages:
        if isinstance(message, Touchpoint):
            pipe.send_touchpoint(message)
        else:
            pipe.send_feedback(message)
    pipe.settle()
    assert pipe.counts() == dataset.expected
    trust = {k: (s.count_0, s.count_1, s.count_2, s.count_3, s.count_4, s.count_5)
             for k, s in pipe.trust_scores().items()}
    assert trust == dataset.expected_trust and trust
    for key, score in pipe.trust_scores().items():
        scale = key[-1]
        if scale == "thumbs":
            assert score.count_2 == score.count_3 == score.count_4 == score.count_5 == 0
            assert score.favourable == score.count_1
        else:
            assert score.count_0 == 0 and score.favourable == score.count_4 + score.count_5
        assert score.pct_favourable == pytest.approx(100 * score.favourable / score.responses)
    drivers = {k: (s.offered, s.went_well, s.did_not_go_well) for k, s in pipe.driver_scores().items()}
    assert drivers == dataset.expected_drivers and drivers
    stored = {e.feedback_id: e for e in pipe.enriched()}
    assert set(stored) == set(dataset.accepted)
    assert all(stored[fid].a11_v2 == fb.a11_v2 for fid, (fb, _) in dataset.accepted.items())


def test_a_falling_trust_on_the_current_form_fires_an_alert_per_scale(pipe: Pipeline) -> None:
    own = {"agency": "VA", "service": "claims", "channel": "website"}
    v2 = A11V2(0, "thumbs", (), ("ease",), ("effectiveness", "ease"))
    for i in range(35):
        pipe.send_feedback(Feedback(f"down-{i}", NOW - 60_000, {}, None, None, a11_v2=v2, **own))
    pipe.settle()
    [alert] = pipe.alerts()
    assert (alert.domain, alert.state, alert.responses, alert.pct_positive) == ("v2_trust_thumbs", "firing", 35, 0.0)
    assert pipe.counts() == {}  # thumbs never become a 1-5 domain score


def test_a_comment_sent_as_avro_straight_to_kafka_is_redacted_before_it_is_stored(pipe: Pipeline) -> None:
    """The entry points redact the JSON form; a producer writing Avro itself skips them."""
    said = "Call me at 202-555-0143 or mail jane.doe@example.org, SSN 123-45-6789"
    pipe.send_feedback(Feedback("fb-pii", NOW - 60_000, {"trust": 2}, None, said, "VA", "claims", "phone"))
    pipe.settle()
    [stored] = pipe.enriched()
    assert stored.comment is not None
    assert "555-0143" not in stored.comment and "jane.doe" not in stored.comment and "6789" not in stored.comment
    assert "[PHONE]" in stored.comment and "[EMAIL]" in stored.comment
