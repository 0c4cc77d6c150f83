"""Realistic, seeded service traffic: touchpoints and survey feedback in the contract's JSON form.

Pure: :class:`TrafficGenerator` turns a seed and a start time into a stream of events ordered by
when a channel would send them; ``generate_cli`` paces them against the wall clock or writes files.

Feedback comes on the 2019-2023 form (``answers``: the seven 1-5 statements), on the current A-11
form (``a11_v2``: trust on a thumbs or five-point scale, "what went well" / "what didn't go well"
driver checklists, the transaction point), or both (``form``: v1, v2 or mixed). The traffic itself
(touchpoints, which of them get feedback, when it is sent, its v1 answers) is the same whatever the
form: the current form's choices are drawn from a random stream of their own, so ``form="v1"``
gives exactly what the generator gave before the current form existed, comments aside.

Comments (``write_comment``) follow each respondent's answers on the form asked: whether they
write one, how it leans, the drivers it names, and in an incident's cell what the incident broke.
They are written from a random stream of their own too, so they change no other field.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cxstream.errors import CxstreamError
from cxstream.vocabulary import (
    DOMAIN_OF_DRIVER,
    DOMAINS,
    DRIVERS,
    FAVOURABLE_TRUST,
    MAX_ANSWER,
    MIN_ANSWER,
    POSITIVE_ANSWER,
    REQUIRED_DRIVERS,
    TRUST_SCALES,
)

#: Channels staffed by people: only these are asked the employee helpfulness question (v1), and
#: only their forms offer the employee driver (v2).
STAFFED = frozenset({"phone", "in_person", "live_chat", "email", "postal_mail"})


@dataclass(frozen=True)
class ChannelProfile:
    """How one channel behaves: typical wait, abandonment, and its answers' mean (1..5)."""

    mean_wait: float
    mean_handle: float
    abandon: float
    score: float


PROFILES: dict[str, ChannelProfile] = {
    "phone": ChannelProfile(mean_wait=240, mean_handle=420, abandon=0.12, score=4.1),
    "automated_phone": ChannelProfile(mean_wait=20, mean_handle=150, abandon=0.15, score=4.0),
    "in_person": ChannelProfile(mean_wait=900, mean_handle=600, abandon=0.04, score=4.6),
    "website": ChannelProfile(mean_wait=2, mean_handle=300, abandon=0.08, score=4.4),
    "mobile_app": ChannelProfile(mean_wait=1, mean_handle=200, abandon=0.06, score=4.5),
    "live_chat": ChannelProfile(mean_wait=60, mean_handle=360, abandon=0.07, score=4.3),
    "email": ChannelProfile(mean_wait=3600, mean_handle=240, abandon=0.02, score=4.1),
    "postal_mail": ChannelProfile(mean_wait=86400, mean_handle=900, abandon=0.01, score=4.0),
    "self_service_kiosk": ChannelProfile(mean_wait=30, mean_handle=180, abandon=0.05, score=4.3),
}

#: Agencies of A-11's High-Impact Service Providers, a few of their services, and their channels.
CATALOG: dict[str, dict[str, tuple[str, ...]]] = {
    "VA": {
        "disability-claims": ("phone", "website", "in_person", "postal_mail"),
        "health-appointments": ("phone", "mobile_app", "in_person"),
        "gi-bill": ("website", "phone", "email"),
    },
    "USDA": {
        "snap-benefits": ("in_person", "phone", "website"),
        "farm-loans": ("in_person", "website", "phone"),
    },
    "Commerce": {
        "patent-applications": ("website", "email", "phone"),
        "census-response": ("website", "phone", "postal_mail"),
    },
    "Treasury": {
        "tax-filing": ("website", "phone", "in_person", "mobile_app"),
        "refund-status": ("website", "automated_phone", "mobile_app"),
        "savings-bonds": ("website", "postal_mail"),
    },
    "State": {
        "passport-renewal": ("website", "postal_mail", "in_person", "phone"),
        "visa-appointments": ("website", "in_person", "live_chat"),
    },
    "SSA": {
        "retirement-benefits": ("phone", "in_person", "website"),
        "replacement-card": ("self_service_kiosk", "website", "in_person"),
    },
}

#: The generator once picked comments from a fixed list: a comment 15% of the time, one of 8. Those
#: draws are still made from the traffic's random stream, so a seed's touchpoints, timing and
#: answers stay what they were; comments are written from a stream of their own (write_comment).
LEGACY_COMMENT_SHARE = 0.15
LEGACY_COMMENT_CHOICES = 8

# Shares of the odd cases a real collection sees (of feedback, not of touchpoints).
EARLY_SHARE = 0.05  # the feedback is sent before its touchpoint reaches Kafka
DUPLICATE_SHARE = 0.02  # a channel retries and sends the same feedback twice
DIRECT_SHARE = 0.03  # a survey not tied to one interaction (no touchpoint_id)
INCIDENT_DROP = 2.0  # how far an incident pulls the answers' mean down (on the 1..5 scale)

# --- the current A-11 form (a11_v2) -----------------------------------------------------------
#: ``form`` values: the 2019-2023 seven statements, the current form, or some of each.
FORMS = ("v1", "v2", "mixed")
#: In ``mixed``, what a feedback carries: agencies move from the old form to the new one channel
#: by channel (old survey links and IVR scripts linger), and a few ask both for a while to bridge
#: their series.
MIXED_KINDS: dict[str, float] = {"v1": 0.35, "v2": 0.5, "both": 0.15}
#: GSA's digital channels. Thumbs up/down is a one-tap widget, the common choice on a screen; a
#: phone line (press 1 to 5), a paper or mailed card and a counter's tablet more often keep the
#: five-point radio.
DIGITAL = frozenset({"computer", "mobile", "email", "chatbot", "website", "mobile_app", "live_chat",
                     "sms_text_messages", "social_media", "other_digital"})
THUMBS_SHARE_DIGITAL = 0.8  # of digital cells whose survey asks trust with thumbs
THUMBS_SHARE_OTHER = 0.3  # of the other cells
#: Agencies deploy one survey per touchpoint: a response uses its cell's survey this often, else the
#: cell's other instrument (the other scale, e.g. an older widget still linked from some pages).
FORM_CONSISTENCY = 0.9
#: How often a survey offers each driver beyond the required effectiveness and ease (employee only
#: where people serve: STAFFED).
OPTIONAL_DRIVER_SHARE: dict[str, float] = {
    "efficiency": 0.85, "transparency": 0.6, "humanity": 0.5, "employee": 0.9, "other": 0.4,
}
#: A cell's survey is sent right after the interaction, or at the end of the customer's journey
#: (the claim decided, the passport mailed) and then still names the last touchpoint.
POST_SERVICE_JOURNEY_SHARE = 0.15
#: A survey tied to no interaction (no touchpoint_id) is a periodic one.
DIRECT_RELATIONAL_SHARE = 0.6  # relational, else post_service_journey
#: A driver "went well" for the respondent when its experience (the respondent's mood on the 1..5
#: scale, moved by what happened: a long wait, an incident) is at least this, else it did not.
DRIVER_GOOD = 3.5
DRIVER_NOISE = 0.8
#: The chance a respondent ticks a driver that went well / did not, by how they answered trust:
#: satisfied customers tick a few things that went well and rarely a complaint; unhappy ones say
#: what went wrong (most of it) and seldom what went well; a five-point 3 does some of both.
TICKS: dict[str, tuple[float, float]] = {
    "favourable": (0.55, 0.08), "neutral": (0.3, 0.4), "unfavourable": (0.1, 0.8),
}
OTHER_TICK_FACTOR = 0.3  # "other" is the catch-all: ticked far less often than a named driver
#: What an incident breaks (a phone line's waits explode, a web form times out): it takes this
#: much from these drivers, which then explain the fall in trust; staff stay as helpful as ever.
INCIDENT_DRIVER_DROP: dict[str, float] = {"efficiency": 2.5, "ease": 2.0, "effectiveness": 1.0, "transparency": 0.5}
LONG_WAIT_EFFICIENCY_DROP = 1.0  # a wait over twice the channel's mean: efficiency did not go well
UNRESOLVED_EFFECTIVENESS_DROP = 1.0  # abandoned, transferred or escalated: the need was not addressed

# --- comments -----------------------------------------------------------------------------------
# A respondent's comment follows what they answered: unhappy respondents complain, happy ones
# praise, many write something neutral; it names the drivers that went badly (or well), those
# they ticked on the current form or answered low (or high) on the 2019-2023 one; in an incident's
# cell most complaints are about what the incident broke (long holds, dropped calls, a portal
# that is down). Every sentence below was written for the generator (none is a real comment, none
# carries personal data) and is tagged with how it leans and the drivers it talks about, which is
# how cxstream.insights reads it (tests/unit/test_generate.py checks every sentence in every slot).
NEGATIVE, NEUTRAL, POSITIVE = "negative", "neutral", "positive"
HAPPY, UNDECIDED, UNHAPPY = "happy", "undecided", "unhappy"
#: How often a respondent writes a comment, by how they answered: the unhappy have more to say.
COMMENT_SHARE: dict[str, float] = {HAPPY: 0.13, UNDECIDED: 0.22, UNHAPPY: 0.38}
#: How a comment leans (negative, neutral, positive), by how its writer answered.
COMMENT_TONE: dict[str, tuple[float, float, float]] = {
    HAPPY: (0.04, 0.26, 0.70), UNDECIDED: (0.35, 0.45, 0.20), UNHAPPY: (0.85, 0.12, 0.03),
}
#: A complaint in an incident's cell is about what the incident broke this often (when what the
#: respondent ticked allows it).
INCIDENT_THEME_SHARE = 0.85
GENERAL_SHARE = 0.12  # a comment that names no driver ("Very frustrating experience.")
TWO_DRIVERS_SHARE = 0.3  # of comments that name drivers: two rather than one
CLOSER_SHARE = 0.3  # "Thank you!", "Really disappointing." after what the comment says
MIXED_SHARE = 0.4  # of an undecided respondent's complaints: "Overall it was ok, but ..."
OTHER_TOPIC_SHARE = 0.5  # of respondents who ticked "other": a topic outside the drivers (parking, hours)
CASUAL_SHARE = 0.12  # typed on a phone: lower case, often without the final full stop
#: Drivers a comment can talk about ("other" is the respondent's "none of these": no topic).
COMMENT_DRIVERS = tuple(d for d in DRIVERS if d != "other")
#: The driver of each 2019-2023 domain that has one (vocabulary.DOMAIN_OF_DRIVER, reversed).
DRIVER_OF_DOMAIN: dict[str, str] = {domain: driver for driver, domain in DOMAIN_OF_DRIVER.items()}
#: What a respondent calls each service.
SERVICE_WORDS: dict[str, str] = {
    "disability-claims": "my disability claim", "health-appointments": "my appointment",
    "gi-bill": "my GI Bill benefits", "snap-benefits": "my SNAP benefits", "farm-loans": "my farm loan",
    "patent-applications": "my patent application", "census-response": "my census form",
    "tax-filing": "my tax return", "refund-status": "my refund", "savings-bonds": "my savings bonds",
    "passport-renewal": "my passport renewal", "visa-appointments": "my visa appointment",
    "retirement-benefits": "my retirement benefits", "replacement-card": "my replacement card",
}
#: Whom a respondent met, where people serve (STAFFED).
STAFF_WORDS: dict[str, tuple[str, ...]] = {
    "phone": ("the agent", "the representative", "the rep I spoke with"),
    "in_person": ("the clerk", "the staff member", "the officer at the window"),
    "live_chat": ("the chat agent", "the agent"),
    "email": ("the caseworker", "the specialist"),
    "postal_mail": ("the caseworker", "the claims examiner"),
}
#: Kinds of channel, as comments speak of them.
CALL, CHAT, WEB, KIOSK, OFFICE, LETTER = "call", "chat", "web", "kiosk", "office", "letter"
CHANNEL_KIND: dict[str, str] = {
    "phone": CALL, "automated_phone": CALL, "live_chat": CHAT, "website": WEB, "mobile_app": WEB,
    "self_service_kiosk": KIOSK, "in_person": OFFICE, "email": LETTER, "postal_mail": LETTER,
}
ANY_KIND = frozenset({CALL, CHAT, WEB, KIOSK, OFFICE, LETTER})
#: Channel words for "{channel}".
CHANNEL_WORDS: dict[str, str] = {
    "phone": "the phone line", "automated_phone": "the automated line", "live_chat": "the chat",
    "website": "the website", "mobile_app": "the app", "self_service_kiosk": "the kiosk",
    "in_person": "the office", "email": "email", "postal_mail": "the mail",
}


@dataclass(frozen=True)
class CommentLine:
    """One sentence a respondent may write. Slots: ``{service}``, ``{staff}`` (only where people
    serve), ``{wait}`` (only after a long wait: the touchpoint's own), ``{channel}``."""

    text: str
    tone: str
    drivers: tuple[str, ...]  # in DRIVERS order
    kinds: frozenset[str] = ANY_KIND


def _lines(tone: str, drivers: tuple[str, ...], kinds: frozenset[str] | str, *texts: str) -> tuple[CommentLine, ...]:
    fits = frozenset({kinds}) if isinstance(kinds, str) else kinds
    return tuple(CommentLine(text, tone, drivers, fits) for text in texts)


_VOICE = frozenset({CALL, CHAT, OFFICE})  # talking to someone, now
_STAFFED_KINDS = frozenset({CALL, CHAT, OFFICE, LETTER})
_REMOTE = frozenset({CALL, CHAT, WEB, LETTER})  # reached from home ("{channel}" reads well)
#: What respondents write about one driver (or a driver and the staff who served them).
COMMENT_LINES: tuple[CommentLine, ...] = (
    # effectiveness: the need met, or not
    *_lines(NEGATIVE, ("effectiveness",), ANY_KIND,
            "Nobody could fix the problem with {service}.", "My issue with {service} is still unresolved.",
            "I still have not received what I applied for.", "My request was cancelled by mistake.",
            "I asked about {service} twice and nothing got resolved.", "Nothing worked, {service} is still stuck.",
            "They gave me the wrong information about {service}.",
            "They lost my documents and I had to start from scratch."),
    *_lines(POSITIVE, ("effectiveness",), ANY_KIND,
            "Got everything I needed for {service}.", "{service} was approved without any trouble.",
            "Everything with {service} got sorted out.", "I got what I needed and more.",
            "They fixed my problem for good.", "Problem solved, and on the first try."),
    *_lines(POSITIVE, ("effectiveness",), CALL, "Problem solved on the first call."),
    *_lines(POSITIVE, ("effectiveness",), OFFICE, "My problem was solved in one visit."),
    *_lines(POSITIVE, ("effectiveness", "employee"), _STAFFED_KINDS, "{staff} resolved my issue on the spot."),
    # ease: forms, sites, logins, paperwork
    *_lines(NEGATIVE, ("ease",), WEB,
            "The site kept crashing when I tried to upload documents.", "Could not log in no matter what I tried.",
            "The login page kept rejecting my password.", "Identity verification failed over and over.",
            "The form for {service} is confusing and hard to navigate."),
    *_lines(NEGATIVE, ("ease",), frozenset({CALL, OFFICE, LETTER, KIOSK}),
            "The paperwork for {service} was a nightmare.", "I had to fill out the same information three times."),
    *_lines(NEGATIVE, ("ease",), CALL, "The phone tree is a maze.",
            "The phone menu makes it hard to find the right option."),
    *_lines(NEGATIVE, ("ease",), KIOSK, "The kiosk froze halfway through."),
    *_lines(NEGATIVE, ("ease",), OFFICE, "The check-in process was a mess."),
    *_lines(NEGATIVE, ("ease",), LETTER, "Had to mail the same documents again."),
    *_lines(NEGATIVE, ("ease",), CHAT, "The chat window kept freezing."),
    *_lines(POSITIVE, ("ease",), ANY_KIND, "The process was simple and straightforward.",
            "The form was easy to fill out."),
    *_lines(POSITIVE, ("ease",), WEB, "Easy to find what I needed on {channel}.",
            "Uploading my documents was painless.", "Did it all online, no hassle."),
    *_lines(POSITIVE, ("ease",), KIOSK, "The kiosk was easy to use."),
    *_lines(POSITIVE, ("ease",), OFFICE, "Checking in was simple."),
    # efficiency: waits, holds, speed
    *_lines(NEGATIVE, ("efficiency",), ANY_KIND, "Everything about {service} takes too long.", "Way too slow.",
            "Still waiting on {service} after weeks."),
    *_lines(NEGATIVE, ("efficiency",), CALL, "On hold for {wait} before anyone answered.",
            "Stuck on hold way too long.", "I was transferred three times.", "Took forever to reach anyone."),
    *_lines(NEGATIVE, ("efficiency",), OFFICE, "Waited in line for {wait} even with an appointment.",
            "The line barely moved all morning."),
    *_lines(NEGATIVE, ("efficiency",), LETTER, "{wait} and still no reply about {service}."),
    *_lines(NEGATIVE, ("efficiency",), CHAT, "Sat in the chat queue for {wait}."),
    *_lines(NEGATIVE, ("efficiency",), WEB, "The pages were painfully slow."),
    *_lines(NEGATIVE, ("efficiency",), _REMOTE - {WEB}, "Reaching anyone through {channel} takes forever."),
    *_lines(POSITIVE, ("efficiency",), ANY_KIND, "Quick and efficient, I was done in ten minutes.",
            "Fast service, much faster than last time.", "The whole thing took about five minutes."),
    *_lines(POSITIVE, ("efficiency",), OFFICE, "No wait at all, in and out."),
    *_lines(POSITIVE, ("efficiency",), CALL, "Someone picked up right away."),
    *_lines(POSITIVE, ("efficiency",), LETTER, "Got a reply the next day."),
    *_lines(POSITIVE, ("efficiency",), _REMOTE, "{channel} was quicker than I expected."),
    *_lines(POSITIVE, ("efficiency", "employee"), _VOICE, "{staff} answered right away."),
    # transparency: status, letters, being told
    *_lines(NEGATIVE, ("transparency",), ANY_KIND, "Nobody could tell me the status of {service}.",
            "I have no idea where {service} stands.", "Got different answers from everyone I asked.",
            "Nobody explained what happens next."),
    *_lines(NEGATIVE, ("transparency",), LETTER, "The letter I got makes no sense."),
    *_lines(POSITIVE, ("transparency",), ANY_KIND, "Clear instructions, I knew exactly what to bring.",
            "They kept me updated the whole time."),
    *_lines(POSITIVE, ("transparency",), WEB, "The status tracker kept me informed the whole way."),
    *_lines(POSITIVE, ("transparency",), LETTER, "The letter explained exactly what happens next."),
    *_lines(POSITIVE, ("transparency", "employee"), _STAFFED_KINDS, "{staff} explained every step clearly."),
    # humanity: respect, courtesy
    *_lines(NEGATIVE, ("humanity",), ANY_KIND, "I was treated like a number."),
    *_lines(NEGATIVE, ("humanity",), _STAFFED_KINDS, "Nobody listened to me.", "Felt judged for asking questions."),
    *_lines(NEGATIVE, ("humanity", "employee"), _STAFFED_KINDS, "{staff} was rude and dismissive."),
    *_lines(POSITIVE, ("humanity",), _STAFFED_KINDS, "I felt respected and listened to.",
            "They treated me with dignity and respect.", "Everyone was friendly and welcoming."),
    *_lines(POSITIVE, ("humanity", "employee"), _STAFFED_KINDS, "{staff} was patient and kind."),
    # employee: the people who served
    *_lines(NEGATIVE, ("employee",), _STAFFED_KINDS, "{staff} could not help with {service}.",
            "{staff} was unhelpful."),
    *_lines(POSITIVE, ("employee",), _STAFFED_KINDS, "{staff} was very helpful.",
            "{staff} was knowledgeable and professional.", "Shout out to {staff}, very helpful."),
)
#: What an incident breaks, as the people it hits describe it (efficiency and ease:
#: INCIDENT_DRIVER_DROP), by kind of channel.
INCIDENT_LINES: tuple[CommentLine, ...] = (
    *_lines(NEGATIVE, ("efficiency",), CALL, "Stuck on hold forever and then the call dropped.",
            "Busy signal all morning, could not get through.", "Got disconnected twice while on hold.",
            "Nobody answers the line anymore, I tried all day."),
    *_lines(NEGATIVE, ("ease", "efficiency"), CALL, "The phone system hung up on me twice.",
            "The phone tree kept looping and then hung up on me."),
    *_lines(NEGATIVE, ("ease",), CALL, "The phone system is not working.", "The phone tree kept making me start over."),
    *_lines(NEGATIVE, ("ease",), WEB, "The site kept timing out before I could submit {service}.",
            "Could not log in, the app kept crashing.", "Error after error, the page would not load.",
            "The site is down again and I had to start over."),
    *_lines(NEGATIVE, ("ease", "efficiency"), WEB, "The portal was down all day.",
            "Pages took forever to load and then crashed."),
    *_lines(NEGATIVE, ("ease", "efficiency"), KIOSK, "The kiosk was down, so everyone waited in line."),
    *_lines(NEGATIVE, ("ease",), KIOSK, "The kiosk froze halfway through."),
    *_lines(NEGATIVE, ("ease", "efficiency"), OFFICE, "The system was down so everyone waited for hours.",
            "Their computers went down and I waited all afternoon."),
    *_lines(NEGATIVE, ("efficiency",), OFFICE, "Long line out the door, barely moving."),
    *_lines(NEGATIVE, ("efficiency",), LETTER, "Still waiting for a reply after weeks.",
            "Sent everything twice and still no response."),
    *_lines(NEGATIVE, ("ease", "efficiency"), CHAT, "The chat got disconnected and I had to start over."),
    *_lines(NEGATIVE, ("efficiency",), CHAT, "Waited in the chat queue forever."),
)
#: Comments that name no driver: how it went overall.
GENERAL_LINES: dict[str, tuple[CommentLine, ...]] = {
    NEGATIVE: (*_lines(NEGATIVE, (), ANY_KIND, "Very frustrating experience.", "Terrible experience overall.",
                       "Really disappointed with {service}."),
               *_lines(NEGATIVE, (), _REMOTE, "Going through {channel} was a waste of time.")),
    POSITIVE: (*_lines(POSITIVE, (), ANY_KIND, "Thank you!", "Great experience overall.", "Very good service.",
                       "Happy with how {service} went.", "Keep up the good work."),
               *_lines(POSITIVE, (), _REMOTE, "Using {channel} was a good experience.")),
}
#: Comments that lean neither way: what the respondent came for, a shrug.
NEUTRAL_LINES: tuple[CommentLine, ...] = (
    *_lines(NEUTRAL, (), ANY_KIND, "N/A", "Nothing to add.", "Checked on {service}.", "It was ok.", "Fine.",
            "Average, nothing special.", "Same as last time.", "Just wanted to update my information.",
            "Nothing special to report."),
    *_lines(NEUTRAL, (), CALL, "Called about {service}."),
    *_lines(NEUTRAL, (), _REMOTE, "Contacted them through {channel} this time.", "I will use {channel} again."),
    *_lines(NEUTRAL, (), WEB, "First time doing this online."),
    *_lines(NEUTRAL, (), OFFICE, "Came in to ask about {service}."),
    *_lines(NEUTRAL, (), LETTER, "Mailed in my forms for {service}."),
    *_lines(NEUTRAL, ("efficiency",), frozenset({CALL, CHAT, OFFICE}), "The wait was about what I expected."),
)
#: A topic outside the drivers, from respondents who ticked "other".
OTHER_TOPIC_LINES: dict[str, tuple[CommentLine, ...]] = {
    NEGATIVE: _lines(NEGATIVE, (), OFFICE, "Parking near the office is terrible."),
    POSITIVE: _lines(POSITIVE, (), OFFICE, "Glad the office has evening hours now.",
                     "Nice to have a location close to home."),
}
#: After the comment proper, sometimes.
CLOSERS: dict[str, tuple[str, ...]] = {
    NEGATIVE: ("Very frustrating.", "Not happy at all.", "Really disappointing."),
    POSITIVE: ("Thank you!", "Thanks so much.", "Great job.", "Much appreciated.", "Very pleased."),
}
#: An undecided respondent's complaint often starts with what was fine: "Overall it was ok, but ...".
MIXED_OPENERS = ("Overall it was ok", "It worked out in the end", "The end result was fine", "Fine for the most part")
LONG_WAIT_FACTOR = 2  # a wait over twice the channel's mean is long (as in the answers' mean)


@dataclass(frozen=True)
class Respondent:
    """What a comment follows: how its writer answered (``stance``), the drivers that went well and
    badly for them (ticked on the current form, else answered high or low on the 2019-2023 one,
    first what they feel most strongly about), whether they ticked "other", and what happened."""

    stance: str
    service: str
    channel: str
    went_well: tuple[str, ...] = ()
    went_badly: tuple[str, ...] = ()
    other_well: bool = False
    other_badly: bool = False
    wait: str | None = None  # the touchpoint's wait in words, when it was long
    unresolved: bool = False  # abandoned, transferred or escalated
    quick: bool = False  # served well under the channel's usual wait
    incident: bool = False
    staff: str | None = None  # whom they met, where people serve


@dataclass(frozen=True)
class WrittenComment:
    """A generated comment, how it leans and the drivers it talks about (as written)."""

    text: str
    tone: str
    drivers: tuple[str, ...]


def stance_of(feedback: dict[str, Any]) -> str:
    """How a respondent answered: their trust answer on the current form (a five-point 3 is
    undecided), else their satisfaction on the 2019-2023 form."""
    v2 = feedback.get("a11_v2")
    if v2 is not None:
        if v2["trust"] in FAVOURABLE_TRUST[v2["trust_scale"]]:
            return HAPPY
        return UNDECIDED if v2["trust_scale"] == "five_point" and v2["trust"] == POSITIVE_ANSWER - 1 else UNHAPPY
    satisfaction = feedback["answers"]["satisfaction"]
    if satisfaction >= POSITIVE_ANSWER:
        return HAPPY
    return UNDECIDED if satisfaction == POSITIVE_ANSWER - 1 else UNHAPPY


def wait_words(seconds: int) -> str:
    """A wait as a respondent tells it: "35 minutes", "2 hours", "3 days"."""
    if seconds < 3600:
        return f"{max(5, 5 * round(seconds / 300))} minutes"
    if seconds < 86_400:
        hours = round(seconds / 3600)
        return "an hour" if hours == 1 else f"{hours} hours"
    days = round(seconds / 86_400)
    return "a day" if days == 1 else f"{days} days"


def fits(line: CommentLine, who: Respondent) -> bool:
    """Whether ``who`` could write ``line``: its kind of channel, staff met, a long wait to tell."""
    return (CHANNEL_KIND[who.channel] in line.kinds and ("{staff}" not in line.text or who.staff is not None)
            and ("{wait}" not in line.text or who.wait is not None))


def say(line: CommentLine, who: Respondent) -> str:
    """``line`` in ``who``'s words: the slots filled, the first letter a capital."""
    text = line.text.format(service=SERVICE_WORDS[who.service], channel=CHANNEL_WORDS[who.channel],
                            staff=who.staff, wait=who.wait)
    return text[0].upper() + text[1:]


def write_comment(rng: random.Random, who: Respondent) -> WrittenComment:
    """What ``who`` writes: its lean drawn by their stance (COMMENT_TONE), the drivers by what went
    well or badly for them, in sentences of COMMENT_LINES (INCIDENT_LINES for most complaints in an
    incident's cell), never contradicting what they ticked or answered."""
    tone = rng.choices((NEGATIVE, NEUTRAL, POSITIVE), COMMENT_TONE[who.stance])[0]
    if tone == NEUTRAL:
        return _written(rng, [rng.choice([line for line in NEUTRAL_LINES if fits(line, who)])], who, tone)
    bad = tone == NEGATIVE
    named = who.went_badly if bad else who.went_well
    contrary = set(who.went_well if bad else who.went_badly)
    if bad and who.incident and rng.random() < INCIDENT_THEME_SHARE:
        themed = [line for line in INCIDENT_LINES if fits(line, who) and not contrary & set(line.drivers)]
        ticked = [line for line in themed if set(line.drivers) <= set(named)]  # what they ticked, if it can
        if themed:
            return _written(rng, [rng.choice(ticked or themed)], who, tone)
    if (who.other_badly if bad else who.other_well) and rng.random() < OTHER_TOPIC_SHARE:
        other = [line for line in OTHER_TOPIC_LINES[tone] if fits(line, who)]
        if other:
            return _written(rng, [rng.choice(other)], who, tone)
    drivers = list(named)
    if not drivers:  # nothing ticked or answered that way: what happened may still say it
        happened = (["efficiency"] * (who.wait is not None) + ["effectiveness"] * who.unresolved if bad
                    else ["efficiency"] * who.quick)
        drivers = [d for d in happened if d not in contrary]
    lines: list[CommentLine] = []
    if drivers and rng.random() >= GENERAL_SHARE:
        chosen = drivers[:2] if len(drivers) > 1 and rng.random() < TWO_DRIVERS_SHARE else drivers[:1]
        pair = tuple(d for d in DRIVERS if d in chosen)
        both = [line for line in COMMENT_LINES if line.tone == tone and line.drivers == pair and fits(line, who)]
        if len(pair) == 2 and both and rng.random() < 0.5:
            lines = [rng.choice(both)]
        else:
            for driver in chosen:
                fitting = [line for line in COMMENT_LINES
                           if line.tone == tone and line.drivers == (driver,) and fits(line, who)]
                if fitting:
                    lines.append(rng.choice(fitting))
    if not lines:
        return _written(rng, [rng.choice([line for line in GENERAL_LINES[tone] if fits(line, who)])], who, tone)
    return _written(rng, lines, who, tone, mixed=bad and who.stance == UNDECIDED and rng.random() < MIXED_SHARE,
                    closer=rng.random() < CLOSER_SHARE)


def _written(rng: random.Random, lines: list[CommentLine], who: Respondent, tone: str, *, mixed: bool = False,
             closer: bool = False) -> WrittenComment:
    sentences = [say(line, who) for line in lines]
    if mixed:  # "Overall it was ok, but the agent was unhelpful."
        first = sentences[0]
        first = first if first.startswith("I ") else first[0].lower() + first[1:]
        sentences[0] = f"{rng.choice(MIXED_OPENERS)}, but {first}"
    if closer:
        sentences.append(rng.choice(CLOSERS[tone]))
    text = " ".join(sentences)
    if rng.random() < CASUAL_SHARE:  # typed on a phone
        text = text.lower()
        if rng.random() < 0.6:
            text = text.rstrip(".")
    drivers = {d for line in lines for d in line.drivers}
    return WrittenComment(text, tone, tuple(d for d in DRIVERS if d in drivers))


@dataclass(frozen=True)
class SurveyForm:
    """One deployed survey of the current A-11 form: its trust scale, the drivers its checklists
    offer (in the vocabulary's order) and where in the journey it is sent."""

    trust_scale: str
    offered: tuple[str, ...]
    transaction_point: str


@dataclass(frozen=True)
class Incident:
    """A cell whose scores are pulled down: ``AGENCY/SERVICE/CHANNEL``."""

    agency: str
    service: str
    channel: str

    @classmethod
    def parse(cls, text: str) -> Incident:
        """An incident from ``AGENCY/SERVICE/CHANNEL``; CxstreamError if it names no generated cell."""
        parts = text.split("/")
        if len(parts) != 3:
            raise CxstreamError(f"--incident {text!r}: expected AGENCY/SERVICE/CHANNEL")
        agency, service, channel = parts
        if channel not in CATALOG.get(agency, {}).get(service, ()):
            cells = ", ".join(f"{a}/{s}/{c}" for a, ss in CATALOG.items() for s, cs in ss.items() for c in cs)
            raise CxstreamError(f"--incident {text!r}: not a generated cell; one of: {cells}")
        return cls(agency, service, channel)


@dataclass(order=True)
class Event:
    """One message due at ``emit_ms`` (wall clock of the channel sending it)."""

    emit_ms: int
    seq: int
    kind: str = field(compare=False)  # "touchpoints" or "feedback"
    body: dict[str, Any] = field(compare=False)


def rfc3339(ms: int) -> str:
    """UTC RFC 3339 with milliseconds, as the contract's JSON form writes times."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def daily_rhythm(ms: int) -> float:
    """Traffic relative to the daily mean (1.0): low at night, peaking early afternoon US Eastern."""
    hour_eastern = ((ms / 3_600_000) - 5) % 24
    return 1.0 + 0.6 * math.sin((hour_eastern - 8) / 24 * 2 * math.pi)


class TrafficGenerator:
    """Seeded traffic: the same seed, start and options give the same events, in the same order."""

    def __init__(self, seed: int, rate: float, start_ms: int, feedback_share: float = 0.1,
                 incidents: tuple[Incident, ...] = (), form: str = "v1") -> None:
        if rate <= 0:
            raise CxstreamError(f"--rate must be positive, got {rate}")
        if not 0 <= feedback_share <= 1:
            raise CxstreamError(f"--feedback-share must be between 0 and 1, got {feedback_share}")
        if form not in FORMS:
            raise CxstreamError(f"--form must be one of {', '.join(FORMS)}, got {form!r}")
        self.rate = rate
        self.feedback_share = feedback_share
        self.form = form
        self.incidents = frozenset((i.agency, i.service, i.channel) for i in incidents)
        self._rng = random.Random(seed)
        # The current form's choices come from a stream of their own, so the traffic and the v1
        # answers are the same whatever the form (and form="v1" draws nothing from it).
        self._v2_rng = random.Random(f"a11_v2/{seed}")
        # Comments too: what a respondent writes follows their answers of either form.
        self._comment_rng = random.Random(f"comments/{seed}")
        self._prefix = f"g{seed}"
        self._now = float(start_ms)
        self._seq = 0
        self._pending: list[Event] = []
        self._cells = [(a, s, c) for a, ss in CATALOG.items() for s, cs in ss.items() for c in cs]
        # Some services are far busier than others: a fixed, seeded popularity per cell.
        self._weights = [self._rng.uniform(0.3, 3.0) for _ in self._cells]
        # An incident floods its channel too (people call back, try again): it carries at least half
        # of its service's traffic, so its service's scores fall visibly and the alert fires.
        for i, cell in enumerate(self._cells):
            if cell in self.incidents:
                rest = sum(w for other, w in zip(self._cells, self._weights, strict=True)
                           if other[:2] == cell[:2] and other != cell)
                self._weights[i] = max(self._weights[i], rest)
        # Each cell's surveys of the current form: the one it deploys, and its other instrument.
        self._surveys = {cell: self._deploy(cell[2]) for cell in self._cells}

    def events_until(self, until_ms: int) -> Iterator[Event]:
        """Every event due at or before ``until_ms``, in emit order; later calls continue the stream."""
        while True:
            next_arrival = self._now + self._rng.expovariate(self.rate * daily_rhythm(int(self._now))) * 1000
            while self._pending and self._pending[0].emit_ms <= min(next_arrival, until_ms):
                yield heapq.heappop(self._pending)
            if next_arrival > until_ms:
                # Keep the arrival process exact across calls: the drawn gap is not thrown away.
                self._now = next_arrival
                self._push_touchpoint(int(next_arrival))
                return
            self._now = next_arrival
            self._push_touchpoint(int(next_arrival))

    def _push(self, emit_ms: int, kind: str, body: dict[str, Any]) -> None:
        self._seq += 1
        heapq.heappush(self._pending, Event(emit_ms, self._seq, kind, body))

    def _push_touchpoint(self, at_ms: int) -> None:
        rng = self._rng
        agency, service, channel = rng.choices(self._cells, self._weights)[0]
        profile = PROFILES[channel]
        self._seq += 1
        tp_id = f"tp-{self._prefix}-{self._seq}"
        wait = int(rng.expovariate(1 / profile.mean_wait))
        abandoned = rng.random() < profile.abandon * (1 + wait / (4 * profile.mean_wait))
        outcome = "abandoned" if abandoned else rng.choices(
            ("completed", "transferred", "escalated"), (0.85, 0.1, 0.05))[0]
        offered = not abandoned and rng.random() < 0.6
        touchpoint: dict[str, Any] = {
            "touchpoint_id": tp_id, "occurred_at": rfc3339(at_ms), "agency": agency, "service": service,
            "channel": channel, "outcome": outcome, "wait_seconds": wait,
            "handle_seconds": 0 if abandoned else int(rng.expovariate(1 / profile.mean_handle)),
            "survey_offered": offered,
        }
        tp_emit = at_ms
        if rng.random() < self.feedback_share:
            submitted = at_ms + int(rng.uniform(2_000, 45_000))
            mean = self._mean(agency, service, channel, outcome, wait, profile)
            answers, mood = self._answers(channel, mean)
            feedback: dict[str, Any] = {"feedback_id": f"fb-{self._prefix}-{self._seq}", "touchpoint_id": tp_id,
                                        "submitted_at": rfc3339(submitted)}
            self._add_form(feedback, (agency, service, channel), answers, mood, outcome, wait, profile, direct=False)
            if rng.random() < LEGACY_COMMENT_SHARE:
                rng.randrange(LEGACY_COMMENT_CHOICES)
            comment = self._comment((agency, service, channel), feedback, outcome, wait, profile)
            if comment is not None:
                feedback["comment"] = comment
            self._push(submitted, "feedback", feedback)
            if rng.random() < EARLY_SHARE:
                tp_emit = submitted + int(rng.uniform(1_000, 10_000))
            if rng.random() < DUPLICATE_SHARE:
                self._push(submitted + int(rng.uniform(500, 20_000)), "feedback", dict(feedback))
        self._push(tp_emit, "touchpoints", touchpoint)
        if rng.random() < self.feedback_share * DIRECT_SHARE:
            self._push_direct_survey(at_ms)

    def _push_direct_survey(self, at_ms: int) -> None:
        agency, service, channel = self._rng.choices(self._cells, self._weights)[0]
        self._seq += 1
        mean = self._mean(agency, service, channel, "completed", 0, PROFILES[channel])
        answers, mood = self._answers(channel, mean)
        feedback: dict[str, Any] = {
            "feedback_id": f"fb-{self._prefix}-{self._seq}", "submitted_at": rfc3339(at_ms),
            "agency": agency, "service": service, "channel": channel}
        self._add_form(feedback, (agency, service, channel), answers, mood, "completed", 0, PROFILES[channel],
                       direct=True)
        comment = self._comment((agency, service, channel), feedback, "completed", None, PROFILES[channel])
        if comment is not None:
            feedback["comment"] = comment
        self._push(at_ms, "feedback", feedback)

    def _mean(self, agency: str, service: str, channel: str, outcome: str, wait: int,
              profile: ChannelProfile) -> float:
        mean = profile.score
        if outcome != "completed":
            mean -= 0.6
        if wait > 2 * profile.mean_wait:
            mean -= 0.4
        if (agency, service, channel) in self.incidents:
            mean -= INCIDENT_DROP
        return mean

    def _answers(self, channel: str, mean: float) -> tuple[dict[str, int], float]:
        """The respondent's v1 answers, and their mood (the mean their answers are drawn around)."""
        rng = self._rng
        asked = ["satisfaction", "trust"]
        optional = [d for d in DOMAINS[2:] if d != "helpfulness" or channel in STAFFED]
        asked += [d for d in optional if rng.random() < 0.6]
        person = rng.gauss(0, 0.5)  # one respondent answers all questions in one mood
        answers = {d: min(MAX_ANSWER, max(MIN_ANSWER, round(rng.gauss(mean + person, 0.8)))) for d in asked}
        return answers, mean + person

    # --- the current A-11 form -----------------------------------------------------------------
    def _deploy(self, channel: str) -> tuple[SurveyForm, SurveyForm]:
        """A cell's survey (its scale by channel kind) and its other instrument (the other scale)."""
        rng = self._v2_rng
        thumbs_share = THUMBS_SHARE_DIGITAL if channel in DIGITAL else THUMBS_SHARE_OTHER
        scale = "thumbs" if rng.random() < thumbs_share else "five_point"
        point = "post_service_journey" if rng.random() < POST_SERVICE_JOURNEY_SHARE else "post_interaction"
        other_scale = next(s for s in TRUST_SCALES if s != scale)
        return (SurveyForm(scale, self._offered(channel), point),
                SurveyForm(other_scale, self._offered(channel), point))

    def _offered(self, channel: str) -> tuple[str, ...]:
        rng = self._v2_rng
        return tuple(d for d in DRIVERS if d in REQUIRED_DRIVERS or (
            (d != "employee" or channel in STAFFED) and rng.random() < OPTIONAL_DRIVER_SHARE[d]))

    def _add_form(self, feedback: dict[str, Any], cell: tuple[str, str, str], answers: dict[str, int],
                  mood: float, outcome: str, wait: int, profile: ChannelProfile, *, direct: bool) -> None:
        """Give ``feedback`` the v1 answers, the current form's, or both, as ``form`` asks."""
        kind = self.form
        if kind == "mixed":
            kind = self._v2_rng.choices(tuple(MIXED_KINDS), tuple(MIXED_KINDS.values()))[0]
        if kind in ("v1", "both"):
            feedback["answers"] = answers
        if kind in ("v2", "both"):
            feedback["a11_v2"] = self._a11_v2(cell, answers["trust"], mood, outcome, wait, profile, direct=direct)

    def _a11_v2(self, cell: tuple[str, str, str], trust_answer: int, mood: float, outcome: str, wait: int,
                profile: ChannelProfile, *, direct: bool) -> dict[str, Any]:
        """One respondent's current-form answers. Trust is their v1 trust answer on the form's scale
        (a neutral 3 splits between thumbs up and down); each offered driver went well or not by
        the respondent's mood and what happened, and is ticked more or less readily by how they
        answered trust."""
        rng = self._v2_rng
        primary, other = self._surveys[cell]
        survey = primary if rng.random() < FORM_CONSISTENCY else other
        point = survey.transaction_point
        if direct:
            point = "relational" if rng.random() < DIRECT_RELATIONAL_SHARE else "post_service_journey"
        if survey.trust_scale == "five_point":
            trust = trust_answer
        elif trust_answer == POSITIVE_ANSWER - 1:
            trust = int(rng.random() < 0.5)
        else:
            trust = int(trust_answer >= POSITIVE_ANSWER)
        # The checklists follow the answer just given: thumbs down is a complaint, a 3 is neither.
        if trust in FAVOURABLE_TRUST[survey.trust_scale]:
            tick_good, tick_bad = TICKS["favourable"]
        elif survey.trust_scale == "five_point" and trust == POSITIVE_ANSWER - 1:
            tick_good, tick_bad = TICKS["neutral"]
        else:
            tick_good, tick_bad = TICKS["unfavourable"]
        incident = cell in self.incidents
        base = mood + INCIDENT_DROP if incident else mood  # the incident's share is in the drivers below
        went_well: list[str] = []
        did_not_go_well: list[str] = []
        for driver in survey.offered:
            experience = base + rng.gauss(0, DRIVER_NOISE)
            if incident:
                experience -= INCIDENT_DRIVER_DROP.get(driver, 0.0)
            if driver == "efficiency" and wait > 2 * profile.mean_wait:
                experience -= LONG_WAIT_EFFICIENCY_DROP
            if driver == "effectiveness" and outcome != "completed":
                experience -= UNRESOLVED_EFFECTIVENESS_DROP
            factor = OTHER_TICK_FACTOR if driver == "other" else 1.0
            if experience >= DRIVER_GOOD:
                if rng.random() < tick_good * factor:
                    went_well.append(driver)
            elif rng.random() < tick_bad * factor:
                did_not_go_well.append(driver)
        return {"trust": trust, "trust_scale": survey.trust_scale, "went_well": went_well,
                "did_not_go_well": did_not_go_well, "offered": list(survey.offered), "transaction_point": point}

    # --- comments ------------------------------------------------------------------------------
    def _comment(self, cell: tuple[str, str, str], feedback: dict[str, Any], outcome: str, wait: int | None,
                 profile: ChannelProfile) -> str | None:
        """The respondent's comment, or None (most leave the box empty: COMMENT_SHARE). ``wait`` is
        None for a survey tied to no interaction."""
        rng = self._comment_rng
        stance = stance_of(feedback)
        if rng.random() >= COMMENT_SHARE[stance]:
            return None
        return write_comment(rng, self._respondent(cell, feedback, stance, outcome, wait, profile)).text

    def _respondent(self, cell: tuple[str, str, str], feedback: dict[str, Any], stance: str, outcome: str,
                    wait: int | None, profile: ChannelProfile) -> Respondent:
        rng = self._comment_rng
        _, service, channel = cell
        v2 = feedback.get("a11_v2")
        if v2 is not None:  # what they ticked, in no particular order
            well = [d for d in v2["went_well"] if d in COMMENT_DRIVERS]
            badly = [d for d in v2["did_not_go_well"] if d in COMMENT_DRIVERS]
            rng.shuffle(well)
            rng.shuffle(badly)
            other_well, other_badly = "other" in v2["went_well"], "other" in v2["did_not_go_well"]
        else:  # what they answered low or high, the lowest (highest) first
            scored = sorted((answer, rng.random(), DRIVER_OF_DOMAIN[domain])
                            for domain, answer in feedback["answers"].items() if domain in DRIVER_OF_DOMAIN)
            badly = [driver for answer, _, driver in scored if answer < POSITIVE_ANSWER - 1]
            well = [driver for answer, _, driver in reversed(scored) if answer >= POSITIVE_ANSWER]
            other_well = other_badly = False
        staff = STAFF_WORDS.get(channel)
        return Respondent(
            stance, service, channel, tuple(well), tuple(badly), other_well, other_badly,
            wait=wait_words(wait) if wait is not None and wait > LONG_WAIT_FACTOR * profile.mean_wait else None,
            unresolved=outcome != "completed",
            quick=wait is not None and wait < profile.mean_wait / 2 and outcome == "completed",
            incident=cell in self.incidents, staff=rng.choice(staff) if staff else None,
        )
