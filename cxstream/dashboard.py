"""``cxstream dashboard``: one plain page of live rolling scores, pushed by server-sent events.

Reads the same ClickHouse views BI uses (``domain_scores_15m``); no state of its own.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import click
from aiohttp import web
from clickhouse_driver import Client

from cxstream.config import Settings

PUSH_SECONDS = 3.0

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>cxstream live scores</title>
<style>body{font:14px system-ui,sans-serif;margin:1em}table{border-collapse:collapse}
td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}td.l,th.l{text-align:left}
.low{color:#b00;font-weight:bold}small{color:#666}</style></head><body>
<h1>cxstream: rolling 15-minute pct positive</h1><p id="status">waiting for data…</p>
<table id="scores"><thead><tr><th class="l">agency</th><th class="l">service</th><th class="l">channel</th>
<th>domain</th><th>responses</th><th>pct positive</th><th>95% interval</th></tr></thead><tbody></tbody></table>
<script>
const body = document.querySelector('#scores tbody');
const source = new EventSource('events');
source.onmessage = (e) => {
  const data = JSON.parse(e.data);
  document.getElementById('status').textContent = 'updated ' + data.at + ', ' + data.rows.length + ' cells';
  body.innerHTML = data.rows.map(r => `<tr><td class="l">${r.agency}</td><td class="l">${r.service}</td>`
    + `<td class="l">${r.channel}</td><td>${r.domain}</td><td>${r.responses}</td>`
    + `<td class="${r.pct_positive < 50 ? 'low' : ''}">${r.pct_positive.toFixed(1)}</td>`
    + `<td><small>[${r.low.toFixed(0)}, ${r.high.toFixed(0)}]</small></td></tr>`).join('');
};
</script></body></html>"""


def read_scores(settings: Settings) -> list[dict[str, Any]]:
    """Every (agency, service, channel, domain) of the 15-minute view, plus the all-channels rows."""
    client = Client(host=settings.clickhouse_host, port=settings.clickhouse_port, user=settings.clickhouse_user,
                    password=settings.clickhouse_password, connect_timeout=3)
    db = settings.clickhouse_database
    columns = "agency, service, channel, domain, responses, pct_positive, pct_positive_low, pct_positive_high"
    try:
        rows = client.execute(f"SELECT {columns} FROM {db}.domain_scores_15m_all_channels "
                              f"UNION ALL SELECT {columns} FROM {db}.domain_scores_15m")
    finally:
        client.disconnect()
    names = ("agency", "service", "channel", "domain", "responses", "pct_positive", "low", "high")
    result = [dict(zip(names, row)) for row in rows]
    result.sort(key=lambda r: (r["agency"], r["service"], r["channel"] != "all", r["channel"], r["domain"]))
    return result


def build_app(settings: Settings) -> web.Application:
    """The page at ``/`` and its feed at ``/events``."""

    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def events(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        while True:
            try:
                rows = await asyncio.to_thread(read_scores, settings)
            except Exception:  # noqa: BLE001 - views not there yet or ClickHouse restarting: push nothing
                rows = []
            payload = {"at": time.strftime("%H:%M:%S"), "rows": rows}
            try:
                await response.write(f"data: {json.dumps(payload)}\n\n".encode())
            except ConnectionResetError:  # the browser went away: the feed simply ends
                return response
            await asyncio.sleep(PUSH_SECONDS)

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/events", events)
    return app


@click.command()
@click.option("--port", type=int, default=8080, show_default=True, help="HTTP port of the page.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.pass_obj
def dashboard(settings: Settings, port: int, host: str) -> None:
    """Serve the live scores page (rolling 15 minutes per agency, service, channel and domain)."""
    click.echo(f"cxstream dashboard: http://{host}:{port}/", err=True)
    web.run_app(build_app(settings), host=host, port=port, print=None)
