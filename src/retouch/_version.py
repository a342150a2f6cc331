"""The version of Retouch, stated once: the package, its metadata (pyproject.toml reads it) and every layer
that names it (provenance XMP, download User-Agent, licence records) import it from here."""

__version__ = "0.1.0"
