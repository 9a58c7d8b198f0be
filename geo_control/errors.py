"""One exception tree. User-input errors are also ValueError/OSError so callers can catch either.

Every message names the input, what was expected, what came, and how to fix it; the CLI prints
``str(error)`` as one line and exits non-zero.
"""


class GeoControlError(Exception):
    """Base of every error geo_control raises on purpose."""


class InputError(GeoControlError, ValueError):
    """A user's input (file, option, table row) is wrong."""


class MissingInputError(GeoControlError, OSError):
    """A file or folder the user named cannot be found or read."""


class ReportDateError(InputError):
    """A report has no date: not in the manifest, not in the text, and no ``--date``."""


class ManifestError(InputError):
    """A ``manifest.csv`` row is malformed."""


class FactionError(InputError):
    """The faction registry is malformed or names an unknown faction."""


class BaselineError(InputError):
    """A baseline control layer cannot be used (missing, no CRS, no faction column...)."""


class GazetteerError(GeoControlError):
    """The gazetteer or an overrides file is malformed."""


class OutputError(GeoControlError, OSError):
    """An output folder cannot be written."""
