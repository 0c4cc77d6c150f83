"""Records to Kafka, acknowledged by every in-sync replica (acks=all) before a request is answered.

Why aiokafka and not kafka-python (which ``cxstream publish`` uses): the gateway is an asyncio
server, and aiokafka's send returns a future resolved in the same event loop when the broker
acknowledges, so each request simply awaits its own records; kafka-python's futures resolve on
its I/O thread and its send can block the loop while it waits for metadata or buffer room.
aiokafka is already pinned (Faust runs on it) and speaks SASL PLAIN/SCRAM and TLS.

What "half-written" means and how it is avoided. A request is half-written if the gateway answers
success while one of its accepted records is not in Kafka, or answers failure while some of them
are, unannounced. So:
- success (200) only once every accepted record of the request was acknowledged;
- when the broker is known to be out (its metadata cannot be had, or a delivery failed within the
  last ``cooldown`` seconds) nothing is handed to the producer and the answer is 503 with
  ``written: "none"``;
- once records were handed over, a failure is answered 503 with ``written: "unknown"`` (some may
  be in Kafka: a produce request can land while its answer is lost, which no client can rule out
  without transactions). Records not yet sent when the answer goes out have expired in the
  producer (its request timeout is the acknowledgement timeout), so they are never sent later.
The client then retries the whole request with the same ids: the pipeline keeps one touchpoint
per touchpoint_id and counts one feedback per feedback_id, so a record written twice counts once.
Kafka transactions are not used: they would serialise every request through one transaction at a
time, and the worker reads uncommitted records, so an aborted batch would be read anyway.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from cxstream.errors import CxstreamError
from cxstream.gateway.errors import Refusal
from cxstream.logs import get_logger

log = get_logger(__name__)

#: After a failed delivery, requests are refused at once for this long (no pile-up of requests each
#: waiting the full acknowledgement timeout while the broker is down).
COOLDOWN_SECONDS = 2.0


@dataclass(frozen=True)
class Message:
    """One record for Kafka."""

    topic: str
    key: bytes
    value: bytes


class Breaker:
    """Refuses requests for ``cooldown`` seconds after a failure, then lets one through as a probe
    (the others are refused until it is answered): during an outage requests fail at once instead
    of each waiting the acknowledgement timeout."""

    def __init__(self, cooldown: float = COOLDOWN_SECONDS, probe_timeout: float = 30.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.cooldown = cooldown
        self.probe_timeout = probe_timeout  # a probe never answered (its client went away) is replaced
        self._clock = clock
        self._open_until = 0.0
        self._failed = False
        self._probe_until: float | None = None

    def admit(self) -> float:
        """0.0 when a request may go ahead, else the seconds to wait."""
        if not self._failed:
            return 0.0
        now = self._clock()
        if now < self._open_until:
            return self._open_until - now
        if self._probe_until is not None and now < self._probe_until:
            return self.cooldown
        self._probe_until = now + self.probe_timeout
        return 0.0

    def succeeded(self) -> None:
        self._failed, self._probe_until = False, None

    def failed(self) -> None:
        self._failed, self._probe_until = True, None
        self._open_until = self._clock() + self.cooldown


def unavailable(detail: str, written: str, retry_after: float) -> Refusal:
    """The 503 answer: Kafka did not acknowledge; ``written`` is "none" or "unknown"."""
    seconds = max(1, int(retry_after + 0.999))
    return Refusal(503, "kafka_unavailable", detail + "; retry the whole request with the same ids "
                   "(records written twice count once)", headers={"Retry-After": str(seconds)}, written=written)


class KafkaDelivery:
    """The gateway's producer: ``deliver`` returns once all records are acknowledged, else raises 503."""

    def __init__(self, bootstrap: str, ack_timeout_ms: int, client_options: dict[str, Any] | None = None,
                 breaker: Breaker | None = None) -> None:
        self.ack_timeout = ack_timeout_ms / 1000
        self.breaker = breaker or Breaker(probe_timeout=self.ack_timeout + COOLDOWN_SECONDS)
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap.split(","),
            "client_id": "cxstream-gateway",
            "acks": "all",
            # Not idempotent, on purpose: aiokafka's idempotent producer never expires a batch (it
            # retries until the broker is back, sender._can_retry), so records of a request already
            # answered 503 would be written later, unannounced. Without it a batch expires after
            # request_timeout_ms and is dropped; a duplicate from the producer's own retry (an
            # acknowledgement lost) is absorbed downstream by id, like a client's retry.
            "enable_idempotence": False,
            "linger_ms": 5,  # a request waits for its answer: batch briefly, not for long
            "request_timeout_ms": ack_timeout_ms,  # also how long an unsent record may wait, then expires
            **(client_options or {}),
        }
        self._producer: AIOKafkaProducer | None = None

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("KafkaDelivery.start() was not awaited")
        return self._producer

    async def start(self, topics: tuple[str, ...]) -> None:
        """Connect and check the topics exist; CxstreamError saying what to do otherwise."""
        self._producer = AIOKafkaProducer(**self._options)  # needs the running event loop
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise CxstreamError(f"the gateway cannot reach Kafka ({exc!r}): check CXSTREAM_KAFKA_BOOTSTRAP "
                                f"and the Kafka security settings") from None
        for topic in topics:
            try:
                await self._partitions(topic)
            except (KafkaError, asyncio.TimeoutError):
                await self._producer.stop()
                raise CxstreamError(f"topic {topic} does not exist or cannot be read: run `cxstream topics "
                                    f"ensure` with the same CXSTREAM_TOPIC_PREFIX") from None

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()

    async def deliver(self, messages: list[Message]) -> None:
        """Send and await every acknowledgement; Refusal(503) if any record was not acknowledged."""
        if not messages:
            return
        closed_for = self.breaker.admit()
        if closed_for > 0:
            raise unavailable("Kafka failed a moment ago; nothing was written", "none", closed_for)
        for topic in {m.topic for m in messages}:
            try:
                await self._partitions(topic)
            except (KafkaError, asyncio.TimeoutError) as exc:
                self.breaker.failed()
                log.warning("gateway.kafka_unavailable", stage="metadata", topic=topic, error=repr(exc))
                raise unavailable("Kafka is not answering; nothing was written", "none", self.breaker.cooldown) \
                    from None
        futures: list[Awaitable[Any]] = []
        try:
            for m in messages:
                futures.append(await self.producer.send(m.topic, value=m.value, key=m.key))
        except KafkaError as exc:  # the send buffer stayed full for the whole timeout
            await self._fail(futures, "enqueue", exc)
        results = await asyncio.gather(*futures, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            await self._fail([], "acknowledge", failures[0], acknowledged=len(results) - len(failures))
        self.breaker.succeeded()

    async def _partitions(self, topic: str) -> set[int]:
        partitions = await asyncio.wait_for(self.producer.partitions_for(topic), timeout=self.ack_timeout)
        if not partitions:
            raise KafkaError(f"no partitions for {topic}")
        return set(partitions)

    async def _fail(self, pending: list[Awaitable[Any]], stage: str, exc: BaseException,
                    acknowledged: int | None = None) -> None:
        # Wait for what was handed over, so no record of this request is still in flight when the
        # client is told to retry.
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self.breaker.failed()
        log.warning("gateway.kafka_unavailable", stage=stage, error=repr(exc), acknowledged=acknowledged)
        raise unavailable(f"Kafka did not acknowledge every record ({type(exc).__name__})", "unknown",
                          self.breaker.cooldown) from None
