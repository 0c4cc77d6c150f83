"""``cxstream worker``: the Faust app with its stages, ticks and periodic metrics log."""

from __future__ import annotations

import ctypes
import json
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from types import FrameType
from typing import Any, TypeVar

import faust
import uvloop

from cxstream.collector import tune_collector
from cxstream.config import Settings
from cxstream.errors import ConfigError
from cxstream.kafka_clients import admin_client, until_kafka_answers
from cxstream.logs import get_logger, set_repeat_seconds
from cxstream.schemas.codec import Codec
from cxstream.topics import ensure_topics
from cxstream.sinks.child import SinkChild, stop_this_process
from cxstream.sinks.service import ClickHouseSink
from cxstream.streams.acking import ConfirmedAcks, fail_stop
from cxstream.streams.dispatch import DirectDispatch, trace_dispatch
from cxstream.streams.faust_tuning import deliver_without_tasks
from cxstream.streams.fast_producer import FastProducer, FastTopic, route_changelog
from cxstream.streams.alert_stage import RETIRED_ALERT_TABLE, AlertStage
from cxstream.streams.app import Topics, create_app, declare_topics, internal_topic_names, table_options, worker_data_dir
from cxstream.streams.join_stage import JoinStage
from cxstream.streams.merge_stage import RETIRED_MERGE_TABLE, MergeStage
from cxstream.streams.metrics import METRICS, worker_families
from cxstream.streams.metrics_http import MetricsEndpoint
from cxstream.streams.score_stage import RETIRED_CELL_TABLE, ScoreStage
from cxstream.streams.stage import Stage, attach, faust_tables
from cxstream.streams.state_tables import ChangelogTable
from cxstream.vocabulary import CONTRACT_TOPICS

log = get_logger(__name__)
T = TypeVar("T")
METRICS_LOG_SECONDS = 30.0
#: How often the worker checks that its sink process still runs.
SINK_WATCH_SECONDS = 1.0
#: glibc's mallopt parameter number for the arena limit, and the limit the worker asks for.
M_ARENA_MAX = -8
MALLOC_ARENAS = 2
#: How often processed events are confirmed and acked: bounds the extra delay before a commit.
CONFIRM_SECONDS = 0.2
#: The stages, in data-flow order: join -> dedupe and score -> merge -> alerts.
STAGES: tuple[type[JoinStage] | type[ScoreStage] | type[MergeStage] | type[AlertStage], ...] = (
    JoinStage, ScoreStage, MergeStage, AlertStage)


def build(settings: Settings, endpoint: MetricsEndpoint | None = None,
          sink_child: SinkChild | None = None) -> faust.App:
    """The app with every stage wired; nothing runs until a faust Worker starts it. ``endpoint``
    (if any) serves the stages' and the sink's metrics. The sink runs in ``sink_child`` if given
    (the caller starts and stops it; the app watches it), else in the app if it is enabled."""
    app = create_app(settings, worker_data_dir(settings))
    topics = declare_topics(app, settings)
    codec = Codec()
    fast = FastProducer(settings, client_id=app.conf.id) if settings.producer == "librdkafka" else None
    acks = ConfirmedAcks(app, topics.confirms, also_flush=fast.flush if fast is not None else None)
    options = table_options(settings)
    written = topics if fast is None else through(fast, topics)
    tables = [faust_tables(app, kind.table_names, topics.partitions, options) for kind in STAGES]
    if fast is not None:
        for table in app.tables.values():
            route_changelog(table, fast)
        direct = [{name: ChangelogTable(table, fast) for name, table in kind_tables.items()} for kind_tables in tables]
        sends = [table.send_changelog for kind_tables in direct for table in kind_tables.values()]
        acks.before_flush.extend(sends)
        tables = direct  # type: ignore[assignment]

        @app.on_partitions_revoked.connect  # type: ignore[arg-type]
        async def flush_before_giving_up(_app: Any, _revoked: set[Any], **_: Any) -> None:
            # Faust has stopped the streams by now: the next owner of these table partitions
            # must find every write made here in their changelogs.
            for send in sends:
                send()
            await fast.flush()
    stages: list[Stage] = [kind(settings, written, codec, kind_tables) for kind, kind_tables in zip(STAGES, tables, strict=True)]
    dispatch: DirectDispatch | None = None
    if settings.dispatch == "direct":
        align = (topics.touchpoints.get_topic_name(), topics.feedback.get_topic_name(), topics.ticks.get_topic_name())
        dispatch = DirectDispatch(app, acks, stages, align=align if settings.align_inputs else None)
        trace_dispatch(dispatch)  # first: install() hands the consumer whatever on_message is then
        dispatch.install()
    else:
        deliver_without_tasks(app.consumer)
        for stage in stages:
            attach(app, acks, stage)
    ticks_topic = topics.ticks.get_topic_name()
    if endpoint is not None:
        endpoint.add(lambda: worker_families(METRICS, acks, settings.topic_prefix))

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def on_assigned(_app: Any, assigned: set[Any], **_: Any) -> None:
        mine = {tp.partition for tp in assigned if tp.topic == ticks_topic}
        for stage in stages:
            stage.on_assigned(mine)
        if dispatch is not None:
            dispatch.forget()
        log.info("worker.partitions_assigned", partitions=sorted(mine))

    @app.timer(settings.emit_interval_ms / 1000.0)
    async def tick() -> None:
        """One tick per owned partition: periodic table work runs inside that partition's stream."""
        assignment = app.consumer.assignment()
        for tp in assignment:
            if tp.topic == ticks_topic:
                await topics.ticks.send(key=b"tick", value=b"{}", partition=tp.partition)

    @app.task
    async def confirm() -> None:
        """Ack what the stages processed, once the broker has everything it caused."""
        await acks.run(CONFIRM_SECONDS)

    if sink_child is not None:
        child = sink_child
        if endpoint is not None:
            endpoint.add(child.families)

        @app.timer(SINK_WATCH_SECONDS)
        async def watch_sink() -> None:
            """The sink's process: the worker never runs on without it."""
            child.watch(stop_this_process, fail_stop)

    elif settings.sink_enabled:
        sink = ClickHouseSink(settings)
        if endpoint is not None:
            endpoint.add(lambda: sink.metrics.families(settings.topic_prefix))

        @app.task
        async def write_to_clickhouse() -> None:
            """The sink: its own consumer group, so a slow ClickHouse never stalls the stages."""
            try:
                await sink.run()
            except Exception as exc:  # noqa: BLE001 - a broken sink must not look like a live one
                fail_stop("sink.failed", error=repr(exc))

        @app.timer(METRICS_LOG_SECONDS)
        async def log_sink_metrics() -> None:
            log.info("sink.metrics", **sink.metrics.snapshot())

    @app.timer(METRICS_LOG_SECONDS)
    async def log_metrics() -> None:
        log.info("worker.metrics", acks_confirmed=acks.confirmed, acks_held=acks.held, acks_released=acks.released,
                 **METRICS.snapshot())

    @app.task
    async def started() -> None:
        log.info("worker.started", app=settings.worker_id, bootstrap=settings.bootstrap_servers,
                 partitions=settings.partitions, settings=json.dumps(settings.describe()))

    return app


def through(producer: FastProducer, topics: Topics) -> Topics:
    """``topics`` with every topic the stages write produced through ``producer`` (the ticks and
    the confirmation markers stay Faust's: they pace Faust's own machinery)."""
    outputs = ("rekeyed", "joined", "partials", "alert_input", "enriched", "scores", "trust_scores",
               "driver_scores", "alerts", "deadletters")
    fast: dict[str, Any] = {role: FastTopic(getattr(topics, role).get_topic_name(), producer) for role in outputs}
    return replace(topics, **fast)


def run(settings: Settings) -> None:
    """Serve /metrics (first: a port in use stops the start at once), wait for Kafka, make sure
    every topic exists (same partition count), then run the worker until it is stopped."""
    set_repeat_seconds(settings.log_repeat_seconds)
    endpoint = MetricsEndpoint(settings) if settings.metrics_port else None
    if endpoint is not None:
        endpoint.start()
    try:
        _run(settings, endpoint)
    except StopRequested as stop:
        log.info("worker.stopped", signal=signal.Signals(stop.signum).name, phase="start-up")
        if stop.signum == signal.SIGINT:
            raise SystemExit(130) from None  # the shell's code for "interrupted"
    finally:
        if endpoint is not None:
            endpoint.stop()


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Ask glibc for at most ``arenas`` malloc arenas (``M_ARENA_MAX``), before threads start.

    glibc gives each thread that allocates its own arena, and freed memory stays in them: with
    librdkafka's threads and the flush thread, the worker's RSS grew to 815 MiB in a 300k
    touchpoint run and stayed there; with two arenas, 538 MiB (BENCHMARKS.md). What
    ``MALLOC_ARENA_MAX=2`` in the environment does, for every way the worker is started. False
    where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False


def _run(settings: Settings, endpoint: MetricsEndpoint | None) -> None:
    limit_malloc_arenas()
    tune_collector(settings.gc_young_threshold)
    if settings.event_loop == "uvloop":
        # Before anything asks for a loop: the app, the consumer and Faust's worker all take the
        # policy's loop. About a tenth of the worker's CPU is the loop itself (BENCHMARKS.md).
        uvloop.install()
    child = SinkChild(settings) if settings.sink_enabled and settings.sink_process == "child" else None
    with _stop_on_signals():
        app = _prepare(settings, endpoint, child)
    # override_logging=False: the cxstream CLI configured logging (JSON lines); Faust's own setup
    # would print its first lines in its own text format until the app started.
    worker = faust.Worker(app, loglevel=settings.log_level.upper() if settings.log_level != "warning" else "WARN",
                          quiet=True, redirect_stdouts=False, override_logging=False)
    worker.spinner = None  # Faust's terminal spinner writes escape codes into the log stream
    if child is not None:
        child.start()  # once the topics exist; it starts (imports, migrations) while Faust does
    try:
        worker.execute_from_commandline()
    finally:
        if child is not None:
            child.stop()  # after the stages stopped: it writes what it holds, then ends


def _prepare(settings: Settings, endpoint: MetricsEndpoint | None, sink_child: SinkChild | None = None) -> faust.App:
    """The app, once its topics exist and no retired state stands in the way.

    Each step that needs Kafka waits for it (one ``worker.waiting_for_kafka`` line per attempt):
    a worker started before the cluster, or during an outage, starts when Kafka answers."""

    def kafka(step: Callable[[], T], what: str) -> T:
        return until_kafka_answers(settings, step, what=what, event="worker.waiting_for_kafka",
                                   max_delay=float(settings.kafka_wait_max_seconds))

    kafka(lambda: ensure_topics(settings, CONTRACT_TOPICS + internal_topic_names(settings)), "create the topics")
    app = build(settings, endpoint, sink_child)
    kafka(lambda: refuse_retired_state(settings, app), "list the topics")
    # The tables' changelogs too (compacted, as Faust would make them): when Faust declares them
    # itself, a stage's first table write can race the new topic's metadata and fail with
    # PartitionsMismatch ("changelog has 0 partitions"), which stops the worker.
    changelogs = tuple(table.changelog_topic.get_topic_name() for table in app.tables.values())
    kafka(lambda: ensure_topics(settings, changelogs, prefixed=True, configs={"cleanup.policy": "compact"}),
          "create the changelog topics")
    return app


class StopRequested(BaseException):
    """SIGTERM or SIGINT before Faust started. A BaseException, like KeyboardInterrupt: the Kafka
    clients' ``except Exception`` retry loops must not swallow it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """Until Faust installs its own handlers: SIGTERM or Ctrl-C ends the start-up at once, even
    in the middle of a pause or a connection attempt (it may wait for Kafka for hours)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise StopRequested(signum)

    # A signal the parent told this process to ignore (SIGINT of a background job) stays ignored.
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)
                if signal.getsignal(signum) is not signal.SIG_IGN}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


#: Tables of earlier releases whose values this release cannot read.
RETIRED_TABLES = (RETIRED_CELL_TABLE, RETIRED_MERGE_TABLE, RETIRED_ALERT_TABLE)


def refuse_retired_state(settings: Settings, app: faust.App) -> None:
    """Stop before consuming if this worker id holds state in a layout this release no longer reads.

    Starting anyway would begin the new tables empty while the committed offsets say the old ones
    hold the counts so far: every window still open would lose what came before the upgrade."""
    retired = {f"{app.conf.id}-{name}-changelog" for name in RETIRED_TABLES}
    admin = admin_client(settings, "cxstream-worker-check")
    try:
        found = sorted(retired & set(admin.list_topics()))
    finally:
        admin.close()
    if found:
        raise ConfigError(
            f"worker id {settings.worker_id!r} has scoring state from an earlier cxstream release in "
            f"{', '.join(found)}, in a layout this release does not read (a value per domain; now one "
            "value holds every domain of a cell, or of an agency and service). Reprocess under a new id (CXSTREAM_WORKER_ID or "
            "--worker-id) into a new database (CXSTREAM_CLICKHOUSE_DATABASE): the new id starts from "
            "the input topics' start, and its score versions restart, so they must not meet the old "
            "id's rows. Then delete the old id's topics and database."
        )
