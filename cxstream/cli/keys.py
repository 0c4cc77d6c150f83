"""``cxstream keys add|list|revoke``: the gateway's API keys (the file holds hashes only)."""

from __future__ import annotations

import click

from cxstream.cli.options import with_settings
from cxstream.config import Settings
from cxstream.gateway import keys as store
from cxstream.vocabulary import CHANNELS


@click.group()
def keys() -> None:
    """Manage the gateway's API keys (file: --keys-file, CXSTREAM_GATEWAY_KEYS_FILE). A running gateway sees changes at once."""


@keys.command("add")
@click.option("--name", required=True, help="Who the key is for (e.g. 'va-call-center')")
@click.option("--agency", required=True, help="The one agency the key may post for (e.g. VA)")
@click.option("--channel", "channels", multiple=True, required=True, type=click.Choice(CHANNELS),
              help="A channel the key may post for; repeat for several")
@click.option("--rate", type=click.IntRange(min=1), default=None,
              help="Requests per second (default CXSTREAM_GATEWAY_RATE_PER_SECOND)")
@with_settings("keys", own="gateway")
def add(settings: Settings, name: str, agency: str, channels: tuple[str, ...], rate: int | None) -> None:
    """Create a key; prints it once on stdout (only its SHA-256 is stored: keep it safe)."""
    record, text = store.new_key(name, agency, channels, rate or settings.gateway_rate_per_second)
    store.add(settings.gateway_keys_file, record)
    click.echo(f"key {record.key_id} for {record.agency} ({', '.join(record.channels)}), "
               f"{record.rate_per_second}/s, stored in {settings.gateway_keys_file}; it is shown only now:", err=True)
    click.echo(text)


@keys.command("list")
@with_settings("keys", own="gateway")
def list_keys(settings: Settings) -> None:
    """The keys: id, name, agency, channels, rate, created, revoked (never a secret)."""
    found = store.load(settings.gateway_keys_file).keys.values()
    if not found:
        click.echo(f"no keys in {settings.gateway_keys_file}", err=True)
        return
    for k in sorted(found, key=lambda k: k.created_at):
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        click.echo(f"{k.key_id}\t{k.name}\t{k.agency}\t{','.join(k.channels)}\t{k.rate_per_second}/s\t"
                   f"created {k.created_at}\t{state}")


@keys.command("revoke")
@click.argument("key_id")
@with_settings("keys", own="gateway")
def revoke(settings: Settings, key_id: str) -> None:
    """Revoke a key by its id: the gateway refuses it (401) from its next request on."""
    key = store.revoke(settings.gateway_keys_file, key_id)
    click.echo(f"key {key.key_id} ({key.name}) revoked at {key.revoked_at}", err=True)
