"""The contract's vocabulary, defined once: domains, channels, outcomes, topics.

Every other module imports these names; nothing else spells them out.
"""

from typing import Final

#: A-11 Section 280 CX domains, in the contract's (and the A-11 q1..q7) order.
DOMAINS: Final[tuple[str, ...]] = (
    "satisfaction",
    "trust",
    "quality",
    "ease",
    "efficiency",
    "equity",
    "helpfulness",
)

#: GSA Touchpoints channel vocabulary (18 values), adopted by the contract.
CHANNELS: Final[tuple[str, ...]] = (
    "computer",
    "mobile",
    "email",
    "chatbot",
    "phone",
    "automated_phone",
    "in_person",
    "paper",
    "postal_mail",
    "fax",
    "self_service_kiosk",
    "other_non_digital",
    "website",
    "mobile_app",
    "live_chat",
    "sms_text_messages",
    "social_media",
    "other_digital",
)

OUTCOMES: Final[tuple[str, ...]] = ("completed", "abandoned", "transferred", "escalated")

#: Placeholder for agency, service or channel when a feedback can be attributed to nothing.
UNKNOWN: Final[str] = "unknown"

MIN_ANSWER: Final[int] = 1
MAX_ANSWER: Final[int] = 5
#: Answers at or above this count as positive (4 = agree, 5 = strongly agree).
POSITIVE_ANSWER: Final[int] = 4

TOPIC_TOUCHPOINTS: Final[str] = "cx.touchpoints.v1"
TOPIC_FEEDBACK: Final[str] = "cx.feedback.v1"
TOPIC_SCORES: Final[str] = "cx.scores.v1"
TOPIC_ALERTS: Final[str] = "cx.alerts.v1"
TOPIC_DEADLETTER: Final[str] = "cx.deadletter.v1"

#: The project's storage feed: one accepted feedback per feedback_id, with its attribution.
TOPIC_FEEDBACK_ENRICHED: Final[str] = "cx.feedback.enriched.v1"

#: Every topic the pipeline reads or writes (the contract's and the storage feed);
#: the two input topics must be co-partitioned.
CONTRACT_TOPICS: Final[tuple[str, ...]] = (
    TOPIC_TOUCHPOINTS,
    TOPIC_FEEDBACK,
    TOPIC_SCORES,
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_FEEDBACK_ENRICHED,
)
INPUT_TOPICS: Final[tuple[str, ...]] = (TOPIC_TOUCHPOINTS, TOPIC_FEEDBACK)
