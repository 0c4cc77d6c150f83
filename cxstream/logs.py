"""structlog, set up once: JSON lines when not on a TTY, pretty console output on a TTY.

Library logs (faust, aiokafka, kafka-python), Python warnings and uncaught exceptions go through
the same renderer, so one stream of structured lines explains a run, each with an ``event``.
Event names are dotted nouns-verbs: ``stack.kafka.started``.

No personal data: code logs ids and counts, never a comment or message bytes; and as a second
line of defence :func:`scrub_personal_data` runs on every line just before it is rendered
(fields named like free text are withheld, bytes become their length, and e-mail addresses,
card, social security and phone numbers and street addresses in any text are replaced).

Library lines that repeat (a client retrying a broker that is down logs the same few lines
thousands of times a second) are folded by :class:`RepeatFolder`: the first of each message
template passes, the repeats become one ``log.repeated`` line with their count per interval.
"""

from __future__ import annotations

import atexit
import logging
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
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
#: Seconds between two lines of one repeating library message (``log_repeat_seconds``).
REPEAT_SECONDS = 60
#: Most message templates followed at once. A library that formats its text itself (an f-string)
#: makes each line a template of its own: past this many, new ones pass unfolded, memory stays flat.
MAX_TEMPLATES = 1000


def configure(level: str = "info", fmt: str = "auto", stream: Any = None,
              repeat_seconds: float = REPEAT_SECONDS) -> None:
    """Configure structlog and stdlib logging for the process (idempotent). ``repeat_seconds``:
    see :class:`RepeatFolder` (0 = write every repeated library line)."""
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
    handler.addFilter(_install_folder(RepeatFolder(repeat_seconds), handler))
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


@dataclass(slots=True)
class _Run:
    """One message template's current interval: when its first line passed, how many repeats since."""

    started: float
    suppressed: int = 0


@dataclass(frozen=True)
class Repeated:
    """Repeats of one library message that were not written: what the ``log.repeated`` line says."""

    logger: str
    level: int
    template: str
    suppressed: int
    seconds: float


class RepeatFolder(logging.Filter):
    """Handler filter: a library line repeating the same message template (logger, level and
    message before its ``%`` arguments) is written once per ``seconds``; the repeats in between
    become one ``log.repeated`` line with their count.

    During a broker outage aiokafka logs the same two lines thousands of times a second: written
    out, an hour's outage fills the disk and buries every other line. Only library lines at WARNING
    or above are folded: cxstream's own events (structlog, whose message is a dict) are deliberate,
    and debug lines are there because someone asked for all of them.

    A count is written when the template's next line comes after its interval, or by the sweep
    that the first line of any kind after the end of an interval runs (the worker writes its
    metrics every 30 s), or by :meth:`flush` (at exit): a burst that stops never loses its count.
    """

    def __init__(self, seconds: float, clock: Callable[[], float] = time.monotonic,
                 emit: Callable[[Repeated], None] | None = None, max_templates: int = MAX_TEMPLATES) -> None:
        super().__init__()
        self.seconds = seconds
        self._clock = clock
        self._emit = emit or _log_repeated
        self._max_templates = max_templates
        self._runs: dict[tuple[str, int, str], _Run] = {}
        self._lock = threading.Lock()
        self._next_sweep = clock() + seconds

    def filter(self, record: logging.LogRecord) -> bool:
        """True to write ``record``; False for a repeat within its template's interval."""
        if self.seconds <= 0:
            return True
        now = self._clock()
        if now >= self._next_sweep:
            self._sweep(now)
        msg = record.msg
        if type(msg) is dict or record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, msg if type(msg) is str else f"<{type(msg).__name__}>")
        with self._lock:
            run = self._runs.get(key)
            if run is None:
                if len(self._runs) < self._max_templates:
                    self._runs[key] = _Run(now)
                return True
            if now - run.started < self.seconds:
                run.suppressed += 1
                return False
            ended = _ended(key, run, now)
            run.started, run.suppressed = now, 0
        if ended is not None:
            self._emit(ended)
        return True

    def flush(self) -> None:
        """Write the count of every template with repeats not yet counted, and forget them all."""
        now = self._clock()
        with self._lock:
            ended = [_ended(key, run, now) for key, run in self._runs.items()]
            self._runs.clear()
        self._write(ended)

    def _sweep(self, now: float) -> None:
        """Count and forget the templates whose interval is over: their repeats may have stopped.
        The next sweep is due when the oldest interval left ends, so no count waits much longer
        than its interval (the worker writes a line at least every 30 s)."""
        with self._lock:
            if now < self._next_sweep:  # another thread swept meanwhile
                return
            over = [key for key, run in self._runs.items() if now - run.started >= self.seconds]
            ended = [_ended(key, self._runs.pop(key), now) for key in over]
            oldest = min((run.started for run in self._runs.values()), default=now)
            self._next_sweep = oldest + self.seconds  # before writing: the count lines pass here too
        self._write(ended)

    def _write(self, ended: list[Repeated | None]) -> None:
        for repeated in ended:
            if repeated is not None:
                self._emit(repeated)


def _ended(key: tuple[str, int, str], run: _Run, now: float) -> Repeated | None:
    """The count of ``run``'s interval, None when nothing was left out."""
    if not run.suppressed:
        return None
    return Repeated(key[0], key[1], key[2], run.suppressed, round(now - run.started, 1))


def _log_repeated(repeated: Repeated) -> None:
    """The count line, at the level of the lines it stands for."""
    get_logger(__name__).log(repeated.level, "log.repeated", logger=repeated.logger, template=repeated.template,
                             suppressed=repeated.suppressed, seconds=repeated.seconds)


_folder: RepeatFolder | None = None
#: The handler the configured logging writes through (its stream may be closed at exit).
_handler: logging.StreamHandler[Any] | None = None


def _install_folder(folder: RepeatFolder, handler: logging.StreamHandler[Any]) -> RepeatFolder:
    """Make ``folder`` the process's one (counts the previous one held are written first)."""
    global _folder, _handler
    if _folder is None:
        atexit.register(flush_repeated)
    else:
        _folder.flush()
    _folder, _handler = folder, handler
    return folder


def flush_repeated() -> None:
    """Write the counts of repeated library lines not written yet (run at exit).

    Not when the log's stream is closed already: a test runner closes the stream it lent before
    the interpreter's exit hooks run, and the counts would only become a "Logging error" traceback.
    """
    if _folder is not None and not (_handler is not None and getattr(_handler.stream, "closed", False)):
        _folder.flush()


def set_repeat_seconds(seconds: float) -> None:
    """Change the folding interval of the configured logging (0 = write every line)."""
    if _folder is not None:
        _folder.flush()
        _folder.seconds = seconds


def log_enabled_for(level: int) -> bool:
    """Whether lines of ``level`` are written at all (the level :func:`configure` set): a hot
    loop asks once instead of building a line per event that the filter then drops."""
    return logging.getLogger().isEnabledFor(level)


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
