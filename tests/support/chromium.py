"""Headless Chromium (Debian's /usr/bin/chromium) driven over the DevTools protocol, for page tests.

No Playwright and no Node: one websocket to the browser (aiohttp's client), one page target in
flat session mode. Synchronous methods run the protocol on a private event loop, so a test can
interleave them with its own Kafka and ClickHouse calls. ``serve_app`` serves an aiohttp app in
process, so a page can be tested on fixed data with no stack behind it.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import aiohttp
from aiohttp import web

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--no-default-browser-check", "--disable-extensions",
         "--disable-sync", "--mute-audio", "--hide-scrollbars", "--remote-debugging-port=0")
_LISTENING = re.compile(rb"DevTools listening on (ws://\S+)")


class PageError(AssertionError):
    """The page threw, or the browser could not do what the test asked."""


class Page:
    """One tab: navigate, evaluate JavaScript, take screenshots; JS exceptions are collected."""

    def __init__(self, loop: asyncio.AbstractEventLoop, ws: aiohttp.ClientWebSocketResponse, session: str) -> None:
        self._loop = loop
        self._ws = ws
        self._session = session
        self._ids = itertools.count(1000)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.exceptions: list[str] = []
        self._reader = loop.create_task(self._read())

    async def _read(self) -> None:
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            data = json.loads(message.data)
            if "id" in data and data["id"] in self._pending:
                self._pending.pop(data["id"]).set_result(data)
            elif data.get("method") == "Runtime.exceptionThrown":
                details = data["params"]["exceptionDetails"]
                self.exceptions.append(details.get("exception", {}).get("description") or details.get("text", "?"))

    async def _call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        call_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = self._loop.create_future()
        self._pending[call_id] = future
        await self._ws.send_str(json.dumps({"id": call_id, "method": method, "params": params or {},
                                            "sessionId": self._session}))
        reply = await asyncio.wait_for(future, timeout)
        if "error" in reply:
            raise PageError(f"{method}: {reply['error']}")
        return dict(reply.get("result", {}))

    def call(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        """Send one DevTools command to the page and return its result."""
        return self._loop.run_until_complete(self._call(method, params, timeout))

    def goto(self, url: str, width: int = 1400, height: int = 1000) -> None:
        """Open ``url`` in a window of this size and wait until it has loaded."""
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.call("Page.navigate", {"url": url})
        self.wait_for(f"document.readyState === 'complete' && location.href === {json.dumps(url)}", 30,
                      f"{url} loaded")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page; a thrown error fails the test."""
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise PageError(f"{expression!r} threw: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        """Poll a JavaScript expression until it is truthy; its value, or a failure naming ``what``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            self._loop.run_until_complete(asyncio.sleep(0.25))
        raise AssertionError(f"timed out after {timeout:.0f}s waiting for the page to show {what}")

    def datasets(self, selector: str) -> list[dict[str, str]]:
        """The ``data-*`` attributes of every element matching ``selector``, as the page decoded them.

        Pages mark what an element shows with one attribute per field (``data-agency``,
        ``data-service``...), never one joined string a name could contain the separator of; this
        reads them back as the exact strings, whatever characters they hold.
        """
        found = self.evaluate(f"[...document.querySelectorAll({json.dumps(selector)})].map(e => ({{...e.dataset}}))")
        return [dict(item) for item in found]

    def texts(self, selector: str, data: dict[str, str]) -> list[str]:
        """The text of every element matching ``selector`` whose ``data-*`` attributes equal ``data``.

        The values are compared in the page as strings (passed as JSON literals), not spliced into
        a CSS selector, so quotes, ``|`` or ``]`` in them cannot change what matches. A list, so a
        test can insist on exactly one element: two cells claiming the same names is a bug too.
        """
        wanted = json.dumps(data)
        return list(self.evaluate(
            f"(() => {{ const want = Object.entries({wanted});"
            f" return [...document.querySelectorAll({json.dumps(selector)})]"
            f".filter(e => want.every(([k, v]) => e.dataset[k] === v)).map(e => e.textContent); }})()"))

    def screenshot(self, path: Path) -> None:
        """A PNG of the whole page (not only the viewport)."""
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))


def ensure_chromium() -> None:
    """Debian's chromium, installed with apt-get on a bare machine (as the stack installs ClickHouse).

    Fails, never skips: a browser test that cannot run is a red build with the reason.
    """
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        raise PageError(f"{CHROMIUM} is missing: install Debian's chromium package (`sudo apt-get install chromium`)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
    result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env, check=False)
        result = subprocess.run(install, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0 or not Path(CHROMIUM).exists():
        raise PageError(f"apt-get could not install chromium:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


@contextmanager
def chromium_page(timeout: float = 30) -> Iterator[Page]:
    """A headless Chromium with one open tab; the browser and its profile are gone afterwards."""
    ensure_chromium()
    profile = Path(tempfile.mkdtemp(prefix="cxstream-chromium-"))
    process = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    loop = asyncio.new_event_loop()
    http: aiohttp.ClientSession | None = None
    try:
        url = _devtools_url(process, timeout)

        async def open_page() -> Page:
            nonlocal http
            http = aiohttp.ClientSession()
            ws = await http.ws_connect(url, max_msg_size=64 << 20)
            ids = itertools.count(1)

            async def browser_call(method: str, params: dict[str, Any]) -> dict[str, Any]:
                call_id = next(ids)
                await ws.send_str(json.dumps({"id": call_id, "method": method, "params": params}))
                while True:  # before the page exists, only the browser's replies arrive
                    reply = json.loads((await ws.receive(timeout)).data)
                    if reply.get("id") == call_id:
                        if "error" in reply:
                            raise PageError(f"{method}: {reply['error']}")
                        return dict(reply["result"])

            target = await browser_call("Target.createTarget", {"url": "about:blank"})
            attached = await browser_call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
            page = Page(loop, ws, attached["sessionId"])
            await page._call("Page.enable")
            await page._call("Runtime.enable")
            return page

        page = loop.run_until_complete(open_page())
        yield page
    finally:
        if http is not None:
            loop.run_until_complete(http.close())
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        loop.close()
        shutil.rmtree(profile, ignore_errors=True)


@contextmanager
def serve_app(app: web.Application, timeout: float = 30) -> Iterator[str]:
    """``app`` served on a free local port from a thread of its own; yields its base URL.

    The page object drives the browser synchronously on its private loop, so the server needs a
    loop that keeps running between those calls: a daemon thread. Port 0 lets the kernel pick a
    free port, so nothing else on this machine is disturbed. Cleanup runs the app's shutdown hooks
    (a dashboard ends its open event streams) before the loop stops.
    """
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="page-server", daemon=True)
    thread.start()
    runner = web.AppRunner(app, shutdown_timeout=5)

    async def start() -> int:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        return int(runner.addresses[0][1])

    try:
        port = asyncio.run_coroutine_threadsafe(start(), loop).result(timeout)
        yield f"http://127.0.0.1:{port}/"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        loop.close()


def _devtools_url(process: subprocess.Popen[bytes], timeout: float) -> str:
    """Chromium prints the browser's websocket address on stderr once it listens."""
    assert process.stderr is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line and process.poll() is not None:
            break
        seen += line
        match = _LISTENING.search(line)
        if match:
            # Keep reading (and dropping) what it says later, or a full pipe would block it.
            threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
            return match.group(1).decode()
    raise PageError(f"{CHROMIUM} did not open its DevTools port within {timeout:.0f}s; it said:\n"
                    f"{seen.decode(errors='replace')[-2000:]}")


def _drain(stream: IO[bytes]) -> None:
    for _ in iter(stream.readline, b""):
        pass
