"""The ``cxstream`` command line: one module per command, each showing the settings it uses.

``cxstream COMMAND --help`` lists a command's flags; every flag is also a ``CXSTREAM_*``
environment variable (cxstream/cli/options.py). The root command takes only the log flags.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from cxstream import __version__
from cxstream.cli.options import global_options
from cxstream.errors import CxstreamError


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
@global_options
@click.pass_context
def main(ctx: click.Context, **overrides: Any) -> None:
    """cxstream: live A-11 customer-experience scores from service traffic.

    Every command's settings are its flags (``cxstream worker --help``) and CXSTREAM_* variables.
    """
    ctx.obj = {name: value for name, value in overrides.items() if value is not None}


def _register_subcommands() -> None:
    from cxstream.cli.comments import comments
    from cxstream.cli.dashboard import dashboard
    from cxstream.cli.db import db
    from cxstream.cli.gateway import gateway
    from cxstream.cli.generate import generate
    from cxstream.cli.keys import keys
    from cxstream.cli.publish import publish
    from cxstream.cli.report import report
    from cxstream.cli.sink import sink
    from cxstream.cli.stack import stack
    from cxstream.cli.topics import topics
    from cxstream.cli.worker import worker

    for command in (publish, generate, worker, sink, dashboard, gateway, keys, stack, topics, db, report, comments):
        main.add_command(command)


_register_subcommands()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
