"""Skip a regular expression that cannot match: the literal text every match must contain.

Python's ``re`` tries each branch of an alternation at every word start, so the phrase tables
(hundreds of branches) cost milliseconds on a long comment when run as one big pattern. A
branch-rich pattern whose every match contains "hold" need not run on a comment without "hold".
:func:`needs` reads a pattern's parse tree (the standard library's own parser) and returns a set
of lower-case strings such that every match contains at least one of them; a pattern runs only
when the lower-cased comment contains one (a C-speed substring test). The test is sound by
construction: it never skips a pattern that could match; when nothing can be said (a pattern that
may match without any literal, such as ``\\d+``), the pattern always runs.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

_p: Any
_c: Any
try:  # the standard library's regular-expression parser (``sre_parse`` before 3.11)
    _p = importlib.import_module("re._parser")
    _c = importlib.import_module("re._constants")
except ImportError:  # pragma: no cover - a future Python without it: every pattern runs
    _p = _c = None

#: Above this many alternatives a need set is not worth its tests: the pattern always runs.
MAX_NEEDS = 48


def _score(options: frozenset[str]) -> tuple[int, int]:
    return (min(len(s) for s in options), -len(options))


def _need(items: Any) -> frozenset[str] | None:
    """Strings one of which every match of the sequence ``items`` contains, or None."""
    candidates: list[frozenset[str]] = []
    run: list[str] = []

    def close() -> None:
        if run:
            candidates.append(frozenset({"".join(run)}))
            run.clear()

    for op, av in items:
        if op is _c.LITERAL:
            run.append(chr(av).lower())
            continue
        if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):  # zero-width: the literals either side stay one run
            if op is _c.AT:
                continue
            close()
            continue
        close()
        if op is _c.BRANCH:
            options: set[str] = set()
            for alternative in av[1]:
                need = _need(alternative)
                if need is None:
                    options = set()
                    break
                options |= need
            if options and len(options) <= MAX_NEEDS:
                candidates.append(frozenset(options))
        elif op is _c.SUBPATTERN:
            need = _need(av[-1])
            if need is not None:
                candidates.append(need)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and av[0] >= 1:
            need = _need(av[2])
            if need is not None:
                candidates.append(need)
    close()
    candidates = [c for c in candidates if c and all(c)]
    return max(candidates, key=_score) if candidates else None


def needs(pattern: str) -> frozenset[str] | None:
    """Lower-case strings one of which every match of ``pattern`` contains (None: no such set)."""
    if _p is None:
        return None
    try:
        return _need(_p.parse(pattern))
    except Exception:  # noqa: BLE001 - any parser trouble only means the pattern always runs
        return None


class Gated:
    """One compiled pattern and the strings that let it run."""

    __slots__ = ("needs", "regex")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags)
        self.needs = needs(pattern)

    def may_match(self, lower: str) -> bool:
        return self.needs is None or any(s in lower for s in self.needs)


def trigrams(lower: str) -> frozenset[str]:
    """Every three-character slice of ``lower``: what :meth:`GateIndex.active` looks strings up by."""
    return frozenset([lower[i:i + 3] for i in range(len(lower) - 2)])


class GateIndex:
    """Which of many gated patterns may match a text.

    Each needed string is filed under its first three characters; a text's trigrams pick the few
    strings worth a substring test, so the cost follows the text's length, not the number of
    patterns (strings shorter than three characters are always tested).
    """

    __slots__ = ("_always", "_by_gram", "_by_need", "_short")

    def __init__(self, gated: list[Gated]) -> None:
        self._always = frozenset(i for i, g in enumerate(gated) if g.needs is None)
        by_need: dict[str, set[int]] = {}
        for i, g in enumerate(gated):
            for s in g.needs or ():
                by_need.setdefault(s, set()).add(i)
        self._by_need = {s: frozenset(v) for s, v in by_need.items()}
        by_gram: dict[str, list[str]] = {}
        for s in by_need:
            if len(s) >= 3:
                by_gram.setdefault(s[:3], []).append(s)
        self._by_gram = {g: tuple(v) for g, v in by_gram.items()}
        self._short = tuple(s for s in by_need if len(s) < 3)

    def active(self, lower: str, grams: frozenset[str] | None = None) -> list[int]:
        """Indices, in order, of the patterns that may match ``lower`` (``grams``: its trigrams)."""
        if grams is None:
            grams = trigrams(lower)
        found = set(self._always)
        by_need = self._by_need
        by_gram = self._by_gram
        for gram in grams & by_gram.keys():
            for s in by_gram[gram]:
                if s in lower:
                    found |= by_need[s]
        for s in self._short:
            if s in lower:
                found |= by_need[s]
        return sorted(found)
