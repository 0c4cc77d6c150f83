"""structlog, set up once: JSON lines when not on a TTY, pretty console output on a TTY.

Library logs (faust, aiokafka, kafka-python), Python warnings and uncaught exceptions go through
the same renderer, so one stream of structured lines explains a run, each with an ``event``.
Event names are dotted nouns-verbs: ``stack.kafka.started``.

No personal data: code logs ids and counts, never a comment or message bytes; and as a second
line of defence :func:`scrub_personal_data` runs on every line just before it is rendered
(fields named like free text are withheld, bytes become their length, and e-mail addresses,
card, social security and phone numbers and street addresses in any text are replaced).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Mapping, MutableMapping
from types import TracebackType
from typing import Any

import structlog

from cxstream.redaction import redact

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
#: Chatty libraries are held at WARNING unless cxstream itself is at DEBUG.
_NOISY = ("kafka", "aiokafka", "faust", "mode", "clickhouse_driver", "urllib3")
#: Library loggers whose debug lines print records' keys and values (requests, responses, sends):
#: held at INFO even at debug, so a debug run never writes message content (comments) to the log.
WIRE_LOGGERS = ("aiokafka.conn", "aiokafka.producer.producer", "aiokafka.consumer.group_coordinator",
                "faust.topics", "kafka.protocol", "kafka.net.connection", "kafka.conn")
#: A bytes literal in text (a library's repr of a request, an exception about a record).
_BYTES_LITERAL = re.compile(r"(?<!\w)b'(?:[^'\\]|\\.)*'" + r'|(?<!\w)b"(?:[^"\\]|\\.)*"')
#: Cheap test a text must pass before the redaction patterns run (each of them needs an "@", a run
#: of digits with separators, or a number before a word): most log text has none.
_MAYBE_PERSONAL = re.compile(r"@|\d[\s\d().-]{6,}\d|\d\s+\S")
#: Fields every line has, written by the logging setup itself: never scanned.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger"})
#: Fields whose value is free text or message content: never rendered, whatever logged them.
WITHHELD_FIELDS = frozenset({"comment", "comments", "raw", "payload", "message_value", "body"})
WITHHELD = "[withheld]"


def configure(level: str = "info", fmt: str = "auto", stream: Any = None) -> None:
    """Configure structlog and stdlib logging for the process (idempotent)."""
    stream = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and _isatty(stream))
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=_isatty(stream))
        if use_console
        else structlog.processors.JSONRenderer()
    )
    numeric = _LEVELS[level]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if not use_console else _identity,
            scrub_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in _NOISY:
        logging.getLogger(name).setLevel(numeric if numeric == logging.DEBUG else logging.WARNING)
    for name in WIRE_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if numeric == logging.DEBUG else logging.WARNING)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def get_logger(name: str) -> Any:
    """A structlog logger for module ``name``."""
    return structlog.get_logger(name)


def scrub_personal_data(_logger: Any, _name: str, event_dict: Any) -> Any:
    """Processor: the event with free-text fields withheld, bytes replaced by their length and
    personal data in any text redacted. Keys keep their order."""
    if type(event_dict) is not dict and not isinstance(event_dict, MutableMapping):
        return _scrub(event_dict)
    for key, value in event_dict.items():
        if key in _OWN_FIELDS:
            continue
        event_dict[key] = WITHHELD if key in WITHHELD_FIELDS and value is not None else _scrub(value)
    return event_dict


def _scrub(value: Any) -> Any:
    if value is None or type(value) in (int, float, bool):  # most fields; skips the slower checks below
        return value
    if isinstance(value, str):
        if "b'" in value or 'b"' in value:
            value = _BYTES_LITERAL.sub("b'<bytes>'", value)
        return redact(value) if _MAYBE_PERSONAL.search(value) else value
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, dict) or isinstance(value, Mapping):
        return {k: WITHHELD if k in WITHHELD_FIELDS and v is not None else _scrub(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_scrub(v) for v in value]
    return value


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """An exception nothing caught is one JSON line too, not a bare traceback."""
    get_logger("cxstream").critical("process.uncaught_exception", exc_info=(kind, error, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    get_logger("cxstream").critical("thread.uncaught_exception", thread=args.thread.name if args.thread else None,
                                    exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


def _identity(_logger: Any, _name: str, event: Any) -> Any:
    return event


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
