"""Kafka clients built from Settings, so every entry point connects the same way.

One TLS context and one set of SASL options serve the three client libraries the project uses:
kafka-python (CLI, admin), aiokafka (gateway, sink) and Faust (worker). With the defaults
(PLAINTEXT) every builder returns no security options, so clients behave as before.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiokafka.conn import collect_hosts, create_conn
from aiokafka.errors import KafkaError as AIOKafkaError
from aiokafka.errors import SaslAuthenticationFailed, UnsupportedSaslMechanismError
from aiokafka.protocol.metadata import MetadataRequest
from kafka import KafkaAdminClient, KafkaProducer
from kafka.errors import AuthorizationError, BrokerNotAvailableError, KafkaError, SaslAuthenticationFailedError

from cxstream.config import Settings, env_var
from cxstream.errors import ConfigError, CxstreamError, StackError
from cxstream.logs import get_logger

log = get_logger(__name__)
T = TypeVar("T")
#: First pause after Kafka did not answer; it doubles (with jitter) up to the caller's cap.
FIRST_RETRY_SECONDS = 0.5
#: Longest a probe waits for one bootstrap server to connect (TLS, SASL) and answer a metadata request.
PROBE_TIMEOUT_SECONDS = 5.0
#: Longest error text in a waiting line: one line, no traceback.
ERROR_CHARS = 300


def ssl_context(settings: Settings) -> ssl.SSLContext | None:
    """The TLS context for SSL and SASL_SSL (CA, optional client certificate), else None."""
    if not settings.kafka_security_protocol.endswith("SSL"):
        return None
    try:
        context = ssl.create_default_context(cafile=settings.kafka_ssl_cafile or None)
        if settings.kafka_ssl_certfile:
            context.load_cert_chain(settings.kafka_ssl_certfile, settings.kafka_ssl_keyfile or None,
                                    password=settings.kafka_ssl_key_password or None)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the Kafka TLS files ({exc}): check {env_var('kafka_ssl_cafile')}, "
            f"{env_var('kafka_ssl_certfile')}, {env_var('kafka_ssl_keyfile')} and the key password"
        ) from None
    context.check_hostname = settings.kafka_ssl_check_hostname
    return context


def security_options(settings: Settings) -> dict[str, Any]:
    """Security keyword arguments understood by both kafka-python and aiokafka clients."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return {}
    options: dict[str, Any] = {"security_protocol": protocol}
    context = ssl_context(settings)
    if context is not None:
        options["ssl_context"] = context
    if protocol.startswith("SASL_"):
        options.update(sasl_mechanism=settings.kafka_sasl_mechanism,
                       sasl_plain_username=settings.kafka_sasl_username,
                       sasl_plain_password=settings.kafka_sasl_password)
    return options


def faust_credentials(settings: Settings) -> Any:
    """``broker_credentials`` for the Faust app (None for PLAINTEXT)."""
    import faust

    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = ssl_context(settings)
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    # SASLCredentials turns into SASL_SSL when given a context, SASL_PLAINTEXT otherwise.
    return faust.SASLCredentials(username=settings.kafka_sasl_username, password=settings.kafka_sasl_password,
                                 mechanism=settings.kafka_sasl_mechanism, ssl_context=context)


def reliable_producer(settings: Settings, client_id: str, **overrides: Any) -> KafkaProducer:
    """A producer that loses nothing it acknowledged: acks=all, retries, ordered, batched."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers.split(","),
        "client_id": client_id,
        "acks": "all",
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        "linger_ms": 20,
        "batch_size": 256 * 1024,
        "compression_type": None,
        "delivery_timeout_ms": 120_000,
        **security_options(settings),
    }
    options.update(overrides)
    return KafkaProducer(**options)


def admin_client(settings: Settings, client_id: str, **overrides: Any) -> KafkaAdminClient:
    """An admin client (topics, groups) connected like every other client."""
    return KafkaAdminClient(bootstrap_servers=settings.bootstrap_servers.split(","), client_id=client_id,
                            **security_options(settings), **overrides)


class KafkaUnreachable(Exception):
    """No bootstrap server answered: Kafka is down, starting, or out of reach."""


def until_kafka_answers(settings: Settings, step: Callable[[], T], *, what: str, event: str,
                        max_delay: float = 30.0, sleep: Callable[[float], None] = time.sleep,
                        probe: Callable[[Settings], None] | None = None) -> T:
    """``step()`` once Kafka answers: while it is unreachable, one ``event`` line per attempt, then
    a pause that doubles up to ``max_delay``, for as long as it takes.

    Kafka being down is a state to wait out (a worker started with the cluster, or before it), not
    a reason to exit. A Kafka that answers and refuses (credentials, ACLs, a request it rejects)
    stops at once with a CxstreamError saying what to fix: waiting would not change its answer.
    Other errors (``StackError``, ``ConfigError`` of ``step``) pass through unchanged."""
    probe = probe or probe_bootstrap
    delay, attempts, started = FIRST_RETRY_SECONDS, 0, time.monotonic()
    while True:
        try:
            probe(settings)
            result = step()
        except (KafkaUnreachable, KafkaError, AIOKafkaError, OSError) as error:
            if not kafka_unreachable(error):
                raise kafka_refusal(settings, error, what) from None
            attempts += 1
            log.warning(event, bootstrap=settings.bootstrap_servers, waiting_for=what, retry_in_s=round(delay, 1),
                        error=short_error(error))
        else:
            if attempts:
                log.info("kafka.answered", bootstrap=settings.bootstrap_servers, attempts=attempts,
                         waited_s=round(time.monotonic() - started, 1))
            return result
        sleep(delay)
        delay = min(delay * 2, max_delay) * random.uniform(0.8, 1.0)


def kafka_unreachable(error: BaseException) -> bool:
    """True when ``error`` means Kafka did not answer (yet): down, starting, electing a controller."""
    if isinstance(error, (KafkaUnreachable, BrokerNotAvailableError)):
        return True
    if isinstance(error, (KafkaError, AIOKafkaError)):
        return bool(error.retriable)
    if isinstance(error, ssl.SSLError):  # closed mid-handshake: stopping or starting; else a TLS setting
        return isinstance(error, (ssl.SSLEOFError, ssl.SSLZeroReturnError))
    return isinstance(error, OSError)


def kafka_refusal(settings: Settings, error: BaseException, what: str) -> CxstreamError:
    """The one-line error for a Kafka that answered ``what`` with a refusal."""
    detail = short_error(error)
    if isinstance(error, (SaslAuthenticationFailed, UnsupportedSaslMechanismError, SaslAuthenticationFailedError)):
        return ConfigError(
            f"Kafka at {settings.bootstrap_servers} refused the SASL login of {settings.kafka_sasl_username!r} "
            f"({detail}): check {env_var('kafka_sasl_username')}, {env_var('kafka_sasl_password')} and "
            f"{env_var('kafka_sasl_mechanism')}"
        )
    if isinstance(error, AuthorizationError):
        return ConfigError(
            f"Kafka did not allow {settings.kafka_sasl_username or 'this client'!r} to {what} ({detail}): grant "
            "that user the ACL the error names, or connect as a user that has it"
        )
    if isinstance(error, ssl.SSLError):
        return ConfigError(
            f"TLS with Kafka at {settings.bootstrap_servers} failed ({detail}): check "
            f"{env_var('kafka_security_protocol')} (does this listener speak TLS?), {env_var('kafka_ssl_cafile')} "
            f"(the CA that signed the brokers' certificates) and {env_var('kafka_ssl_check_hostname')}"
        )
    return StackError(f"Kafka at {settings.bootstrap_servers} refused to {what} ({detail}); fix the cluster "
                      "or the settings this names, then start again")


def probe_bootstrap(settings: Settings) -> None:
    """Return once a bootstrap server answers a metadata request over a full connection (TLS and
    SASL as configured); KafkaUnreachable if none does.

    kafka-python, which the start-up steps use, reports every failure alike, after a 30 s bootstrap
    timeout: a refused connection, a rejected password and an untrusted certificate all become
    "Unable to bootstrap". aiokafka's connection says which, at once: a refusal raises (SASL errors,
    ``ssl.SSLError``), and only a Kafka that is down or not ready is worth waiting for."""
    loop = asyncio.new_event_loop()  # not asyncio.run: that would leave the thread without a loop for Faust
    try:
        loop.run_until_complete(_probe(settings))
    finally:
        pending = asyncio.all_tasks(loop)  # left by a signal that interrupted the probe
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()


async def _probe(settings: Settings) -> None:
    errors = []
    for host, port in _bootstrap_hosts(settings):
        try:
            await asyncio.wait_for(_metadata(settings, host, port), PROBE_TIMEOUT_SECONDS)
            return
        except (OSError, AIOKafkaError) as error:
            if not kafka_unreachable(error):
                raise
            errors.append(f"{host}:{port}: {_reason(error)}")
    raise KafkaUnreachable("; ".join(errors))


def _bootstrap_hosts(settings: Settings) -> list[tuple[str, int]]:
    try:
        return [(host, port) for host, port, _family in collect_hosts(settings.bootstrap_servers, randomize=False)]
    except ValueError:
        raise ConfigError(f"{env_var('kafka_bootstrap')} must be host:port,...; got "
                          f"{settings.bootstrap_servers!r}") from None


def _reason(error: BaseException) -> str:
    """Why a connection failed, in the operating system's words where it has some ("Connection refused")."""
    if isinstance(error, TimeoutError):
        return f"no answer within {PROBE_TIMEOUT_SECONDS:.0f} s"
    if isinstance(error, OSError) and not isinstance(error, ssl.SSLError) and error.errno:
        return os.strerror(error.errno) if error.errno > 0 else str(error.strerror)  # < 0: a name lookup
    return short_error(error)


async def _metadata(settings: Settings, host: str, port: int) -> None:
    conn = await create_conn(host, port, client_id="cxstream-probe",
                             request_timeout_ms=int(PROBE_TIMEOUT_SECONDS * 1000), **security_options(settings))
    try:
        await conn.send(MetadataRequest([]))
    finally:
        conn.close()


def short_error(error: BaseException) -> str:
    """``error`` as one short line: its type (unless its text names it) and its text."""
    text = " ".join(str(error).split())
    name = type(error).__name__
    if name not in text and not isinstance(error, KafkaUnreachable):
        text = f"{name}: {text}" if text else name
    return text[:ERROR_CHARS]
