"""Comment insights, rule by rule (cxstream/insights/lexicon.py and taxonomy.py; docs/INSIGHTS.md).

Each case is one short comment with the label and the drivers the rule gives it. The label is the
rule's point; the drivers show the taxonomy reads the same words as a topic whatever the polarity.
"""

from __future__ import annotations

import pytest

from cxstream.insights import CommentInsight, analyze, label_of
from cxstream.redaction import redact

# (comment, label, drivers)
SENTIMENT_RULES = [
    # service phrases plain VADER reads as neutral
    ("I was on hold for three hours.", "negative", ("efficiency",)),
    ("transferred three times and then the call dropped", "negative", ("efficiency",)),
    ("portal down again", "negative", ("ease",)),
    ("The website crashed twice and I couldn't log in.", "negative", ("ease",)),
    ("claim denied", "negative", ("effectiveness",)),
    ("refund still missing", "negative", ("effectiveness",)),
    ("never got a call back", "negative", ("efficiency",)),
    ("Took weeks to get a certificate of eligibility.", "negative", ("efficiency",)),
    ("Still not fixed.", "negative", ("effectiveness",)),
    ("They lost my file.", "negative", ("effectiveness",)),
    ("No idea where my claim is.", "negative", ("transparency",)),
    ("The letter makes no sense.", "negative", ("transparency",)),
    ("They treated me like a criminal.", "negative", ("humanity",)),
    ("The appointment is four months out.", "negative", ("efficiency",)),
    ("Sat there for 2 hours.", "negative", ("efficiency",)),
    # praise plain VADER misses or inverts
    ("Got it done in 10 minutes.", "positive", ("efficiency",)),
    ("Problem resolved on the first call.", "positive", ("effectiveness",)),
    ("I can't say enough good things about the staff.", "positive", ("employee",)),
    ("It could not have been easier.", "positive", ("ease",)),
    ("She went above and beyond.", "positive", ("employee",)),
    ("The clerk explained exactly what to bring.", "positive", ("transparency", "employee")),
    # lukewarm and service nouns
    ("ok", "neutral", ()),
    ("It was fine.", "neutral", ()),
    ("I called about my Social Security benefits.", "neutral", ()),
    ("I came in to drop off a form.", "neutral", ()),
    ("I need a copy of the death certificate letter.", "neutral", ()),
    ("Average experience, nothing special.", "neutral", ()),
]

NEGATION = [
    ("not rude at all", "positive", ("humanity",)),
    ("The agent was not rude.", "positive", ("humanity", "employee")),
    ("no wait", "positive", ("efficiency",)),
    ("No wait at all.", "positive", ("efficiency",)),
    ("Didn't have to wait.", "positive", ("efficiency",)),
    ("never called back", "negative", ("efficiency",)),
    ("Nobody ever called me back.", "negative", ("efficiency",)),
    ("Not slow at all.", "positive", ("efficiency",)),
    ("It wasn't easy to find the form.", "negative", ("ease",)),
    ("Not helpful.", "negative", ()),
    ("No problems.", "positive", ()),
    ("Zero hassle.", "positive", ("ease",)),
    ("Nobody helped me.", "negative", ("effectiveness",)),  # "nobody" is a negator VADER lacks
    ("I was never made to feel rushed.", "positive", ("humanity",)),
    ("The wait wasn't long.", "positive", ("efficiency",)),
    # a negation stops at the end of its sentence
    ("A same week appointment, which never happens. Pleasantly surprised.", "positive", ("efficiency",)),
]

SARCASM = [
    ("great, another 3 hours on hold", "negative", ("efficiency",)),
    ("Oh wonderful, the portal is down again.", "negative", ("ease",)),
    ("Perfect, my appointment got cancelled again.", "negative", ("effectiveness",)),
    ("Love spending my lunch break on hold.", "negative", ("efficiency",)),
    ("Thanks for nothing.", "negative", ()),
    ("Thanks a lot for losing my file.", "negative", ("effectiveness",)),
    # the same openers when the rest is not a complaint
    ("Great, thank you!", "positive", ()),
    ("I love being able to do it all online.", "positive", ("ease",)),
]

CONTRAST_AND_MIXED = [
    ("Helpful agent, terrible phone system.", "negative", ("ease", "employee")),
    ("The staff were nice but it took forever.", "negative", ("efficiency", "humanity", "employee")),
    ("Long wait, but the officer was kind and fixed my case.", "positive",
     ("effectiveness", "efficiency", "humanity", "employee")),
    ("The site is easy to use, however my refund is still not here.", "negative", ("effectiveness", "ease")),
    ("Slow process but I got what I needed in the end.", "positive", ("effectiveness", "efficiency")),
]

TYPOS = [
    ("wated 3 hrs on hold, agnet was rude", "negative", ("efficiency", "humanity", "employee")),
    ("the lady was so helpfull thank u", "positive", ("employee",)),
    ("appt cancled 3 times!!!", "negative", ("effectiveness",)),
    ("cant login", "negative", ("ease",)),
]

DRIVER_CUES = [
    ("The form is confusing.", ("ease",)),
    ("The letter is confusing.", ("transparency",)),
    ("Still waiting on my status.", ("efficiency", "transparency")),
    ("The representative treated me with respect.", ("humanity", "employee")),
    ("I could not reach a human.", ("employee",)),
    ("Claim approved!", ("effectiveness",)),
    ("The kiosk was easy.", ("ease",)),
    ("Nobody told me what documents I needed.", ("transparency",)),
    ("The parking lot was full.", ()),  # 'other' on the form: the analyzer names no driver
]


def _check(comment: str, label: str, drivers: tuple[str, ...]) -> None:
    insight = analyze(comment)
    assert insight is not None
    assert (insight.label, insight.drivers) == (label, drivers), insight


@pytest.mark.parametrize(("comment", "label", "drivers"), SENTIMENT_RULES, ids=[c for c, *_ in SENTIMENT_RULES])
def test_service_vocabulary(comment: str, label: str, drivers: tuple[str, ...]) -> None:
    _check(comment, label, drivers)


@pytest.mark.parametrize(("comment", "label", "drivers"), NEGATION, ids=[c for c, *_ in NEGATION])
def test_negation_turns_the_label_and_keeps_the_driver(comment: str, label: str, drivers: tuple[str, ...]) -> None:
    _check(comment, label, drivers)


@pytest.mark.parametrize(("comment", "label", "drivers"), SARCASM, ids=[c for c, *_ in SARCASM])
def test_sarcastic_openers(comment: str, label: str, drivers: tuple[str, ...]) -> None:
    _check(comment, label, drivers)


@pytest.mark.parametrize(("comment", "label", "drivers"), CONTRAST_AND_MIXED, ids=[c for c, *_ in CONTRAST_AND_MIXED])
def test_contrast_and_mixed_feelings(comment: str, label: str, drivers: tuple[str, ...]) -> None:
    _check(comment, label, drivers)


@pytest.mark.parametrize(("comment", "label", "drivers"), TYPOS, ids=[c for c, *_ in TYPOS])
def test_common_misspellings(comment: str, label: str, drivers: tuple[str, ...]) -> None:
    _check(comment, label, drivers)


@pytest.mark.parametrize(("comment", "drivers"), DRIVER_CUES, ids=[c for c, _ in DRIVER_CUES])
def test_driver_cues(comment: str, drivers: tuple[str, ...]) -> None:
    insight = analyze(comment)
    assert insight is not None and insight.drivers == drivers


@pytest.mark.parametrize("blank", [None, "", " ", "\n\t  "])
def test_no_comment_is_none(blank: str | None) -> None:
    assert analyze(blank) is None


@pytest.mark.parametrize("placeholder", ["[EMAIL]", "[PHONE]", "[CARD]", "[SSN]", "[ADDRESS]", "[phone]", "[email]"])
def test_a_placeholder_alone_is_a_comment_with_nothing_to_read(placeholder: str) -> None:
    assert analyze(placeholder) == CommentInsight(0.0, "neutral", ())
    assert analyze(f"Please reach me at {placeholder}.") == analyze("Please reach me at.")


def test_what_redaction_writes_is_not_read_as_content() -> None:
    raw = ("Call me at 555-123-4567 or write to jane.doe@example.com, card 4111 1111 1111 1111, "
           "SSN 123-45-6789, I live at 12 Main St")
    redacted = redact(raw)
    for kind in ("EMAIL", "PHONE", "CARD", "SSN", "ADDRESS"):
        assert f"[{kind}]" in redacted
    insight = analyze(redacted)
    # "phone", "card", "address" are words the taxonomy and the lexicon could read; the placeholders are not
    assert insight == CommentInsight(0.0, "neutral", ())
    assert analyze("The agent was rude. Call me at [PHONE].") == analyze("The agent was rude. Call me at.")


def test_the_insight_is_frozen_and_typed() -> None:
    insight = analyze("The clerk was kind.")
    assert insight is not None
    assert isinstance(insight.sentiment, float) and -1.0 <= insight.sentiment <= 1.0
    assert insight.label == label_of(insight.sentiment)
    with pytest.raises(AttributeError):
        insight.label = "negative"  # type: ignore[misc]


def test_label_cut_offs() -> None:
    assert [label_of(x) for x in (-1.0, -0.05, -0.0499, 0.0, 0.0499, 0.05, 1.0)] == [
        "negative", "negative", "neutral", "neutral", "neutral", "positive", "positive"]


def test_drivers_follow_the_vocabulary_order_and_never_other() -> None:
    insight = analyze("The rude clerk kept me on hold, the letter was unclear, the form crashed and my claim was denied.")
    assert insight is not None
    assert insight.drivers == ("effectiveness", "ease", "efficiency", "transparency", "humanity", "employee")


def test_non_english_is_neutral_without_drivers() -> None:
    for comment in ("Esperé tres horas en el teléfono.", "Tôi đợi rất lâu.", "网站太复杂了。", "Salamat po."):
        assert analyze(comment) == CommentInsight(0.0, "neutral", ())


def test_curly_apostrophes_read_as_straight_ones() -> None:
    assert analyze("I didn\u2019t have to wait.") == analyze("I didn't have to wait.")


def test_a_long_comment_is_read_whole() -> None:
    comment = ("I went to the office on Monday. " * 60)[:1950] + " I waited four hours and the clerk was rude."
    insight = analyze(comment)
    assert insight is not None and insight.label == "negative"
    assert insight.drivers == ("efficiency", "humanity", "employee")
