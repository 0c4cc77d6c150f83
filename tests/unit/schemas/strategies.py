"""Hypothesis strategies for valid records of every contract type."""

from __future__ import annotations

from hypothesis import strategies as st

from cxstream.schemas.records import Alert, DeadLetter, DomainScore, EnrichedFeedback, Feedback, Touchpoint
from cxstream.vocabulary import CHANNELS, DOMAINS, OUTCOMES

ids = st.text(min_size=1, max_size=64).filter(lambda s: s.strip() != "")
names = st.text(min_size=1, max_size=128).filter(lambda s: s.strip() != "")
millis = st.integers(min_value=946_684_800_000, max_value=4_102_444_800_000)
counts = st.integers(min_value=0, max_value=2**40)
maybe_seconds = st.none() | st.integers(min_value=0, max_value=2**31 - 1)
doubles = st.floats(allow_nan=False, allow_infinity=False)

touchpoints = st.builds(
    Touchpoint,
    touchpoint_id=ids, occurred_at=millis, agency=names, service=names,
    channel=st.sampled_from(CHANNELS), outcome=st.none() | st.sampled_from(OUTCOMES),
    wait_seconds=maybe_seconds, handle_seconds=maybe_seconds, survey_offered=st.none() | st.booleans(),
)
feedbacks = st.builds(
    Feedback,
    feedback_id=ids, submitted_at=millis,
    answers=st.dictionaries(st.sampled_from(DOMAINS), st.integers(1, 5), min_size=1, max_size=7),
    touchpoint_id=st.none() | ids, comment=st.none() | st.text(max_size=2000),
    agency=st.none() | names, service=st.none() | names, channel=st.none() | st.sampled_from(CHANNELS),
)
domain_scores = st.builds(
    DomainScore,
    window_start=millis, window_seconds=st.just(60), agency=names, service=names,
    channel=st.sampled_from((*CHANNELS, "unknown")), domain=st.sampled_from(DOMAINS),
    responses=counts, count_1=counts, count_2=counts, count_3=counts, count_4=counts, count_5=counts,
    mean=doubles, pct_positive=doubles, version=st.integers(0, 2**62),
)
alerts = st.builds(
    Alert,
    agency=names, service=names, domain=st.sampled_from(DOMAINS), state=st.sampled_from(("firing", "resolved")),
    pct_positive=doubles, responses=counts, threshold=doubles, min_responses=counts,
    window_end=millis, raised_at=millis,
)
dead_letters = st.builds(
    DeadLetter,
    source_topic=names, partition=st.integers(0, 2**31 - 1), offset=st.integers(0, 2**62),
    key=st.none() | st.binary(max_size=100), reason=names, detail=st.text(max_size=500),
    received_at=millis, raw=st.binary(max_size=2000),
)
enriched = st.builds(
    EnrichedFeedback,
    feedback_id=ids, touchpoint_id=st.none() | ids, submitted_at=millis, agency=names, service=names,
    channel=st.sampled_from((*CHANNELS, "unknown")), matched=st.booleans(),
    answers=st.dictionaries(st.sampled_from(DOMAINS), st.integers(1, 5), min_size=1, max_size=7),
    comment=st.none() | st.text(max_size=2000),
)
