"""Exceptions raised by ringgeo.

Every error ringgeo raises on purpose derives from :class:`RinggeoError`, so a
newsroom script can catch them all in one place. Each message says what went
wrong and what would fix it. Problems a user can live with are warnings, raised
with :func:`warn` so that they point at the user's line.
"""

import os
import sys
import warnings


class RinggeoError(Exception):
    """Base class of every error raised by ringgeo."""


class UnknownSourceError(RinggeoError, KeyError):
    """A data source name that is not in the registry."""

    def __str__(self):  # KeyError would quote the message
        """Return the message as it is."""
        return str(self.args[0]) if self.args else ""


class ChecksumError(RinggeoError, ValueError):
    """A data file whose sha256 differs from the one in the registry."""


class DataNotFoundError(RinggeoError, FileNotFoundError):
    """A data file that is neither in the mirror nor downloadable."""


class InputError(RinggeoError, ValueError):
    """An input file (or one of its rows or fields) that cannot be used."""


class ParameterError(RinggeoError, ValueError):
    """A function or notebook parameter outside its allowed values."""


class NotebookError(RinggeoError, RuntimeError):
    """A notebook of a batch run that failed."""


class QueryError(ParameterError):
    """A lookup query that matches nothing, or several things (the message lists them)."""


def warn(message: str, category: type[Warning] = UserWarning) -> None:
    """Warn, pointing at the caller's first line outside the ringgeo package.

    The one way ringgeo warns: a notebook or script sees its own line in the
    warning, however deep inside ringgeo the problem was found.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(1), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(here):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)


class NotebookTimeoutError(NotebookError):
    """A notebook run of a batch that did not finish within its time limit (it was stopped).

    Its ``timeout`` attribute is the limit, in seconds; ``exec_count`` the cell
    it was stopped in; its message names the run and says how to raise the limit
    (``ringgeo figures --timeout SECONDS``).
    """
