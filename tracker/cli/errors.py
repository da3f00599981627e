"""The error every ``tracker`` command raises for bad input."""

from __future__ import annotations

import click


class CLIError(click.ClickException):
    """A one-line error and exit code 2 (bad arguments); nothing has been written."""

    exit_code = 2
