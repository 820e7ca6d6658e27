"""The package's version, in one place.

Read by the package face, the command line and the parsed-data cache's key.
"""

__version__ = "0.1.0"
