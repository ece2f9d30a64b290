"""The one handler for the errors of ``web.services.errors``.

Services and views raise those; ``register_error_handlers`` answers JSON under ``/api`` and an HTML page
elsewhere, with a Vietnamese message first and the English one second.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from web.services.errors import WebError, NotFound

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(status: int, code: str, vi: str, en: str, context: dict | None = None):
    if wants_json():
        body: dict[str, Any] = {"error": {"status": status, "code": code, "message": en, "message_vi": vi}}
        if context:
            body["error"]["detail"] = context
        return jsonify(body), status
    return render_template("error.html", status=status, code=code, vi=vi, en=en), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(WebError)
    def _web_error(exc: WebError):
        detail = {k: v for k, v in exc.context.items() if _jsonable(v)}
        response = make_response(error_response(exc.status, exc.code, exc.vi, exc.en, detail or None))
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        from flask_wtf.csrf import CSRFError

        if isinstance(exc, CSRFError):
            return error_response(
                400,
                "csrf",
                "Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ (CSRF). Hãy tải lại trang.",
                "The form expired or is not valid (CSRF). Reload the page and try again.",
            )
        messages = {
            404: (NotFound.vi, NotFound.en),
            405: ("Phương thức không được phép.", "Method not allowed."),
            413: (
                "Tệp quá lớn.",
                "The upload is too large.",
            ),
        }
        vi, en = messages.get(status, (exc.name, exc.description or exc.name))
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(
            status, (exc.name or "error").lower().replace(" ", "_")
        )
        response = make_response(error_response(status, code, vi, en))
        # keep the headers the exception carries that a client relies on (RFC 9110: a 405
        # lists the allowed methods in Allow; found by schemathesis)
        for name, value in exc.get_headers():
            if name.lower() in ("allow", "retry-after", "www-authenticate"):
                response.headers[name] = value
        return response

    if not app.testing:  # in tests, let bugs surface with their traceback

        @app.errorhandler(Exception)
        def _unexpected(exc: Exception):  # pragma: no cover - exercised only on bugs
            log.exception("unhandled error on %s %s", request.method, request.path)
            return error_response(500, WebError.code, WebError.vi, WebError.en)


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, list, dict, type(None)))
