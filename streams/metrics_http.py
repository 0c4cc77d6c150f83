"""The worker's Prometheus endpoint: one registry per process, served on its own port.

Not on Faust's web server: cxstream runs Faust with ``web_enabled=False``, and turning it on
would also publish Faust's table views (``/table/<name>/<key>/`` returns stored values, and the
join's pending table holds feedback comments), bind 0.0.0.0:6066 by default, and start only after
table recovery, which is when an operator most needs to see the worker. Instead
prometheus_client's own server answers in a thread: a scrape never waits for (nor delays) the
event loop, and still answers, with the lag growing, when the loop is stuck.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector, start_http_server
from prometheus_client.metrics_core import Metric

from cxstream.config import Settings
from cxstream.errors import ConfigError
from cxstream.logs import get_logger
from cxstream.streams.consumer_lag import ConsumerLag

log = get_logger(__name__)


class FamiliesCollector:
    """A collector whose metrics come from a function, called at each scrape."""

    def __init__(self, families: Callable[[], Iterable[Metric]]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families()


def new_registry() -> CollectorRegistry:
    """A registry for this process, with the standard process_* and python_* metrics."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


@dataclass
class MetricsEndpoint:
    """/metrics on ``metrics_host:metrics_port``, and the lag measurement behind it."""

    settings: Settings
    registry: CollectorRegistry = field(default_factory=new_registry)
    lag: ConsumerLag | None = None
    _server: Any = None
    _thread: threading.Thread | None = None

    def add(self, families: Callable[[], Iterable[Metric]]) -> None:
        """Serve the metrics ``families()`` returns at each scrape."""
        self.registry.register(FamiliesCollector(families))

    @property
    def port(self) -> int:
        """The bound port (the configured one, or the one the OS chose)."""
        return int(self._server.server_port) if self._server is not None else 0

    def start(self) -> None:
        """Bind the port and start the lag measurement; a port in use is a configuration error."""
        s = self.settings
        try:
            self._server, self._thread = start_http_server(s.metrics_port, addr=s.metrics_host, registry=self.registry)
        except OSError as error:
            raise ConfigError(
                f"cannot serve /metrics on {s.metrics_host}:{s.metrics_port} ({error.strerror or error}): "
                "set CXSTREAM_METRICS_PORT to a free port (each worker on a host needs its own), or 0 for no endpoint"
            ) from None
        self.lag = ConsumerLag(s)
        self.add(self.lag.families)
        self.lag.start()
        log.info("metrics.serving", host=s.metrics_host, port=self.port, path="/metrics",
                 lag_interval_s=s.metrics_lag_seconds)

    def stop(self) -> None:
        if self.lag is not None:
            self.lag.stop()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
