"""Build of Retouch's compiled kernels (everything else is declared in pyproject.toml).

The heavy pixel loops are C++ compiled at install time, so the first run is as fast as the tenth and a read-only
install works: no just-in-time compiler, no cache to write. Each tool that has kernels gets one extension module.

RETOUCH_PORTABLE=1 builds for any x86-64-v2 CPU instead of the building machine's own instruction set (for a
wheel meant for other machines). The sources of each extension compile in parallel: RETOUCH_BUILD_JOBS jobs, by
default one per CPU this process may use.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

from pybind11.setup_helpers import ParallelCompile, Pybind11Extension, build_ext
from setuptools import setup

NATIVE = Path("native")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _arch_flags() -> list[str]:
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return []
    return ["-march=x86-64-v2"] if os.environ.get("RETOUCH_PORTABLE") == "1" else ["-march=native"]


def _extension(module: str, folder: str) -> Pybind11Extension:
    sources = sorted(str(path) for path in (NATIVE / folder).glob("*.cpp"))
    return Pybind11Extension(
        module,
        sources,
        include_dirs=[str(NATIVE / "common")],
        cxx_std=17,
        extra_compile_args=["-O3", *_arch_flags()],
        extra_link_args=["-pthread"],
    )


ParallelCompile("RETOUCH_BUILD_JOBS", default=_cpu_count()).install()

setup(
    ext_modules=[
        _extension("retouch.tools.erase._patch", "erase"),
        _extension("retouch.tools.cutout._kernels", "cutout"),
        _extension("retouch.ops._winograd", "ops"),
    ],
    cmdclass={"build_ext": build_ext},
)
