"""Errors a CLI command ends with, and their exit codes (0 ok, 1 failure, 2 usage)."""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2


class CliFailure(Exception):
    """A command failed; the message says what, where and what was expected."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageFailure(CliFailure):
    """The command was called wrongly (missing option, bad value, nobody signed in)."""

    exit_code = EXIT_USAGE


class GatewayRefused(CliFailure):
    """The gateway answered a call with an error status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status
