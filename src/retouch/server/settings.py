"""The server's limits and switches, in one frozen value that the app factory receives."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from retouch.errors import InvalidInput


@dataclass(frozen=True)
class ServerSettings:
    """What ``create_app`` needs; every limit is configurable from ``retouch serve``.

    max_upload_bytes bounds a whole request body; max_megapixels bounds a decoded image (413 beyond either).
    queue_size bounds the tool jobs queued or running at once (429 beyond); workers run them; a running job that
    reports no progress for stall_timeout_s is stopped (504), however long it has run. Documents (uploads being edited)
    live in data_dir (a temporary directory removed at shutdown when None), at most max_documents of them,
    each dropped after document_ttl_s unused, each keeping its last max_history edits for undo.

    A host beyond this machine (anything but a loopback address or "localhost") needs an api_key, or
    insecure_public: the explicit choice to let anyone who can reach the address use every endpoint.

    provenance: mark every edited image the server hands out as AI-edited, in its XMP and in a signed C2PA
    manifest (see retouch.server.credentials).
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
    insecure_public: bool = False
    provenance: bool = True

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
        if not self.is_loopback and self.api_key is None and not self.insecure_public:
            raise InvalidInput(
                f"serving on {self.host} opens the API to other machines: set an API key (--api-key or "
                "RETOUCH_API_KEY), or pass --insecure-public to let anyone who can reach it use it"
            )

    @property
    def max_pixels(self) -> int:
        return int(self.max_megapixels * 1_000_000)

    @property
    def is_loopback(self) -> bool:
        """Whether the host is reachable from this machine only: "localhost" or a loopback address (127.0.0.0/8,
        ::1, or 127.x written as an IPv4-mapped IPv6 address). Other names may resolve to any address."""
        if self.host.lower() == "localhost":
            return True
        try:
            address = ipaddress.ip_address(self.host.strip("[]"))
        except ValueError:
            return False
        mapped = getattr(address, "ipv4_mapped", None)
        return address.is_loopback or (mapped is not None and mapped.is_loopback)
