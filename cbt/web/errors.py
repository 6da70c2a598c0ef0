"""Map domain errors to responses in one place: JSON ``{"error": code, "message": ...}`` for the API, the
message in the request's language (``cbt.i18n``)."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from cbt import i18n
from cbt.core.errors import CbtError
from cbt.i18n import N_

HTTP_MESSAGES = {  # message ids, translated when shown
    400: N_("请求格式不正确"),
    401: N_("请先登录"),
    403: N_("没有权限执行此操作"),
    404: N_("页面或资源不存在"),
    405: N_("不支持的请求方法"),
    413: N_("提交的内容过大"),
    429: N_("操作过于频繁，请稍后再试"),
    500: N_("服务器内部错误，请联系考务人员"),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CbtError)
    def domain_error(exc: CbtError):
        return _respond(exc.status, exc.code, i18n.render(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        code = (exc.name or "error").lower().replace(" ", "_")
        return _respond(status, code, i18n.gettext(HTTP_MESSAGES.get(status, N_("请求失败"))))


def _respond(status: int, code: str, message: str):
    if _wants_json():
        return jsonify({"error": code, "message": message}), status
    return render_template("errors/error.html", status=status, message=message), status
