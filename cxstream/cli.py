"""The ``cxstream`` command line.

Every setting of :class:`cxstream.config.Settings` is a flag of the root command
(``cxstream --kafka-port 19092 stack up``) and a ``CXSTREAM_*`` environment variable.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from cxstream import __version__
from cxstream.config import Settings, env_var, setting_fields
from cxstream.errors import CxstreamError
from cxstream.logs import configure as configure_logs


def _settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one ``--flag`` per setting; values left unset fall through to env vars and defaults."""
    for f in reversed(setting_fields()):
        flag = "--" + f.name.replace("_", "-")
        choices = f.metadata.get("choices")
        kind: Any = click.Choice(choices) if choices else None
        command = click.option(
            flag,
            f.name,
            type=kind,
            default=None,
            show_envvar=False,
            help=f"{f.metadata['help']} [env {env_var(f.name)}; default {f.default}]",
        )(command)
    return command


class _Group(click.Group):
    """Turns a CxstreamError into one line on stderr and exit code 1, not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CxstreamError as exc:
            click.echo(f"cxstream: error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="cxstream")
@_settings_options
@click.pass_context
def main(ctx: click.Context, **overrides: Any) -> None:
    """cxstream: live A-11 customer-experience scores from service traffic."""
    try:
        settings = Settings.load(overrides)
    except CxstreamError as exc:
        click.echo(f"cxstream: error: {exc}", err=True)
        ctx.exit(2)
    configure_logs(settings.log_level, settings.log_format)
    ctx.obj = settings


def _register_subcommands() -> None:
    from cxstream.dashboard import dashboard
    from cxstream.gateway.cli import gateway
    from cxstream.gateway.keys_cli import keys
    from cxstream.generate_cli import generate
    from cxstream.publish_cli import publish
    from cxstream.sinks.cli import db, report
    from cxstream.stack.cli import stack, topics
    from cxstream.streams.cli import worker

    main.add_command(publish)
    main.add_command(generate)
    main.add_command(dashboard)
    main.add_command(worker)
    main.add_command(stack)
    main.add_command(topics)
    main.add_command(db)
    main.add_command(report)
    main.add_command(gateway)
    main.add_command(keys)


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
