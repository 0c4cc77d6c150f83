"""API keys: hashed at rest, bound to an agency and channels, revocable, picked up when the file changes."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from cxstream.gateway import keys
from cxstream.gateway.errors import KeysFileError


def _add(path: Path, agency: str = "VA", channels: tuple[str, ...] = ("phone",)) -> tuple[keys.ApiKey, str]:
    record, text = keys.new_key("t", agency, channels, 10)
    keys.add(path, record)
    return record, text


def test_a_new_key_authenticates_and_only_its_hash_is_stored(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    record, text = _add(path)

    stored = path.read_text()
    loaded = keys.load(path)

    assert text.startswith(f"cxk_{record.key_id}_")
    assert text.split("_", 2)[2] not in stored
    assert json.loads(stored)["keys"][0]["secret_sha256"] == record.secret_sha256
    assert loaded.authenticate(text) == record
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("presented", ["", "cxk", "cxk__", "cxk_abc", "xyz_abc_def", "cxk_{id}_wrong",
                                       "cxk_000000000000_{secret}"])
def test_malformed_unknown_or_wrong_keys_do_not_authenticate(tmp_path: Path, presented: str) -> None:
    path = tmp_path / "keys.json"
    record, text = _add(path)
    presented = presented.format(id=record.key_id, secret=text.split("_", 2)[2])

    assert keys.load(path).authenticate(presented) is None


def test_a_revoked_key_no_longer_authenticates_and_stays_listed(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    record, text = _add(path)
    other, other_text = _add(path)

    revoked = keys.revoke(path, record.key_id)
    loaded = keys.load(path)

    assert revoked.revoked_at is not None
    assert loaded.authenticate(text) is None
    assert loaded.authenticate(other_text) == other
    assert loaded.keys[record.key_id].revoked_at == revoked.revoked_at


def test_revoking_an_unknown_id_says_how_to_find_the_ids(tmp_path: Path) -> None:
    with pytest.raises(KeysFileError, match="keys list"):
        keys.revoke(tmp_path / "keys.json", "nope")


@pytest.mark.parametrize(("agency", "channel", "allowed"), [
    ("VA", "phone", True), ("VA", "website", True), ("VA", None, True), (None, None, True),
    ("USDA", "phone", False), ("va", "phone", False), ("VA", "email", False), (None, "email", False),
])
def test_a_key_allows_its_own_agency_and_channels_only(agency: str | None, channel: str | None,
                                                         allowed: bool) -> None:
    record, _ = keys.new_key("t", "VA", ("phone", "website"), 10)

    assert record.allows(agency, channel) is allowed


@pytest.mark.parametrize(("agency", "channels", "rate", "message"), [
    ("VA", ("carrier_pigeon",), 10, "unknown channel"), ("VA", (), 10, "at least one channel"),
    (" ", ("phone",), 10, "agency"), ("VA", ("phone",), 0, "at least 1"),
])
def test_invalid_key_requests_say_what_is_wrong(agency: str, channels: tuple[str, ...], rate: int,
                                                message: str) -> None:
    with pytest.raises(KeysFileError, match=message):
        keys.new_key("t", agency, channels, rate)


def test_the_watcher_sees_added_and_revoked_keys_without_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    watcher = keys.KeyFileWatcher(path)
    record, text = _add(path)

    watcher.refresh()
    seen_after_add = watcher.current.authenticate(text)
    keys.revoke(path, record.key_id)
    watcher.refresh()

    assert seen_after_add == record
    assert watcher.current.authenticate(text) is None


def test_concurrent_adds_lose_no_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    threads = [threading.Thread(target=_add, args=(path,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(keys.load(path).keys) == 8


def test_a_corrupt_file_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    path.write_text("{not json")

    with pytest.raises(KeysFileError, match=str(path)):
        keys.load(path)
