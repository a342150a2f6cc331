"""What the endpoints share: settings, the document store, the job queue, the tools and the I/O limiter."""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio
from fastapi import Request

from retouch.server import tempdata
from retouch.server.credentials import ServerCredentials
from retouch.server.errors import ApiError
from retouch.server.installs import ModelInstalls
from retouch.server.jobs import Job, JobQueue
from retouch.server.settings import ServerSettings
from retouch.server.store import DocumentStore
from retouch.server.tools import ToolSpec

T = TypeVar("T")
# Decoding and encoding run in threads, at most this many at once, so a burst of uploads stays bounded in memory.
IO_THREADS = 4
# At shutdown, how long running jobs get to stop after their cancellation (they stop at their next progress
# report, within a second or two) before the documents' folder is removed regardless.
DRAIN_S = 3.0


# The libraries the tools import on first use. Importing one runs module initialisation that holds the interpreter
# lock for up to ~130 ms at a time (torch: 0.9 s in all), which stalled /api/health that long during a server's
# first upscale. `retouch serve` imports them before it accepts a request (an app embedded elsewhere stays
# lighter: it imports them when a tool first needs them).
HEAVY_LIBRARIES = ("torch", "onnxruntime", "cv2")


def preload_libraries() -> None:
    for name in HEAVY_LIBRARIES:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional library: its tools say so when used
            pass
    # The objects made so far live as long as the process: left out of the cyclic collector's passes, which
    # otherwise walk torch's hundreds of thousands of objects while holding the lock.
    gc.freeze()


@dataclass
class Services:
    settings: ServerSettings
    store: DocumentStore
    jobs: JobQueue
    tools: dict[str, ToolSpec]
    credentials: ServerCredentials
    io_limiter: anyio.CapacityLimiter = field(default_factory=lambda: anyio.CapacityLimiter(IO_THREADS))
    installs: ModelInstalls = field(init=False)

    def __post_init__(self) -> None:
        self.installs = ModelInstalls(self.settings.stall_timeout_s)

    @classmethod
    def start(cls, settings: ServerSettings, tools: list[ToolSpec]) -> Services:
        """The services of a starting server; folders that killed servers left behind are removed first."""
        tempdata.remove_stale(settings.data_dir)
        store = DocumentStore(
            root=settings.data_dir,
            max_documents=settings.max_documents,
            max_history=settings.max_history,
            ttl_s=settings.document_ttl_s,
        )
        jobs = JobQueue(settings.queue_size, settings.workers, settings.stall_timeout_s)
        credentials = ServerCredentials(settings.provenance)
        return cls(settings, store, jobs, {tool.name: tool for tool in tools}, credentials)

    def delete_document(self, doc_id: str) -> None:
        """Cancel the document's queued and running jobs, then forget it and delete its files."""
        doc = self.store.get(doc_id)
        self.jobs.cancel_document(doc.id)
        self.store.delete(doc.id)

    def find_job(self, job_id: str) -> tuple[JobQueue, Job]:
        """A tool job or a model install, with the queue it runs in (404 when neither knows it)."""
        try:
            return self.jobs, self.jobs.get(job_id)
        except ApiError:
            return self.installs.jobs, self.installs.jobs.get(job_id)

    def close(self) -> None:
        """Cancel every job, give the running ones DRAIN_S to stop, then delete every document's files."""
        self.jobs.shutdown(DRAIN_S)
        self.installs.jobs.shutdown(DRAIN_S)
        self.store.close()

    async def run_io(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking decode/encode/disk work off the event loop, bounded by the I/O limiter."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self.io_limiter)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services
