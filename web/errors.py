"""One small exception hierarchy carrying an HTTP status, and the one handler for it.

Views raise these; ``register_error_handlers`` answers JSON under ``/api`` and an HTML page
elsewhere, with a Vietnamese message first and the English one second.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, jsonify, make_response, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class WebError(Exception):
    """Base of the web errors. ``status`` is the HTTP status, ``code`` a stable machine name."""

    status = 500
    code = "internal_error"
    vi = "Đã có lỗi xảy ra."
    en = "Something went wrong."

    def __init__(self, vi: str | None = None, en: str | None = None, **context: Any):
        self.vi = vi or type(self).vi
        self.en = en or type(self).en
        self.context = context
        super().__init__(self.en)


class BadRequest(WebError):
    status = 400
    code = "bad_request"
    vi = "Yêu cầu không hợp lệ."
    en = "The request is not valid."


class Unauthorized(WebError):
    status = 401
    code = "unauthorized"
    vi = "Cần đăng nhập."
    en = "Sign-in required."


class Forbidden(WebError):
    status = 403
    code = "forbidden"
    vi = "Bạn không có quyền xem trang này."
    en = "You are not allowed to see this."


class NotFound(WebError):
    status = 404
    code = "not_found"
    vi = "Không tìm thấy."
    en = "Not found."


class Conflict(WebError):
    status = 409
    code = "conflict"
    vi = "Dữ liệu đã bị người khác thay đổi. Hãy tải lại trang và thử lại."
    en = "Someone else changed this record. Reload the page and try again."


class Unprocessable(WebError):
    status = 422
    code = "invalid"
    vi = "Dữ liệu chưa hợp lệ."
    en = "Some values are not valid."


class TooManyRequests(WebError):
    status = 429
    code = "too_many_requests"
    vi = "Quá nhiều lần thử từ địa chỉ này. Hãy đợi một lát rồi thử lại."
    en = "Too many attempts from this address. Wait a moment and try again."

    def __init__(self, vi: str | None = None, en: str | None = None, retry_after: int | None = None, **context: Any):
        super().__init__(vi, en, **context)
        self.retry_after = retry_after


class EngineUnavailable(WebError):
    status = 503
    code = "engine_unavailable"
    vi = "Bộ máy ghép nối chưa sẵn sàng."
    en = "The matching engine is not available yet."


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
