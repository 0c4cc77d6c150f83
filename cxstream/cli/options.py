"""Settings as command-line flags: each command shows the settings it uses, and only those.

Every setting of :class:`cxstream.config.Settings` belongs to one group (``kafka``,
``clickhouse``, ``worker``, ...). A command declares the groups it reads with
:func:`with_settings`; each setting of those groups becomes a flag of that command, named after
the setting (``--kafka-bootstrap``), and of its own group without the group's prefix
(``cxstream gateway --port``, ``cxstream dashboard --port``). A flag left out falls through to the
``CXSTREAM_*`` environment variable, then to the default. The root command keeps the log
settings, which every command uses.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from cxstream.config import Settings, env_var, setting_fields
from cxstream.errors import CxstreamError
from cxstream.logs import configure as configure_logs

F = TypeVar("F", bound=Callable[..., Any])

#: The groups of the root command: they apply to every command.
GLOBAL_GROUPS = ("logs",)


def flag_name(field: dataclasses.Field[Any], own: str | None) -> str:
    """``--kafka-bootstrap``; ``--port`` for ``gateway_port`` on the gateway's own command."""
    name = field.name
    if own and name.startswith(own + "_"):
        name = name[len(own) + 1:]
    return "--" + name.replace("_", "-")


def _option(field: dataclasses.Field[Any], own: str | None) -> Callable[[F], F]:
    meta = field.metadata
    choices = meta.get("choices")
    default = field.default if field.default is not dataclasses.MISSING else None
    shown = "***" if meta.get("secret") and default else default
    return click.option(
        flag_name(field, own), field.name,
        type=click.Choice(choices) if choices else None,
        default=None,
        help=f"{meta['help']} [env {env_var(field.name)}; default {shown}]",
    )


def fields_of(groups: tuple[str, ...]) -> list[dataclasses.Field[Any]]:
    return [f for f in setting_fields() if f.metadata["group"] in groups]


def global_options(command: F) -> F:
    """The root command's flags: the settings of :data:`GLOBAL_GROUPS`."""
    for field in reversed(fields_of(GLOBAL_GROUPS)):
        command = _option(field, None)(command)
    return command


def with_settings(*groups: str, own: str | None = None) -> Callable[[F], F]:
    """Give a command one flag per setting of ``groups`` and call it with the loaded Settings as
    its first argument (after the root's flags, env vars and defaults). ``own`` is the group whose
    prefix its flags drop."""

    def decorate(command: F) -> F:
        fields = fields_of(groups)
        names = [f.name for f in fields]

        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            ctx = click.get_current_context()
            overrides = dict((ctx.find_root().obj or {}))
            overrides.update({name: kwargs.pop(name) for name in names})
            settings = load(overrides)
            return command(settings, *args, **kwargs)

        decorated: Any = wrapper
        for field in reversed(fields):
            decorated = _option(field, own)(decorated)
        return decorated

    return decorate


def load(overrides: dict[str, Any]) -> Settings:
    """Settings from flags, env vars and defaults; a bad value ends the command with exit code 2
    and one line naming the setting. Logging is configured from the result."""
    try:
        settings = Settings.load(overrides)
    except CxstreamError as exc:
        click.echo(f"cxstream: error: {exc}", err=True)
        raise SystemExit(2) from None
    configure_logs(settings.log_level, settings.log_format, repeat_seconds=settings.log_repeat_seconds)
    return settings
