"""The server's limits and switches, in one frozen value that the app factory receives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from retouch.errors import InvalidInput

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class ServerSettings:
    """What ``create_app`` needs; every limit is configurable from ``retouch serve``.

    max_upload_bytes bounds a whole request body; max_megapixels bounds a decoded image (413 beyond either).
    queue_size bounds the tool jobs queued or running at once (429 beyond); workers run them; a running job that
    reports no progress for stall_timeout_s is stopped (504), however long it has run. Documents (uploads being edited)
    live in data_dir (a temporary directory removed at shutdown when None), at most max_documents of them,
    each dropped after document_ttl_s unused, each keeping its last max_history edits for undo.
    """

    host: str = "127.0.0.1"
    port: int = 7860
    api_key: str | None = None
    cors_origins: tuple[str, ...] = ()
    max_upload_bytes: int = 200 * 1024 * 1024
    max_megapixels: float = 150.0
    queue_size: int = 16
    workers: int = 1
    stall_timeout_s: float = 300.0
    max_documents: int = 16
    max_history: int = 50
    document_ttl_s: float = 6 * 3600.0
    data_dir: Path | None = None
    device: str = "auto"

    def __post_init__(self) -> None:
        positive = {
            "max_upload_bytes": self.max_upload_bytes,
            "max_megapixels": self.max_megapixels,
            "queue_size": self.queue_size,
            "workers": self.workers,
            "stall_timeout_s": self.stall_timeout_s,
            "max_documents": self.max_documents,
            "max_history": self.max_history,
            "document_ttl_s": self.document_ttl_s,
        }
        for name, value in positive.items():
            if value <= 0:
                raise InvalidInput(f"server setting {name} must be positive, got {value}")
        if self.api_key is not None and not self.api_key.strip():
            raise InvalidInput("the API key must not be empty")
        if not 0 <= self.port < 65536:
            raise InvalidInput(f"port must be between 0 (any free port) and 65535, got {self.port}")

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")
