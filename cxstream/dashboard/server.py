"""The live page's server: one plain page of live scores and open alerts, pushed by server-sent events.

Reads the ClickHouse views BI uses (``cxstream.dashboard.queries``); no state of its own. One feed task
reads a snapshot every ``push_seconds`` while at least one browser is connected and hands the
same snapshot to every open page, so ten operators cost ClickHouse what one does.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from clickhouse_driver.errors import ServerException

from cxstream.config import Settings
from cxstream.dashboard.page import render_page
from cxstream.dashboard.queries import Snapshot, read_snapshot
from cxstream.logs import get_logger
from cxstream.sinks.connection import server_message
from cxstream.vocabulary import DOMAINS

log = get_logger(__name__)

PUSH_SECONDS = 3.0


class Feed:
    """The latest snapshot (or the reason there is none), refreshed while anyone listens."""

    def __init__(self, settings: Settings, push_seconds: float = PUSH_SECONDS,
                 reader: Callable[[Settings], Snapshot] = read_snapshot) -> None:
        self.settings = settings
        self.push_seconds = push_seconds
        self._reader = reader
        self.seq = 0
        self.message: dict[str, Any] | None = None
        self.listeners = 0
        self._changed = asyncio.Condition()
        self._wanted = asyncio.Event()
        self._last_error = ""
        self.closed = False

    async def run(self) -> None:
        """Read, publish, sleep; idle (no queries) while no page is open."""
        while True:
            await self._wanted.wait()
            started = time.monotonic()
            try:
                snapshot = await asyncio.to_thread(self._reader, self.settings)
                message: dict[str, Any] = snapshot.to_json()
                if self._last_error:
                    log.info("dashboard.read_recovered")
                self._last_error = ""
            except Exception as error:  # noqa: BLE001 - ClickHouse down or not migrated yet: say so on the page
                text = _describe(error)
                if text != self._last_error:
                    log.warning("dashboard.read_failed", error=text, database=self.settings.clickhouse_database)
                self._last_error = text
                message = {"error": text}
            async with self._changed:
                self.seq += 1
                self.message = message
                self._changed.notify_all()
            await asyncio.sleep(max(0.0, self.push_seconds - (time.monotonic() - started)))

    async def listen(self, after: int) -> tuple[int, dict[str, Any]] | None:
        """The next message after sequence number ``after`` (the current one if it is newer); None
        once the server is shutting down."""
        async with self._changed:
            await self._changed.wait_for(lambda: self.closed or (self.seq > after and self.message is not None))
            if self.closed or self.message is None:
                return None
            return self.seq, self.message

    async def close(self) -> None:
        """End every open feed, so a shutdown does not wait for browsers to hang up."""
        async with self._changed:
            self.closed = True
            self._changed.notify_all()

    def subscribe(self) -> None:
        self.listeners += 1
        self._wanted.set()

    def unsubscribe(self) -> None:
        self.listeners -= 1
        if self.listeners == 0:
            self._wanted.clear()
            self.message = None  # the next page to open waits for a fresh read, not an old one


FEED = web.AppKey("feed", Feed)


def _describe(error: Exception) -> str:
    """One line for the page and the log: the server's message, or the connection problem."""
    if isinstance(error, ServerException):
        return server_message(error)[:300]
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0] if lines else 'no detail'}"[:300]


def build_app(settings: Settings, push_seconds: float = PUSH_SECONDS,
              reader: Callable[[Settings], Snapshot] = read_snapshot) -> web.Application:
    """The page at ``/``, its feed at ``/events`` and the latest snapshot at ``/snapshot.json``.

    ``reader`` is ClickHouse's unless a test hands in fixed snapshots, so the page's own JavaScript
    can be checked in a browser on exactly the data that would trip it, without the stack.
    """
    page_html = render_page(float(settings.alert_threshold_pct), push_seconds, DOMAINS)

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=page_html, content_type="text/html")

    async def events(request: web.Request) -> web.StreamResponse:
        feed = request.app[FEED]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        feed.subscribe()
        seen = 0
        try:
            while (update := await feed.listen(seen)) is not None:
                seen, message = update
                await response.write(f"data: {json.dumps(message)}\n\n".encode())
            return response
        except (ConnectionResetError, ConnectionError):  # the browser went away: the feed simply ends
            return response
        finally:
            feed.unsubscribe()

    async def snapshot(request: web.Request) -> web.Response:
        feed = request.app[FEED]
        feed.subscribe()  # a script polling this keeps the feed reading, like an open page
        try:
            update = await feed.listen(max(feed.seq - 1, 0))
        finally:
            feed.unsubscribe()
        if update is None:
            raise web.HTTPServiceUnavailable(text="shutting down")
        return web.json_response(update[1])

    async def start_feed(app: web.Application) -> Any:
        feed = Feed(settings, push_seconds, reader)
        app[FEED] = feed
        task = asyncio.create_task(feed.run())
        yield
        task.cancel()

    async def end_feeds(app: web.Application) -> None:
        await app[FEED].close()

    app = web.Application()
    app.cleanup_ctx.append(start_feed)
    app.on_shutdown.append(end_feeds)
    app.router.add_get("/", page)
    app.router.add_get("/events", events)
    app.router.add_get("/snapshot.json", snapshot)
    return app
