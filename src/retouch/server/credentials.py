"""Content Credentials on what the server hands out: document downloads and the files one-shot tool calls send
back carry the same signed C2PA manifest as the files ``retouch`` writes (see retouch.io.credentials).

The signing pair is found (or, the first time on this machine, created) once per server and kept: the user's
(RETOUCH_SIGN_CERT and RETOUCH_SIGN_KEY, else ``signing.toml`` in the Retouch home), else the local pair. The
one-time notice of a created pair goes to the server log, never into a response. A signing setup that cannot be
used is the server's fault, not the request's: the request gets a 500 JSON error and the log says why (``retouch
serve`` checks the setup before it accepts a request, so there it is one error line at start instead).
``retouch serve --no-provenance`` turns off the XMP marks and the manifest together.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from retouch.errors import InvalidInput
from retouch.server.errors import ApiError

if TYPE_CHECKING:
    from retouch.io.credentials import Parent
    from retouch.io.signing import SigningPair
    from retouch.types import Picture

log = logging.getLogger("retouch.server")


class ServerCredentials:
    """Signs encoded outputs with one cached pair. Thread-safe: encodings run in several threads at once."""

    def __init__(self, enabled: bool, home: Path | None = None) -> None:
        self.enabled = enabled
        self._home = home  # None: the Retouch home (RETOUCH_HOME), looked up when the pair is first needed
        self._pair: SigningPair | None = None
        self._lock = threading.Lock()

    def pair(self) -> SigningPair:
        """The signing pair, found or created on the first call. A configuration that cannot be used raises
        InvalidInput on every call until it is fixed (nothing is cached then)."""
        with self._lock:  # one creation per server; signing.py also makes creation safe between processes
            if self._pair is None:
                from retouch.io.signing import created_notice, find_or_create_pair
                from retouch.models.cache import retouch_home

                self._pair, created = find_or_create_pair(self._home or retouch_home())
                if created is not None:
                    log.warning("%s", created_notice(created, "retouch serve --no-provenance"))
            return self._pair

    def attach(self, data: bytes, fmt: str, picture: Picture, title: str, parent: Parent | None) -> bytes:
        """``data``, the picture encoded in ``fmt``, with its manifest embedded (unchanged when provenance is off,
        the format holds none, or nothing was edited). ``parent``: the uploaded file, the manifest's ingredient."""
        from retouch.io import format_named
        from retouch.io.credentials import EMBEDDABLE, attach_credentials

        found = format_named(fmt)
        if not self.enabled or found.name not in EMBEDDABLE or not picture.metadata.operations:
            return data
        try:
            return attach_credentials(data, found, picture, title, self.pair(), parent)
        except InvalidInput as error:  # paths and configuration stay in the server log
            log.error("cannot sign Content Credentials: %s", error)
            raise ApiError(
                500, "signing_failed", "the server cannot sign Content Credentials; the server log says why"
            ) from None
