"""structlog, set up once: JSON lines when not on a TTY, pretty console output on a TTY.

Library logs (faust, aiokafka, kafka-python) go through the same renderer, so one stream of
structured lines explains a run. Event names are dotted nouns-verbs: ``stack.kafka.started``.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
#: Chatty libraries are held at WARNING unless cxstream itself is at DEBUG.
_NOISY = ("kafka", "aiokafka", "faust", "mode", "clickhouse_driver", "urllib3")


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


def get_logger(name: str) -> Any:
    """A structlog logger for module ``name``."""
    return structlog.get_logger(name)


def _identity(_logger: Any, _name: str, event: Any) -> Any:
    return event


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
