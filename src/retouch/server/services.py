"""What the endpoints share: settings, the document store, the job queue, the tools and the I/O limiter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from fastapi import Request

from retouch.server.jobs import JobQueue
from retouch.server.settings import ServerSettings
from retouch.server.store import DocumentStore
from retouch.server.tools import ToolSpec

T = TypeVar("T")
# Decoding and encoding run in threads, at most this many at once, so a burst of uploads stays bounded in memory.
IO_THREADS = 4


@dataclass
class Services:
    settings: ServerSettings
    store: DocumentStore
    jobs: JobQueue
    tools: dict[str, ToolSpec]
    io_limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(IO_THREADS))

    @classmethod
    def start(cls, settings: ServerSettings, tools: list[ToolSpec]) -> Services:
        store = DocumentStore(
            root=settings.data_dir,
            max_documents=settings.max_documents,
            max_history=settings.max_history,
            ttl_s=settings.document_ttl_s,
        )
        jobs = JobQueue(settings.queue_size, settings.workers, settings.stall_timeout_s)
        return cls(settings, store, jobs, {tool.name: tool for tool in tools})

    def close(self) -> None:
        self.jobs.shutdown()
        self.store.close()

    async def run_io(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking decode/encode/disk work off the event loop, bounded by the I/O limiter."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self.io_limiter)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
