"""PII redaction of free-text comments: personal data never leaves the entry points.

Each kind is replaced by a typed placeholder (``[EMAIL]``, ``[CARD]``, ``[SSN]``, ``[PHONE]``,
``[ADDRESS]``) so a reader still sees that something was there. Order matters: card numbers
(checked with Luhn) before SSNs and phone numbers, whose digit shapes they contain.

Precision over recall where a rule would eat ordinary survey text: a bare nine-digit number is an
SSN only when the comment says "SSN" or "social security" near it; a street address needs a house
number, a capitalised street name and a street suffix ("12 Main St", "4500 N Oak Avenue Apt 3").
The corpus in tests/fixtures/pii/ measures both sides.
"""

from __future__ import annotations

import re
from collections import Counter

# Parts bounded (a local part is at most 64 characters, a domain label 63, at most 10 labels) and
# the local part atomic: unbounded repeats made a long run of letters cost quadratic time (a
# 40,000-character comment took 2 s; a 1 MB one would have held the event loop for minutes).
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])(?>[A-Za-z0-9._%+-]{1,64})@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,10}"
                    r"\.[A-Za-z]{2,24}")
_CARD_CANDIDATE = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_SSN_SEPARATED = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}([- ])(?!00)\d{2}\1(?!0000)\d{4}(?![\d-])")
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\D{0,20}?"
    r"(?<!\d)((?!000|666|9\d\d)\d{3}[- ]?(?!00)\d{2}[- ]?(?!0000)\d{4})(?!\d)"
)
_PHONE = re.compile(
    r"(?<![\w-])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w-])"
    r"|(?<![\w-])\+?1?\d{10}(?![\w-])"
)
_SUFFIX = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
           r"Terrace|Ter|Circle|Cir|Highway|Hwy|Parkway|Pkwy|Square|Sq)")
_ADDRESS = re.compile(
    r"\b\d{1,6}\s+(?:[NSEW]\.?\s+)?(?:(?:[A-Z][A-Za-z'-]+|\d+(?:st|nd|rd|th))\s+){1,3}" + _SUFFIX +
    r"\b\.?(?:,?\s*(?:Apt|Apartment|Suite|Ste|Unit|#)\.?\s*[A-Za-z0-9-]+)?"
)


def luhn_valid(digits: str) -> bool:
    """The checksum every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def redact_with_counts(text: str) -> tuple[str, Counter[str]]:
    """``text`` with every recognised piece of personal data replaced, and how many of each kind."""
    found: Counter[str] = Counter()

    def sub(pattern: re.Pattern[str], kind: str, value: str) -> str:
        def replace(match: re.Match[str]) -> str:
            found[kind] += 1
            return f"[{kind}]"
        return pattern.sub(replace, value)

    def card(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        if 13 <= len(digits) <= 19 and luhn_valid(digits):
            found["CARD"] += 1
            return "[CARD]"
        return match.group(0)

    text = sub(_EMAIL, "EMAIL", text)
    text = _CARD_CANDIDATE.sub(card, text)
    def ssn_in_context(match: re.Match[str]) -> str:  # keep "SSN is", replace the number only
        found["SSN"] += 1
        start, end = match.span(1)
        return match.group(0)[: start - match.start()] + "[SSN]" + match.group(0)[end - match.start():]

    text = _SSN_CONTEXT.sub(ssn_in_context, text)
    text = sub(_SSN_SEPARATED, "SSN", text)
    text = sub(_PHONE, "PHONE", text)
    text = sub(_ADDRESS, "ADDRESS", text)
    return text, found


def redact(text: str) -> str:
    """``text`` with personal data replaced by typed placeholders."""
    return redact_with_counts(text)[0]
