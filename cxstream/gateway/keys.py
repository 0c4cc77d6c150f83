"""API keys: each bound to one agency and a set of channels, stored hashed in a JSON file.

A key reads ``cxk_<key_id>_<secret>``. The key id is public (it names the key in ``keys list``,
logs and rate limits); the secret is 32 random bytes and only its SHA-256 is stored. Why SHA-256
and not scrypt or argon2: those slow hashes protect low-entropy passwords from guessing, but a
256-bit random secret cannot be guessed whatever the hash, and a slow hash would cost tens of
milliseconds of CPU on every request, capping the gateway's throughput and handing anyone who
sends wrong keys an easy way to burn it. The file holds no secret: a leaked copy lets nobody in.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cxstream.gateway.errors import KeysFileError
from cxstream.vocabulary import CHANNELS

KEY_PREFIX = "cxk"
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class ApiKey:
    """One client's key as stored: who it is, what it may post, how fast; never the secret."""

    key_id: str
    name: str
    agency: str
    channels: tuple[str, ...]
    rate_per_second: int
    secret_sha256: str
    created_at: str
    revoked_at: str | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def matches(self, secret: str) -> bool:
        """True if ``secret`` is this key's (compared in constant time)."""
        return hmac.compare_digest(_digest(secret), self.secret_sha256)

    def allows(self, agency: str | None, channel: str | None) -> bool:
        """True if a record with this agency and channel (None: not given) may be posted with the key."""
        return (agency is None or agency == self.agency) and (channel is None or channel in self.channels)


@dataclass(frozen=True)
class KeyFile:
    """The keys of one file, by key id."""

    keys: dict[str, ApiKey] = field(default_factory=dict)

    def authenticate(self, presented: str) -> ApiKey | None:
        """The active key ``presented`` is, or None (unknown id, wrong secret, revoked, malformed)."""
        parsed = parse_key(presented)
        if parsed is None:
            return None
        key = self.keys.get(parsed[0])
        if key is None or not key.active or not key.matches(parsed[1]):
            return None
        return key


def parse_key(presented: str) -> tuple[str, str] | None:
    """(key_id, secret) of a key's text, or None when it is not shaped like one."""
    parts = presented.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def new_key(name: str, agency: str, channels: tuple[str, ...], rate_per_second: int) -> tuple[ApiKey, str]:
    """A new key record and the key's full text (shown once; only its hash is kept)."""
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown:
        raise KeysFileError(f"unknown channel(s) {', '.join(unknown)}; the channels are {', '.join(CHANNELS)}")
    if not channels:
        raise KeysFileError("a key needs at least one channel (--channel)")
    if not agency.strip():
        raise KeysFileError("a key needs an agency (--agency)")
    if rate_per_second < 1:
        raise KeysFileError(f"--rate must be at least 1 request per second, got {rate_per_second}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    record = ApiKey(key_id=key_id, name=name, agency=agency, channels=tuple(sorted(set(channels))),
                    rate_per_second=rate_per_second, secret_sha256=_digest(secret), created_at=_now())
    return record, f"{KEY_PREFIX}_{key_id}_{secret}"


def load(path: Path) -> KeyFile:
    """The keys in ``path``; a missing file holds no keys."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return KeyFile()
    except OSError as exc:
        raise KeysFileError(f"cannot read the API keys file {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
        keys = {k["key_id"]: _key_from_json(k) for k in data["keys"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise KeysFileError(
            f"the API keys file {path} is not valid ({exc!r}); restore it from a backup or recreate the keys "
            f"with `cxstream keys add`"
        ) from None
    return KeyFile(keys)


def add(path: Path, key: ApiKey) -> None:
    """Store a new key (the file is created, readable by its owner only)."""
    with _locked(path):
        current = load(path)
        _save(path, KeyFile({**current.keys, key.key_id: key}))


def revoke(path: Path, key_id: str) -> ApiKey:
    """Mark a key revoked (kept in the file, so ``keys list`` shows when); returns it."""
    with _locked(path):
        current = load(path)
        key = current.keys.get(key_id)
        if key is None:
            raise KeysFileError(f"no key with id {key_id!r} in {path}; `cxstream keys list` shows the ids")
        if key.active:
            key = replace(key, revoked_at=_now())
            _save(path, KeyFile({**current.keys, key_id: key}))
        return key


class KeyFileWatcher:
    """The keys of a file, re-read when the file changes (a revocation applies without a restart)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: tuple[int, int, int] | None = None
        self.current = KeyFile()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the file if it changed since the last read (cheap: one stat otherwise)."""
        try:
            st = self.path.stat()
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        except FileNotFoundError:
            stamp = (0, 0, 0)
        if stamp != self._stamp:
            self.current = load(self.path)
            self._stamp = stamp


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _key_from_json(obj: dict[str, Any]) -> ApiKey:
    return ApiKey(key_id=str(obj["key_id"]), name=str(obj["name"]), agency=str(obj["agency"]),
                  channels=tuple(obj["channels"]), rate_per_second=int(obj["rate_per_second"]),
                  secret_sha256=str(obj["secret_sha256"]), created_at=str(obj["created_at"]),
                  revoked_at=obj.get("revoked_at"))


def _save(path: Path, keys: KeyFile) -> None:
    """Write the whole file atomically (a reader sees the old or the new file, never half)."""
    data = {"version": _FORMAT_VERSION,
            "keys": [{**asdict(k), "channels": list(k.channels)} for k in keys.keys.values()]}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump(data, out, indent=1)
            out.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One writer at a time (two `keys add` at once must not lose a key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
