"""One small exception hierarchy for the use cases, each error carrying an HTTP status, a stable
code and a Vietnamese and an English message. Services raise these; the views' handler
(``web.views.errors``) answers JSON under ``/api`` and an HTML page elsewhere, and the CLI prints
the message.
"""

from __future__ import annotations

from typing import Any


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


class BreaksRule(Conflict):
    """A well-formed request that a rule in force refuses as things stand (the fee caps at the
    current exchange rates, the enterprise's licence, an approval number already used): 409, as
    the same request may pass once the state changes."""

    code = "blocked"
    vi = "Yêu cầu vi phạm quy định đang có hiệu lực."
    en = "The request breaks a rule in force."


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
