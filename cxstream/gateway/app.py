"""The gateway's routes and the order of its checks.

Per ingest request: requests in flight from the client's address (429) -> API key (401) -> rate
limit (429) -> requests in flight with the key (429) -> content type (415) -> size (413) -> the body
within its deadline (408) -> records validated (422 when none is valid) -> every valid record's
agency and channel against the key (403, nothing written) -> Kafka (503) -> 200 with what was
accepted and what was rejected. Any status but 200 means nothing of the request was written,
except a 503 saying ``written: "unknown"`` (see ``cxstream.gateway.delivery``).

Slow clients are bounded in time and number: headers by the server's keep-alive timeout
(``server_options``), the body by ``gateway_body_timeout_seconds``, and requests in flight per key
and per address (``cxstream.gateway.inflight``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypedDict

from aiohttp import web

from cxstream.config import Settings
from cxstream.ingest.kinds import JsonKind, input_kinds
from cxstream.gateway import openapi
from cxstream.gateway.batch import Sorted, is_batch, sort_records
from cxstream.gateway.delivery import KafkaDelivery, Message
from cxstream.gateway.errors import ClientGone, Refusal
from cxstream.gateway.inflight import Slots, too_many
from cxstream.gateway.keys import ApiKey, KeyFileWatcher
from cxstream.gateway.ratelimit import RateLimiter
from cxstream.kafka_clients import security_options
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback, Touchpoint

log = get_logger(__name__)

Deliver = Callable[[list[Message]], Awaitable[None]]
TRAFFIC_REPORT_SECONDS = 60.0
#: The authenticated key of a request, for the refusal log line.
KEY_ID = web.RequestKey("key_id", str)


@dataclass(frozen=True)
class Route:
    """One ingest endpoint: its input kind and the field naming a record."""

    kind: JsonKind
    id_field: str


class Gateway:
    """The request handling, independent of how Kafka is reached (``deliver``)."""

    def __init__(self, settings: Settings, keys: KeyFileWatcher, deliver: Deliver,
                 limiter: RateLimiter | None = None) -> None:
        self.settings = settings
        self.keys = keys
        self.deliver = deliver
        self.limiter = limiter or RateLimiter()
        self.traffic = Traffic()
        self.per_key = Slots(settings.gateway_in_flight_per_key)
        self.per_address = Slots(settings.gateway_in_flight_per_address)
        kinds = input_kinds(Codec(), settings.topic)
        self.routes = {"touchpoints": Route(kinds["touchpoints"], "touchpoint_id"),
                       "feedback": Route(kinds["feedback"], "feedback_id")}
        self._openapi = json.dumps(openapi.document()).encode()

    def application(self) -> web.Application:
        # Bodies are read by the handler with its own limit (to answer 413 in the gateway's words).
        app = web.Application(client_max_size=self.settings.gateway_max_bytes,
                              middlewares=[_refusals(self.traffic)])
        app.router.add_post("/v1/touchpoints", self._ingest("touchpoints"))
        app.router.add_post("/v1/feedback", self._ingest("feedback"))
        app.router.add_get("/v1/openapi.json", self._openapi_document)
        app.router.add_get("/healthz", _health)
        return app

    def _ingest(self, name: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        route = self.routes[name]

        async def handler(request: web.Request) -> web.Response:
            started = time.monotonic()
            address = request.remote or "unknown"
            with self.per_address.hold(address, lambda: too_many(f"address {address}", self.per_address.limit)):
                key = self._authenticate(request)
                request[KEY_ID] = key.key_id
                self._check_rate(key)
                with self.per_key.hold(key.key_id, lambda: too_many(f"key {key.key_id}", self.per_key.limit)):
                    return await accept(request, key, started)

        async def accept(request: web.Request, key: ApiKey, started: float) -> web.Response:
            """Read, validate, authorize and deliver the records of an admitted request."""
            batch = is_batch(request.content_type)
            body = await self._body(request)
            records = sort_records(body, batch, route.kind, self.settings.gateway_max_records, route.id_field)
            if not records.accepted:
                detail = "no record was given" if not records.count else "no record was valid; nothing was written"
                raise Refusal(422, "invalid", detail, accepted=0, rejected=[r.to_json() for r in records.rejected])
            _authorize(key, records, route.id_field)
            await self.deliver([Message(route.kind.topic, *route.kind.encode(record))
                                for _, record in records.accepted])
            log.debug("gateway.accepted", kind=name, key_id=key.key_id, accepted=len(records.accepted),
                      rejected=len(records.rejected), ms=round((time.monotonic() - started) * 1000, 1))
            return web.json_response({"accepted": len(records.accepted),
                                      "rejected": [r.to_json() for r in records.rejected]})

        return handler

    def _authenticate(self, request: web.Request) -> ApiKey:
        header = request.headers.get("Authorization", "")
        scheme, _, presented = header.partition(" ")
        if not header or scheme.lower() != "bearer":
            raise Refusal(401, "unauthenticated", "send the API key as 'Authorization: Bearer <key>'",
                          headers={"WWW-Authenticate": 'Bearer realm="cxstream"'})
        self.keys.refresh()
        key = self.keys.current.authenticate(presented)
        if key is None:
            raise Refusal(401, "unauthenticated", "unknown or revoked API key",
                          headers={"WWW-Authenticate": 'Bearer realm="cxstream", error="invalid_token"'})
        return key

    def _check_rate(self, key: ApiKey) -> None:
        """429 when the key is over its requests per second (a token bucket per key)."""
        wait = self.limiter.check(key.key_id, key.rate_per_second)
        if wait:
            raise Refusal(429, "rate_limited", f"key {key.key_id} may make {key.rate_per_second} requests "
                          f"per second; retry after {wait}s", headers={"Retry-After": str(wait)})

    async def _body(self, request: web.Request) -> bytes:
        """The whole body, read within the body deadline so a client that stalls cannot hold a slot."""
        limit = self.settings.gateway_max_bytes
        too_large = Refusal(413, "body_too_large", f"the body is larger than {limit} bytes: split the batch",
                            max_bytes=limit)
        if request.content_length is not None and request.content_length > limit:
            raise too_large
        seconds = self.settings.gateway_body_timeout_seconds
        try:
            async with asyncio.timeout(seconds):
                return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large from None
        except ConnectionError:  # aiohttp's "Connection lost": the client closed mid-body
            raise ClientGone() from None
        except TimeoutError:
            raise Refusal(408, "body_timeout", f"the body did not arrive within {seconds}s of the headers: send "
                          "it at once, or smaller batches; nothing was written", close=True,
                          timeout_seconds=seconds) from None

    async def _openapi_document(self, _request: web.Request) -> web.Response:
        return web.Response(body=self._openapi, content_type="application/json")


def _authorize(key: ApiKey, records: Sorted, id_field: str) -> None:
    """403 when any valid record names another agency or a channel the key is not bound to."""
    refused = []
    for position, record in records.accepted:
        agency, channel = _attribution(record)
        if not key.allows(agency, channel):
            refused.append({"record": position, "id": getattr(record, id_field), "agency": agency,
                            "channel": channel})
    if refused:
        raise Refusal(403, "forbidden", f"key {key.key_id} may post for agency {key.agency!r} on channels "
                      f"{', '.join(key.channels)} only; nothing was written", refused=refused)


def _attribution(record: Touchpoint | Feedback) -> tuple[str | None, str | None]:
    return record.agency, record.channel


#: Refusals a flood produces (wrong keys, a key over its limit): logged at debug, one line each, so
#: a flood cannot fill the disk; ``gateway.traffic`` counts them every minute.
_QUIET_STATUSES = frozenset({401, 429})


class Traffic:
    """Answers by status since the last report, logged as one ``gateway.traffic`` line a minute.

    ``client_gone`` counts requests whose client closed the connection before its body arrived
    (no answer was sent, so they have no status).
    """

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.client_gone = 0

    def report(self) -> None:
        if self.statuses or self.client_gone:
            gone = {"client_gone": self.client_gone} if self.client_gone else {}
            log.info("gateway.traffic", **{f"status_{k}": v for k, v in sorted(self.statuses.items())}, **gone)
            self.statuses.clear()
            self.client_gone = 0


def _refusals(traffic: Traffic) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                         ) -> web.StreamResponse:
        """A Refusal becomes its JSON answer, logged by key id and status (never the body)."""
        try:
            response = await handler(request)
        except Refusal as refusal:
            traffic.statuses[refusal.status] += 1
            emit = log.debug if refusal.status in _QUIET_STATUSES else log.info
            emit("gateway.refused", path=request.path, status=refusal.status, error=refusal.code,
                 key_id=request.get(KEY_ID))
            answer = web.json_response(refusal.body(), status=refusal.status, headers=refusal.headers)
            if refusal.close:
                await _answer_and_close(request, answer)
            return answer
        except ClientGone:
            traffic.client_gone += 1
            log.debug("gateway.client_gone", path=request.path, key_id=request.get(KEY_ID))
            # aiohttp finds the connection closed when it writes this and drops it without a log line.
            return web.Response(status=400, text="the connection closed before the whole body arrived")
        traffic.statuses[response.status] += 1
        return response

    return middleware


async def _answer_and_close(request: web.Request, answer: web.Response) -> None:
    """Send ``answer`` (``Connection: close``) now, then close the connection at once.

    Without this, aiohttp would keep reading and discarding the rest of an unread body for up to
    its lingering time (10 s) before closing: exactly the holding a stalled client is refused for.
    The client's bytes so far were already read off the socket, so the close does not reset the
    connection under the answer. A client already gone is no error.
    """
    answer.force_close()
    try:
        await answer.prepare(request)
        await answer.write_eof()
    except ConnectionError:
        log.debug("gateway.client_gone", path=request.path, status=answer.status)
    finally:
        request.protocol.force_close()


class ServerOptions(TypedDict):
    """What `cxstream gateway` passes to aiohttp's server (``web.run_app``, ``web.AppRunner``)."""

    keepalive_timeout: float


def server_options(settings: Settings) -> ServerOptions:
    """The server's bound on slow headers: aiohttp's keep-alive timeout.

    aiohttp (3.14) has no header timeout of its own; its keep-alive timer is armed when a
    connection opens and again after each answer, and closes the connection if no complete request
    line and headers arrived by then (bytes trickling in do not re-arm it). So this one number is
    the deadline for a request's headers and how long an idle keep-alive connection stays open.
    """
    return {"keepalive_timeout": float(settings.gateway_header_timeout_seconds)}


async def _health(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build(settings: Settings) -> web.Application:
    """The gateway app with a Kafka producer (secured as the settings say) started and stopped with it."""
    delivery = KafkaDelivery(settings.bootstrap_servers, settings.gateway_ack_timeout_ms,
                             security_options(settings))
    gateway = Gateway(settings, KeyFileWatcher(settings.gateway_keys_file), delivery.deliver)
    app = gateway.application()

    async def kafka(_app: web.Application) -> AsyncIterator[None]:
        await delivery.start(tuple(r.kind.topic for r in gateway.routes.values()))
        log.info("gateway.kafka_connected", bootstrap=settings.bootstrap_servers)
        yield
        await delivery.stop()

    async def traffic_reports(_app: web.Application) -> AsyncIterator[None]:
        async def every_minute() -> None:
            while True:
                await asyncio.sleep(TRAFFIC_REPORT_SECONDS)
                gateway.traffic.report()

        task = asyncio.create_task(every_minute())
        yield
        task.cancel()
        gateway.traffic.report()

    app.cleanup_ctx.append(kafka)
    app.cleanup_ctx.append(traffic_reports)
    return app
