"""Typed errors. Every message says what was wrong and, where there is one, how to fix it.

The CLI prints ``str(error)`` as one line and exits with code 2; the server maps each class to a 4xx status.
Library code raises these and never exits the process.
"""

from __future__ import annotations


class RetouchError(Exception):
    """Base class of every error Retouch raises on purpose."""


class InvalidInput(RetouchError, ValueError):
    """An argument, option or input file is not acceptable (wrong size, bad option value, ...)."""


class UnsupportedFormat(InvalidInput):
    """The file is not an image format Retouch reads, or the extension names no format it writes."""


class CorruptImage(InvalidInput):
    """The file claims to be an image but cannot be decoded (truncated, damaged)."""


class TooLarge(InvalidInput):
    """The image exceeds the configured pixel limit (the decompression-bomb guard)."""


class OutputExists(RetouchError):
    """Writing would replace an existing file (or the input) and overwriting was not asked for."""


class WeightsMissing(RetouchError):
    """A model's weights are not installed; the message names the command that fetches them."""

    def __init__(self, model: str, command: str, detail: str = "") -> None:
        self.model = model
        self.command = command
        extra = f" ({detail})" if detail else ""
        super().__init__(f"weights for model '{model}' are not installed{extra}; run: {command}")


class ChecksumError(RetouchError):
    """A weights file does not have the sha256 its registry row declares."""


class DownloadError(RetouchError):
    """Weights could not be downloaded (network failure, HTTP error, offline mode)."""


class LicenseNotAccepted(RetouchError):
    """A model with a non-permissive license was requested before the user pulled it explicitly."""


class BackendUnavailable(RetouchError):
    """A requested runtime or device is absent (e.g. --device cuda without a CUDA GPU)."""


class RetouchWarning(UserWarning):
    """Something the user should know that does not stop the work (metadata a format cannot hold, say): library
    code issues it with ``warnings.warn``; the CLI prints it as one "retouch: warning: ..." line."""
