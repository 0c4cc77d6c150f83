"""One redacted comment in, its sentiment and the A-11 drivers it talks about out.

Pure and offline: VADER's lexicon ships inside the ``vaderSentiment`` package and nothing is
fetched at run time. The engine and the compiled tables are built once per process, on the first
call (about 0.1 s, reading the lexicon); after that a comment costs tens of microseconds
(BENCHMARKS.md, "Comment insights").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from cxstream.insights.engine import VaderEngine, normalize
from cxstream.insights.gate import Gated, GateIndex
from cxstream.insights.lexicon import (
    BOOSTERS,
    CONTRASTS,
    LEXICON,
    NEGATORS,
    PHRASES,
    SARCASM_OPENERS,
    SARCASM_VALENCE,
    SPELLING,
)
from cxstream.insights.taxonomy import DRIVER_CUES
from cxstream.vocabulary import DRIVERS

#: compound at or above is positive, at or below minus it negative (VADER's usual cut-offs).
THRESHOLD: Final[float] = 0.05
LABELS: Final[tuple[str, ...]] = ("negative", "neutral", "positive")

#: What cxstream.redaction writes in place of personal data ("[EMAIL]", "[PHONE]", ...): a mark
#: that something was there, never words of the comment.
PLACEHOLDER: Final[re.Pattern[str]] = re.compile(r"\[(?:EMAIL|CARD|SSN|PHONE|ADDRESS|REDACTED)\]", re.IGNORECASE)
_WORD: Final[re.Pattern[str]] = re.compile(r"[a-z']+")
#: A sentence with the punctuation that ends it; phrases and cues do not reach across one.
_SENTENCE: Final[re.Pattern[str]] = re.compile(r"[^\s.!?;][^.!?;\n]*[.!?;\n]*|[.!?;]+")


@dataclass(frozen=True, slots=True)
class CommentInsight:
    """What one comment says: VADER-style compound (-1..1), its label, and the drivers it names."""

    sentiment: float
    label: str
    drivers: tuple[str, ...]


def label_of(compound: float) -> str:
    """"negative" (<= -0.05), "positive" (>= 0.05) or "neutral"."""
    if compound >= THRESHOLD:
        return "positive"
    if compound <= -THRESHOLD:
        return "negative"
    return "neutral"


def _token(valence: float) -> str:
    if valence == 0:
        return "cxz"  # not in the lexicon: the words it replaces are read as nothing
    return f"cxv{'n' if valence < 0 else 'p'}{round(abs(valence) * 10)}"


class _Analyzer:
    def __init__(self) -> None:
        tokens = {_token(p.valence): p.valence for p in PHRASES if p.valence}
        self.engine = VaderEngine({**LEXICON, **tokens}, negators=NEGATORS, boosters=BOOSTERS, contrasts=CONTRASTS,
                                  sentence_scope=True)
        self.misspelt = frozenset(SPELLING)
        self.spelling = re.compile(r"(?<![\w'])(?:" + "|".join(re.escape(w) for w in sorted(SPELLING, key=len, reverse=True))
                                   + r")(?![\w'])", re.IGNORECASE)
        # matched on the lower-cased text (twice as fast as IGNORECASE), spliced into the original
        self.phrases = [Gated(rf"\b(?:{p.pattern})\b") for p in PHRASES]
        self.replacement = [" " + _token(p.valence) for p in PHRASES]
        self.sarcasm = Gated(SARCASM_OPENERS)
        cues = [(name, Gated(rf"\b(?:{cue})\b")) for name in DRIVERS for cue in DRIVER_CUES.get(name, ())]
        self.cue_driver = [name for name, _ in cues]
        self.cues = [cue for _, cue in cues]
        # one index over every pattern: the sarcasm openers (0), the phrases (1..n), then the cues
        self.index = GateIndex([self.sarcasm, *self.phrases, *self.cues])
        self.first_cue = len(self.phrases) + 1

    def clean(self, comment: str) -> str:
        """Placeholders out, curly apostrophes straight, misspellings fixed; case kept for VADER."""
        if "[" in comment:
            comment = PLACEHOLDER.sub(" ", comment)
        comment = comment.replace("\u2019", "'").replace("\u2018", "'")
        if self.misspelt.isdisjoint(_WORD.findall(comment.lower())):
            return comment
        return self.spelling.sub(lambda m: SPELLING[m.group(0).lower()], comment)

    def read(self, text: str) -> tuple[str, list[float], set[str]]:
        """``text`` with its phrases and sarcastic openers replaced by tokens, the openers' own
        valences, and the drivers named. Patterns run sentence by sentence, and on a sentence
        only those its words can satisfy, so the cost follows the comment's length."""
        lower = text.lower()
        if len(lower) != len(text):  # a rare character whose lower case is longer: read it all lower case
            text = lower
        spans: list[tuple[int, int, int, str]] = []  # (start, priority, end, replacement)
        openers: list[float] = []
        named: set[str] = set()
        first_cue = self.first_cue
        for sentence in _SENTENCE.finditer(lower):
            at = sentence.start()
            seg = sentence.group(0)
            for index in self.index.active(seg):
                if index >= first_cue:
                    driver = self.cue_driver[index - first_cue]
                    if driver not in named and self.cues[index - first_cue].regex.search(seg):
                        named.add(driver)
                elif index:
                    spans.extend((at + m.start(), index, at + m.end(), self.replacement[index - 1])
                                 for m in self.phrases[index - 1].regex.finditer(seg))
                else:
                    for m in self.sarcasm.regex.finditer(seg):
                        words = _WORD.findall(m.group(0))
                        openers.append(next((self.engine.lexicon[w] for w in reversed(words) if w in self.engine.lexicon), 0.0))
                        spans.append((at + m.start(), 0, at + m.end(), " cxsarc"))
        if not spans:
            return text, openers, named
        spans.sort()
        out: list[str] = []
        end_of_last = 0
        for start, _, end, replacement in spans:
            if start >= end_of_last:  # the earlier start wins, then the sarcasm opener, then the earlier phrase
                out += [text[end_of_last:start], replacement]
                end_of_last = end
        out.append(text[end_of_last:])
        return "".join(out), openers, named

    def analyze(self, comment: str) -> CommentInsight:
        text, openers, named = self.read(self.clean(comment))
        total = self.engine.raw_sum(text)
        for valence in openers:  # "great, ..." counts against a negative rest, as itself otherwise
            total += SARCASM_VALENCE if total < 0 else valence
        compound = round(normalize(total), 4) if total else 0.0
        return CommentInsight(compound, label_of(compound), tuple(name for name in DRIVERS if name in named))


@lru_cache(maxsize=1)
def _analyzer() -> _Analyzer:
    return _Analyzer()


def analyze(comment: str | None) -> CommentInsight | None:
    """The insight of one already-redacted comment; None when there is no comment (None or blank).

    A comment that is only placeholders ("[PHONE]") is a comment with nothing to read: neutral,
    no drivers.
    """
    if comment is None or not comment.strip():
        return None
    return _analyzer().analyze(comment)
