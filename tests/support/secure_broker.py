"""A throwaway Kafka broker with SASL and TLS listeners, from the local stack's cached jars.

Listeners, each on a free port: SASL_PLAINTEXT and SASL_SSL (mechanisms PLAIN, SCRAM-SHA-256,
SCRAM-SHA-512), SSL requiring a client certificate, and a plaintext INTERNAL listener for the
broker itself and the probe that says it is up (tests connect through the secured ones). The
certificates (a CA, the broker's, a client's with an encrypted key) are made here with
``cryptography``; SCRAM users are written into the storage when it is formatted (KIP-900).
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from cxstream.config import Settings
from cxstream.errors import StackError
from cxstream.stack.kafka import KafkaBroker, new_cluster_id
from tests.support.private_stack import free_port

PLAIN_USER, PLAIN_PASSWORD = "alice", "alice-secret"
SCRAM_USER, SCRAM_PASSWORD = "carol", "carol-secret"
CLIENT_KEY_PASSWORD = "client-key-secret"
_SCRAM = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class Tls:
    """The files a client needs: the CA, and a client certificate with its encrypted key."""

    cafile: Path
    client_certfile: Path
    client_keyfile: Path


@dataclass(frozen=True)
class SecureBroker:
    """The running broker's addresses by listener, and the TLS files."""

    base: Settings
    ports: dict[str, int]
    tls: Tls

    def settings(self, protocol: str, mechanism: str = "PLAIN", **changes: object) -> Settings:
        """Client settings for one listener; SASL credentials filled in for the mechanism."""
        values: dict[str, object] = {"kafka_bootstrap": f"127.0.0.1:{self.ports[protocol]}",
                                     "kafka_security_protocol": protocol}
        if protocol.startswith("SASL_"):
            user, password = (PLAIN_USER, PLAIN_PASSWORD) if mechanism == "PLAIN" else (SCRAM_USER, SCRAM_PASSWORD)
            values.update(kafka_sasl_mechanism=mechanism, kafka_sasl_username=user, kafka_sasl_password=password)
        if protocol.endswith("SSL"):
            values.update(kafka_ssl_cafile=str(self.tls.cafile))
        if protocol == "SSL":
            values.update(kafka_ssl_certfile=str(self.tls.client_certfile),
                          kafka_ssl_keyfile=str(self.tls.client_keyfile),
                          kafka_ssl_key_password=CLIENT_KEY_PASSWORD)
        values.update(changes)
        return dataclasses.replace(self.base, **values)  # type: ignore[arg-type]


class _SecuredKafka(KafkaBroker):
    """The local stack's broker with the secure listeners added and SCRAM users formatted in."""

    def __init__(self, settings: Settings, ports: dict[str, int], certs: Path) -> None:
        super().__init__(settings)
        self.ports = ports
        self.certs = certs

    def _write_config(self) -> Path:
        config = super()._write_config()
        p, c = self.ports, self.certs
        listeners = ",".join(f"{name}://127.0.0.1:{port}" for name, port in p.items())
        text = config.read_text()
        text = re.sub(r"(?m)^listeners=.*$", f"listeners={listeners},CONTROLLER://127.0.0.1:"
                      f"{self.settings.kafka_controller_port}", text)
        text = re.sub(r"(?m)^advertised\.listeners=.*$", f"advertised.listeners={listeners}", text)
        text = re.sub(r"(?m)^inter\.broker\.listener\.name=.*$", "inter.broker.listener.name=INTERNAL", text)
        text = re.sub(r"(?m)^listener\.security\.protocol\.map=.*$",
                      "listener.security.protocol.map=INTERNAL:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,"
                      "SASL_SSL:SASL_SSL,SSL:SSL,CONTROLLER:PLAINTEXT", text)
        plain = ("org.apache.kafka.common.security.plain.PlainLoginModule required "
                 f'user_{PLAIN_USER}="{PLAIN_PASSWORD}";')
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        extra = ["sasl.enabled.mechanisms=PLAIN," + ",".join(_SCRAM)]
        for listener in ("sasl_plaintext", "sasl_ssl"):
            extra.append(f"listener.name.{listener}.plain.sasl.jaas.config={plain}")
            extra += [f"listener.name.{listener}.{m.lower()}.sasl.jaas.config={scram}" for m in _SCRAM]
        extra += ["ssl.keystore.type=PEM", f"ssl.keystore.location={c / 'broker.pem'}",
                  "ssl.truststore.type=PEM", f"ssl.truststore.location={c / 'ca.pem'}",
                  "listener.name.ssl.ssl.client.auth=required"]
        config.write_text(text + "\n" + "\n".join(extra) + "\n")
        return config

    def _format_storage_once(self, config: Path) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        scram = [arg for m in _SCRAM for arg in ("--add-scram", f"{m}=[name={SCRAM_USER},password={SCRAM_PASSWORD}]")]
        result = subprocess.run(
            ["java", "-cp", f"{self.jars_dir}/*", f"-Dlog4j.configuration=file:{self.home / 'log4j.properties'}",
             f"-Dkafka.logs.dir={self.logs_dir}", "kafka.tools.StorageTool", "format", "-t", new_cluster_id(),
             "-c", str(config), *scram],
            capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise StackError(f"formatting the secure broker's storage failed: {result.stdout} {result.stderr}")


@contextmanager
def secure_broker(base: Settings, folder: Path) -> Iterator[SecureBroker]:
    """A started broker with SASL/TLS listeners; stopped at the end."""
    certs = folder / "certs"
    tls = make_certificates(certs)
    ports = {name: free_port() for name in ("INTERNAL", "SASL_PLAINTEXT", "SASL_SSL", "SSL")}
    settings = dataclasses.replace(base, kafka_bootstrap="", kafka_port=ports["INTERNAL"],
                                   kafka_controller_port=free_port(), state_dir=folder, kafka_heap="256m")
    broker = _SecuredKafka(settings, ports, certs)
    broker.start()
    try:
        yield SecureBroker(settings, ports, tls)
    finally:
        broker.stop()


def make_certificates(folder: Path) -> Tls:
    """A CA, the broker's certificate (localhost, 127.0.0.1) and a client's; PEM files in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cxstream test CA")])
    ca = _certificate(ca_name, ca_key, ca_name, ca_key, is_ca=True)
    broker_key = ec.generate_private_key(ec.SECP256R1())
    broker = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]), broker_key,
                          ca_name, ca_key, is_ca=False)
    client_key = ec.generate_private_key(ec.SECP256R1())
    client = _certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cxstream-client")]), client_key,
                          ca_name, ca_key, is_ca=False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "broker.pem").write_bytes(
        broker_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + broker.public_bytes(pem) + ca.public_bytes(pem))
    (folder / "client.pem").write_bytes(client.public_bytes(pem))
    (folder / "client.key").write_bytes(client_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(CLIENT_KEY_PASSWORD.encode())))
    return Tls(folder / "ca.pem", folder / "client.pem", folder / "client.key")


def _certificate(subject: x509.Name, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
                 issuer_key: ec.EllipticCurvePrivateKey, *, is_ca: bool) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True))
    if not is_ca:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())
