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

# --- the current A-11 form (FY2024 on, "A-11 v2"): docs/A11.md --------------------------------
#: The drivers of the "What went well?" / "What didn't go so well?" checklists, in this order.
DRIVERS: Final[tuple[str, ...]] = (
    "effectiveness", "ease", "efficiency", "transparency", "humanity", "employee", "other",
)
#: Every form offers at least these drivers.
REQUIRED_DRIVERS: Final[tuple[str, ...]] = ("effectiveness", "ease")
#: How the trust question is asked: thumbs up (1) / down (0), or a 1..5 agreement radio.
TRUST_SCALES: Final[tuple[str, ...]] = ("thumbs", "five_point")
#: Trust answers each scale allows, and which of them are favourable.
TRUST_VALUES: Final[dict[str, tuple[int, ...]]] = {"thumbs": (0, 1), "five_point": (1, 2, 3, 4, 5)}
FAVOURABLE_TRUST: Final[dict[str, frozenset[int]]] = {"thumbs": frozenset({1}), "five_point": frozenset({4, 5})}
#: Where in a customer's journey the survey was offered.
TRANSACTION_POINTS: Final[tuple[str, ...]] = ("post_interaction", "post_service_journey", "relational")
DEFAULT_TRANSACTION_POINT: Final[str] = "post_interaction"
#: How the v1 domains line up with the v2 drivers (satisfaction has no v2 question; trust is the
#: v2 trust question itself; humanity and other are new).
DOMAIN_OF_DRIVER: Final[dict[str, str]] = {
    "effectiveness": "quality", "ease": "ease", "efficiency": "efficiency", "transparency": "equity",
    "employee": "helpfulness",
}

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
#: Live window results of the current A-11 form: the trust question per scale, and each driver.
TOPIC_TRUST_SCORES: Final[str] = "cx.trust_scores.v1"
TOPIC_DRIVER_SCORES: Final[str] = "cx.driver_scores.v1"

#: Every topic the pipeline reads or writes (the contract's and the storage feed);
#: the two input topics must be co-partitioned.
CONTRACT_TOPICS: Final[tuple[str, ...]] = (
    TOPIC_TOUCHPOINTS,
    TOPIC_FEEDBACK,
    TOPIC_SCORES,
    TOPIC_ALERTS,
    TOPIC_DEADLETTER,
    TOPIC_FEEDBACK_ENRICHED,
    TOPIC_TRUST_SCORES,
    TOPIC_DRIVER_SCORES,
)
INPUT_TOPICS: Final[tuple[str, ...]] = (TOPIC_TOUCHPOINTS, TOPIC_FEEDBACK)
