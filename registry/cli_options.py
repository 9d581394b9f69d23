"""Click options shared by the command modules (`registry.cli` and
`registry.monitoring.cli`), in a module of their own that imports neither, so
both can use them without a circular import."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

db_option = click.option(
    "--db",
    "db_path",
    envvar="REGISTRY_DB",
    default=None,
    help="SQLite file of the registry [env REGISTRY_DB; default data/registry.db].",
)


def screening_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The screening parameters `registry screen` and `registry screen-book` share."""
    options = [
        click.option(
            "--threshold",
            type=click.FloatRange(0, 1),
            default=None,
            help="A score at or above it is a match [default: the service's].",
        ),
        click.option(
            "--min-score",
            type=click.FloatRange(0, 1),
            default=None,
            help="Also list candidates down to this score.",
        ),
        click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True),
        click.option("--jurisdiction", default=None),
        click.option("--authority", default=None),
        click.option("--program", default=None),
        click.option("--include-delisted", is_flag=True),
        click.option("--hide-false-positives", is_flag=True),
    ]
    for option in reversed(options):
        command = option(command)
    return command
