"""Every failure answers JSON of one shape: ``{"error": {"code": "...", "message": "..."}}``.

``ApiError`` is raised by the server's own code; Retouch's typed errors, request validation errors, unknown
routes and unexpected exceptions are turned into the same shape by the handlers installed here.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from retouch import errors

log = logging.getLogger("retouch.server")

# Retouch's errors by class; the most specific class in an error's MRO wins.
_RETOUCH_STATUS: dict[type[errors.RetouchError], tuple[int, str]] = {
    errors.TooLarge: (413, "too_large"),
    errors.UnsupportedFormat: (415, "unsupported_format"),
    errors.CorruptImage: (400, "corrupt_image"),
    errors.InvalidInput: (400, "invalid_input"),
    errors.WeightsMissing: (503, "weights_missing"),
    errors.BackendUnavailable: (503, "backend_unavailable"),
    errors.LicenseNotAccepted: (403, "license_not_accepted"),
    errors.ChecksumError: (500, "checksum_error"),
    errors.DownloadError: (503, "download_error"),
    errors.RetouchError: (400, "error"),
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "upload_too_large",
    415: "unsupported_media_type",
    429: "queue_full",
}


class ApiError(Exception):
    """A failure with its HTTP status, a stable machine-readable code and a sentence for people."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message}


def from_exception(error: BaseException) -> ApiError:
    """The ApiError for any exception a request or a job may raise."""
    if isinstance(error, ApiError):
        return error
    if isinstance(error, errors.RetouchError):
        for cls in type(error).__mro__:
            if cls in _RETOUCH_STATUS:
                status, code = _RETOUCH_STATUS[cls]
                return ApiError(status, code, " ".join(str(error).split()))
    log.error("internal error", exc_info=(type(error), error, error.__traceback__))
    return ApiError(500, "internal_error", f"the server failed ({type(error).__name__}); see the server log")


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def _api_error(_: Request, error: Exception) -> JSONResponse:
    api = from_exception(error)
    return error_response(api.status, api.code, api.message, api.headers)


def _validation_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{where}: {item.get('msg', 'invalid')}" if where else str(item.get("msg", "invalid")))
    return error_response(422, "invalid_request", "; ".join(parts) or "the request is not valid")


def _http_error(_: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    code = _HTTP_CODES.get(error.status_code, "http_error")
    message = error.detail if isinstance(error.detail, str) else "the request failed"
    if error.status_code == 404 and message == "Not Found":
        message = "no such page or API endpoint"
    headers = dict(error.headers) if error.headers else None
    return error_response(error.status_code, code, message, headers)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(errors.RetouchError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _api_error)
