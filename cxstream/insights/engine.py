"""VADER's scoring rules in one linear pass, on a lexicon the caller extends.

``vaderSentiment.SentimentIntensityAnalyzer.polarity_scores`` lower-cases the whole token list
again for every sentiment word it looks at (negation and idiom checks), so its cost grows with
the square of a comment's length: 9 ms for a 2,000-character comment on the development VM,
which the sink cannot pay per stored row. :class:`VaderEngine` applies the same rules (lexicon
valence, boosters and dampeners, ALL-CAPS emphasis, negation in the three preceding words, "no",
"least", the special idioms, the contrast of "but", "!" and "?" emphasis, the 15-alpha
normalisation) on a token list lower-cased once, and returns the raw valence sum so the caller
can add rules of its own before normalising.

Differences from the library, on purpose (docs/INSIGHTS.md): a caller may add negators (the
library misses "nobody") and boosters, and contrast words besides "but"; and the contrast weights
every word before it by 0.5 and after it by 1.5 exactly, where the library finds each word by
its value (``list.index``) and so weights the wrong word when two valences are equal. With the
library's lexicon and no additions the compound equals the library's (tests check it on the
corpus and on crafted sentences).
"""

from __future__ import annotations

import math
import string
from collections.abc import Iterable, Mapping

from vaderSentiment.vaderSentiment import (
    B_INCR,
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

_PUNCTUATION = string.punctuation


def _strip_punc_if_word(token: str) -> str:
    stripped = token.strip(_PUNCTUATION)
    return token if len(stripped) <= 2 else stripped


def normalize(score: float, alpha: float = 15.0) -> float:
    """VADER's squashing of a valence sum into -1..1."""
    value = score / math.sqrt(score * score + alpha)
    return max(-1.0, min(1.0, value))


def punctuation_emphasis(text: str) -> float:
    """What "!" (up to 4) and "??"/"???" add to a non-zero sum's magnitude."""
    ep = min(text.count("!"), 4) * 0.292
    qm_count = text.count("?")
    qm = 0.0
    if qm_count > 1:
        qm = qm_count * 0.18 if qm_count <= 3 else 0.96
    return ep + qm


class VaderEngine:
    """VADER's valence rules over ``lexicon`` (the library's, updated with ``extra``)."""

    def __init__(self, extra: Mapping[str, float] | None = None, *, negators: Iterable[str] = (),
                 boosters: Mapping[str, float] | None = None, contrasts: Iterable[str] = ("but",),
                 sentence_scope: bool = False) -> None:
        stock = SentimentIntensityAnalyzer()  # reads the lexicon shipped inside the package
        self.lexicon: dict[str, float] = dict(stock.lexicon)
        self.lexicon.update(extra or {})
        self.emojis: dict[str, str] = dict(stock.emojis)
        self.negate: frozenset[str] = frozenset(w.lower() for w in (*NEGATE, *negators))
        self.boosters: dict[str, float] = dict(BOOSTER_DICT)
        self.boosters.update(boosters or {})
        self.contrasts: frozenset[str] = frozenset(contrasts)
        #: negations and boosters reach back three words but not past the end of a sentence
        #: ("... which never happens. Pleasantly surprised."); the library reads across it
        self.sentence_scope = sentence_scope

    # -- tokens ------------------------------------------------------------------------------
    def _demojize(self, text: str) -> str:
        if text.isascii():
            return text
        out: list[str] = []
        prev_space = True
        for ch in text:
            description = self.emojis.get(ch)
            if description is not None:
                if not prev_space:
                    out.append(" ")
                out.append(description)
                prev_space = False
            else:
                out.append(ch)
                prev_space = ch == " "
        return "".join(out)

    def tokens(self, text: str) -> list[str]:
        """The words and emoticons VADER scores (punctuation stripped from words)."""
        return [_strip_punc_if_word(t) for t in self._demojize(text).strip().split()]

    @staticmethod
    def _reach(raw: list[str]) -> list[int]:
        """For each token, how many of the three before it are in its sentence."""
        reach = [0] * len(raw)
        run = 0
        for i in range(len(raw)):
            reach[i] = min(run, 3)
            run = 0 if raw[i].endswith((".", "!", "?", ";")) else run + 1
        return reach

    def _negated(self, word: str) -> bool:
        return word in self.negate or "n't" in word

    # -- scoring -----------------------------------------------------------------------------
    def valences(self, words: list[str], reach: list[int] | None = None) -> list[float]:
        """One valence per token, the contrast rule applied; ``reach`` limits the look-back."""
        lower = [w.lower() for w in words]
        lexicon = self.lexicon
        boosters = self.boosters
        n = len(words)
        allcaps = sum(1 for w in words if w.isupper())
        is_cap_diff = 0 < n - allcaps < n
        sentiments: list[float] = []
        for i, item in enumerate(lower):
            valence = 0.0
            if item in boosters or (item == "kind" and i < n - 1 and lower[i + 1] == "of"):
                sentiments.append(0.0)
                continue
            if item in lexicon:
                back = i if reach is None else reach[i]
                valence = lexicon[item]
                if item == "no" and i != n - 1 and lower[i + 1] in lexicon:
                    valence = 0.0
                if (back > 0 and lower[i - 1] == "no") or (back > 1 and lower[i - 2] == "no") or (
                        back > 2 and lower[i - 3] == "no" and lower[i - 1] in ("or", "nor")):
                    valence = lexicon[item] * N_SCALAR
                if is_cap_diff and words[i].isupper():
                    valence = valence + C_INCR if valence > 0 else valence - C_INCR
                for start_i in range(3):
                    if back > start_i and lower[i - start_i - 1] not in lexicon:
                        prev = lower[i - start_i - 1]
                        s = 0.0
                        if prev in boosters:
                            s = boosters[prev]
                            if valence < 0:
                                s = -s
                            if is_cap_diff and words[i - start_i - 1].isupper():
                                s = s + C_INCR if valence > 0 else s - C_INCR
                            if start_i == 1:
                                s *= 0.95
                            elif start_i == 2:
                                s *= 0.9
                        valence += s
                        valence = self._negation(valence, lower, start_i, i)
                        if start_i == 2:
                            valence = self._idioms(valence, lower, i)
                if back > 0:
                    valence = self._least(valence, lower, i, back)
            sentiments.append(valence)
        return self._contrast(lower, sentiments)

    def _negation(self, valence: float, lower: list[str], start_i: int, i: int) -> float:
        if start_i == 0:
            if self._negated(lower[i - 1]):
                valence *= N_SCALAR
        elif start_i == 1:
            if lower[i - 2] == "never" and lower[i - 1] in ("so", "this"):
                valence *= 1.25
            elif lower[i - 2] == "without" and lower[i - 1] == "doubt":
                pass
            elif self._negated(lower[i - 2]):
                valence *= N_SCALAR
        else:
            if (lower[i - 3] == "never" and lower[i - 2] in ("so", "this")) or lower[i - 1] in ("so", "this"):
                valence *= 1.25
            elif lower[i - 3] == "without" and "doubt" in (lower[i - 2], lower[i - 1]):
                pass
            elif self._negated(lower[i - 3]):
                valence *= N_SCALAR
        return valence

    def _idioms(self, valence: float, lower: list[str], i: int) -> float:
        onezero = f"{lower[i - 1]} {lower[i]}"
        twoonezero = f"{lower[i - 2]} {lower[i - 1]} {lower[i]}"
        twoone = f"{lower[i - 2]} {lower[i - 1]}"
        threetwoone = f"{lower[i - 3]} {lower[i - 2]} {lower[i - 1]}"
        threetwo = f"{lower[i - 3]} {lower[i - 2]}"
        for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
            if seq in SPECIAL_CASES:
                valence = SPECIAL_CASES[seq]
                break
        n = len(lower)
        if n - 1 > i:
            zeroone = f"{lower[i]} {lower[i + 1]}"
            if zeroone in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroone]
        if n - 1 > i + 1:
            zeroonetwo = f"{lower[i]} {lower[i + 1]} {lower[i + 2]}"
            if zeroonetwo in SPECIAL_CASES:
                valence = SPECIAL_CASES[zeroonetwo]
        for n_gram in (threetwoone, threetwo, twoone):
            if n_gram in self.boosters:
                valence += self.boosters[n_gram]
        return valence

    def _least(self, valence: float, lower: list[str], i: int, back: int) -> float:
        if back > 1 and lower[i - 1] not in self.lexicon and lower[i - 1] == "least":
            if lower[i - 2] not in ("at", "very"):
                valence *= N_SCALAR
        elif i > 0 and lower[i - 1] not in self.lexicon and lower[i - 1] == "least":
            valence *= N_SCALAR
        return valence

    def _contrast(self, lower: list[str], sentiments: list[float]) -> list[float]:
        for bi, word in enumerate(lower):
            if word in self.contrasts:
                return [s * 0.5 if si < bi else s * 1.5 if si > bi else s for si, s in enumerate(sentiments)]
        return sentiments

    def raw_sum(self, text: str) -> float:
        """The valence sum VADER would normalise, "!"/"?" emphasis included."""
        if self.sentence_scope:
            raw = self._demojize(text).strip().split()
            sentiments = self.valences([_strip_punc_if_word(t) for t in raw], self._reach(raw))
        else:
            sentiments = self.valences(self.tokens(text))
        total = float(sum(sentiments))
        if total > 0:
            total += punctuation_emphasis(text)
        elif total < 0:
            total -= punctuation_emphasis(text)
        return total

    def compound(self, text: str) -> float:
        """VADER's compound score, rounded to 4 decimals as the library does."""
        total = self.raw_sum(text)
        return round(normalize(total), 4) if total else 0.0


__all__ = ["B_INCR", "VaderEngine", "normalize", "punctuation_emphasis"]
