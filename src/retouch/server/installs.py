"""Model installs run as jobs: one at a time per model, progress from the weight resolver (download, then the
sha256 check), and a cancelled install leaves no partial file behind. They have a queue of their own, so that a
download of a few hundred megabytes does not hold up the tools' jobs behind it.

The weight resolver keeps a ``.part`` file after a failed download so that the next pull resumes it; a cancel is
the user saying "not now", so its ``.part`` files are deleted instead.
"""

from __future__ import annotations

import threading
from typing import Any

from retouch.errors import LicenseNotAccepted
from retouch.models import cache, weights
from retouch.models.spec import ModelSpec
from retouch.server.errors import ApiError
from retouch.server.jobs import Job, JobQueue, JobStopped

INSTALL_QUEUE = 8  # installs queued or running at once
INSTALL_WORKERS = 2

class ModelInstalls:
    """Which install job each model has running; starts and removes models for the /api/models routes."""

    def __init__(self, stall_timeout_s: float) -> None:
        self.jobs = JobQueue(INSTALL_QUEUE, INSTALL_WORKERS, stall_timeout_s)
        self._running: dict[str, Job] = {}
        self._lock = threading.Lock()

    def running(self, name: str) -> Job | None:
        """The model's queued or running install job, or None."""
        with self._lock:
            job = self._running.get(name)
        return job if job is not None and job.finished is None else None

    def start(self, spec: ModelSpec, accept_license: bool) -> Job:
        """Queue the install of ``spec``. An opt-in license must be accepted in the request (LicenseNotAccepted,
        a 403 naming the license, otherwise); a second install of a model already being installed is a 409."""
        if not spec.permissive and not accept_license:  # the CLI's --accept-license rule
            where = f" ({spec.license_url})" if spec.license_url else ""
            raise LicenseNotAccepted(
                f"model '{spec.name}' is licensed under {spec.license}{where}, which is not permissive, so it is "
                "opt-in: read the license and accept it (accept_license=true) to install the model"
            )
        with self._lock:
            current = self._running.get(spec.name)
            if current is not None and current.finished is None:
                raise ApiError(409, "install_running", f"model '{spec.name}' is being installed (job {current.id})")
            job = self.jobs.submit("install", lambda job: _install(job, spec, accept_license))
            self._running[spec.name] = job
        return job

    def remove(self, spec: ModelSpec) -> list[str]:
        """Delete the model's cached files (not while it is being installed); returns the names removed."""
        job = self.running(spec.name)
        if job is not None:
            message = f"model '{spec.name}' is being installed (job {job.id}); cancel it first"
            raise ApiError(409, "install_running", message)
        return [path.name for path in weights.remove(spec)]


def _install(job: Job, spec: ModelSpec, accept_license: bool) -> dict[str, Any]:
    """Fetch and check the model's files (the job's work); the result names them."""
    try:
        path = weights.pull(spec, accept_license=accept_license, progress=job.report)
    except JobStopped:
        _drop_partial(spec)
        raise
    return {"model": spec.name, "installed": weights.is_installed(spec), "path": str(path)}


def _drop_partial(spec: ModelSpec) -> None:
    """Delete the model's partial downloads (under its lock, which the stopped download has released)."""
    folder = cache.model_dir(spec.name)
    if not folder.is_dir():
        return
    with cache.model_lock(spec.name):
        for part in folder.glob("*.part"):
            part.unlink(missing_ok=True)
