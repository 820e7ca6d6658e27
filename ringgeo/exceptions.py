"""Exceptions raised by ringgeo.

Every error ringgeo raises on purpose derives from :class:`RinggeoError`, so a
newsroom script can catch them all in one place. Each message says what went
wrong and what would fix it.
"""


class RinggeoError(Exception):
    """Base class of every error raised by ringgeo."""


class UnknownSourceError(RinggeoError, KeyError):
    """A data source name that is not in the registry."""

    def __str__(self):  # KeyError would quote the message
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
