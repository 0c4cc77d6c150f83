"""One line (or one request body) of JSON -> one object, or the reason it is not a record.

Shared by ``cxstream publish`` and the gateway, so both refuse the same input the same way and
neither can be made to crash by it. Beyond malformed JSON, three kinds of input once escaped
``json.loads`` as exceptions nobody caught:

- nesting deeper than the parser's recursion limit (``RecursionError``);
- an integer literal longer than Python's 4,300-digit conversion limit (``ValueError``);
- a lone UTF-16 surrogate escape (``"\\ud83d"``, an emoji cut in half), which JSON allows but
  UTF-8 cannot encode, so the Avro encoder raised ``UnicodeEncodeError`` later on.
"""

from __future__ import annotations

import json
from typing import Any, Final

from cxstream.schemas.errors import FieldError

#: Where a lone surrogate was found is reported with at most this many path characters.
_MAX_PATH = 60


class NotARecord(ValueError):
    """The input is not a JSON object the contract could read; ``error`` says where and why."""

    def __init__(self, error: FieldError) -> None:
        super().__init__(str(error))
        self.error = error


def parse_record(data: bytes) -> dict[str, Any]:
    """The JSON object in ``data`` (UTF-8); NotARecord naming the problem otherwise."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotARecord(FieldError("$", "not_utf8", f"invalid UTF-8 at byte {exc.start}")) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotARecord(FieldError("$", "not_json", f"invalid JSON at column {exc.colno}: {exc.msg}")) from None
    except RecursionError:
        raise NotARecord(FieldError("$", "not_json", "JSON nested too deeply")) from None
    except ValueError as exc:  # int() of a literal past sys.get_int_max_str_digits()
        raise NotARecord(FieldError("$", "not_json", f"a number is too long: {exc}")) from None
    if not isinstance(obj, dict):
        raise NotARecord(FieldError("$", "not_an_object", f"expected a JSON object, got {type(obj).__name__}"))
    path = lone_surrogate_path(obj)
    if path is not None:
        raise NotARecord(FieldError(path, "lone_surrogate",
                                    "text holds half of a UTF-16 surrogate pair (a character cut in two?), "
                                    "which UTF-8 cannot carry"))
    return obj


def lone_surrogate_path(value: Any) -> str | None:
    """The dotted path of the first key or string holding a lone surrogate, or None.

    Iterative: a parsed object can be nested almost as deep as the parser's recursion limit."""
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if _has_surrogate(item):
                return _printable(path or "$")
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{path}.{key}" if path else str(key)
                if _has_surrogate(key):
                    return _printable(child_path)
                stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{path}[{i}]", child) for i, child in enumerate(item))
    return None


_SURROGATES: Final = range(0xD800, 0xE000)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return any(ord(c) in _SURROGATES for c in text)
    return False


def _printable(path: str) -> str:
    """A path safe to print on any terminal and in JSON: surrogates as \\uXXXX escapes."""
    return path[:_MAX_PATH].encode("utf-8", "backslashreplace").decode("utf-8")
