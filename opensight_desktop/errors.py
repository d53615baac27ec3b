"""Errors whose message is written for the user.

Front ends print ``str(error)`` as one line and exit with ``exit_code``; anything else
is a bug, logged with its traceback to the log file.
"""

from __future__ import annotations


class OpenSightError(Exception):
    """An expected failure with a human-readable message (exit status 2: unusable input)."""

    exit_code = 2


class CaseFileError(OpenSightError):
    """The case file is missing, not a case, damaged, locked or from a newer version."""


class UsageError(OpenSightError):
    """The command was given arguments that cannot work."""


class ModelError(OpenSightError):
    """A checkpoint could not be imported or loaded, or no model is installed."""


class SigningKeyError(OpenSightError):
    """The examiner's signing key cannot be made or read."""


class Cancelled(OpenSightError):
    """The user cancelled the work before it finished; nothing of it was written.

    Not a failure: front ends say it was cancelled (the CLI exits 130, as for Ctrl-C).
    """

    exit_code = 130


class ClusterError(OpenSightError):
    """A Ray cluster cannot be reached or used, or was lost during a run (what was written
    before is kept: running again resumes)."""
