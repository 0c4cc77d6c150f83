"""`cxstream keys add|list|revoke`: the key is printed once, never listed, and revocation shows."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from cxstream.cli import main
from cxstream.gateway import keys


def _run(path: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["keys", *args, "--keys-file", str(path)])
    return result.exit_code, result.stdout, result.stderr


def test_add_prints_the_key_once_list_shows_no_secret_and_revoke_marks_it(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"

    code, key, _ = _run(path, "add", "--name", "va-cc", "--agency", "VA", "--channel", "phone",
                        "--channel", "automated_phone", "--rate", "7")
    key = key.strip()
    key_id = key.split("_")[1]
    _, listed, _ = _run(path, "list")
    revoked_code, _, said = _run(path, "revoke", key_id)
    _, listed_after, _ = _run(path, "list")

    assert code == 0
    assert keys.load(path).authenticate(key) is None  # revoked by now
    assert f"{key_id}\tva-cc\tVA\tautomated_phone,phone\t7/s" in listed and "active" in listed
    assert key.split("_", 2)[2] not in listed + listed_after
    assert revoked_code == 0 and "revoked" in said
    assert "revoked 20" in listed_after


def test_unknown_channel_and_unknown_id_fail_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"

    bad_channel = _run(path, "add", "--name", "x", "--agency", "VA", "--channel", "pigeon")
    bad_id = _run(path, "revoke", "nope")

    assert bad_channel[0] == 2 and "pigeon" in bad_channel[2]
    assert bad_id[0] == 1 and "no key with id 'nope'" in bad_id[2]
