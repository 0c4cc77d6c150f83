"""The gateway's routes and the order of its checks.

Per ingest request: API key (401) -> rate limit (429) -> content type (415) -> size (413) ->
records validated (422 when none is valid) -> every valid record's agency and channel against the
key (403, nothing written) -> Kafka (503) -> 200 with what was accepted and what was rejected.
Any status but 200 means nothing of the request was written, except a 503 saying
``written: "unknown"`` (see ``cxstream.gateway.delivery``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from cxstream.config import Settings
from cxstream.contract_kinds import JsonKind, input_kinds
from cxstream.gateway import openapi
from cxstream.gateway.batch import Sorted, is_batch, sort_records
from cxstream.gateway.delivery import KafkaDelivery, Message
from cxstream.gateway.errors import Refusal
from cxstream.gateway.keys import ApiKey, KeyFileWatcher
from cxstream.gateway.ratelimit import RateLimiter
from cxstream.kafka_clients import security_options
from cxstream.logs import get_logger
from cxstream.schemas.codec import Codec
from cxstream.schemas.records import Feedback, Touchpoint

log = get_logger(__name__)

Deliver = Callable[[list[Message]], Awaitable[None]]
TRAFFIC_REPORT_SECONDS = 60.0


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
            key = self._authenticate(request)
            request["key_id"] = key.key_id
            wait = self.limiter.check(key.key_id, key.rate_per_second)
            if wait:
                raise Refusal(429, "rate_limited", f"key {key.key_id} may make {key.rate_per_second} requests "
                              f"per second; retry after {wait}s", headers={"Retry-After": str(wait)})
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

    async def _body(self, request: web.Request) -> bytes:
        limit = self.settings.gateway_max_bytes
        too_large = Refusal(413, "body_too_large", f"the body is larger than {limit} bytes: split the batch",
                            max_bytes=limit)
        if request.content_length is not None and request.content_length > limit:
            raise too_large
        try:
            return await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise too_large from None

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
    """Answers by status since the last report, logged as one ``gateway.traffic`` line a minute."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()

    def report(self) -> None:
        if self.statuses:
            log.info("gateway.traffic", **{f"status_{k}": v for k, v in sorted(self.statuses.items())})
            self.statuses.clear()


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
                 key_id=request.get("key_id"))
            return web.json_response(refusal.body(), status=refusal.status, headers=refusal.headers)
        traffic.statuses[response.status] += 1
        return response

    return middleware


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
