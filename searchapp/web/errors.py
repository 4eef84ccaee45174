"""Every error as the reader expects it: an Indonesian page, or under /api/ a
JSON body `{"error": {"code", "message", "reason"?}}` in the request's language.

One set of handlers serves both, so a bad parameter is the same 400 on a page
and in the API, and no traceback or internal detail ever reaches a response.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from searchapp.errors import QueryError, message
from searchapp.engine.base import EngineUnavailable, IndexerError, IndexUnreadable

LANGUAGES = ("id", "en")  # of the API's messages; the first is the default
HTTP_HEADINGS = {400: "Permintaan tidak valid", 404: "Halaman tidak ditemukan", 405: "Metode tidak diizinkan"}
HTTP_MESSAGES = {400: "Server tidak dapat memahami permintaan ini.",
                 404: "Alamat ini tidak ada. Mungkin tautannya sudah usang atau salah ketik.",
                 405: "Halaman ini hanya bisa dibuka dengan GET."}
OTHER_HEADINGS = {4: "Permintaan tidak dapat dilayani", 5: "Terjadi kesalahan"}  # by the first digit of the status

Reply = tuple[Response | str, int] | tuple[Response | str, int, dict[str, str]]

bp = Blueprint("errors", __name__)


def language() -> str:
    """The language of the API's messages: Indonesian, or English if the request prefers it."""
    return request.accept_languages.best_match(LANGUAGES, default="id")


def error_json(status: int, code: str, text: str, reason: str | None = None) -> tuple[Response, int]:
    """The error body: `code` the kind of error, `reason` (a QueryError's code) what to fix."""
    error = {"code": code, "message": text}
    if reason:
        error["reason"] = reason
    response = jsonify(error=error)
    response.vary.add("Accept-Language")
    return response, status


def not_found_json(article_id: str) -> tuple[Response, int]:
    return error_json(404, "not_found", message("article_not_found", language(), id=article_id))


def actor_not_found_json(name: str) -> tuple[Response, int]:
    return error_json(404, "not_found", message("actor_not_found", language(), name=name))


def _wants_json() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _error_page(status: int, heading: str, code: str, message_code: str) -> Reply:
    """The error as a page (Indonesian) or, under /api/, as JSON in the request's language;
    `code` is the API's kind of error, `message_code` the catalogue message."""
    if _wants_json():
        return error_json(status, code, message(message_code, language()))
    text = message(message_code, "id")
    return render_template("error.html", status=status, heading=heading, message=text), status


@bp.app_errorhandler(QueryError)
def bad_query(exc: QueryError) -> Reply:
    if _wants_json():
        return error_json(400, "invalid_parameter", exc.message(language()), exc.code)
    return render_template("error.html", status=400, heading="Permintaan tidak dapat diproses",
                           message=exc.message("id")), 400


@bp.app_errorhandler(IndexerError)
def no_index(exc: IndexerError) -> Reply:
    current_app.logger.warning("index unavailable: %s", exc)
    return _error_page(503, "Indeks belum tersedia", "index_unavailable", "no_index")


@bp.app_errorhandler(IndexUnreadable)
@bp.app_errorhandler(OSError)
def unreadable_index(exc: Exception) -> Reply:
    current_app.logger.exception("index unreadable")
    return _error_page(503, "Indeks tidak dapat dibaca", "index_unavailable", "index_unreadable")


@bp.app_errorhandler(EngineUnavailable)
def engine_unreachable(exc: EngineUnavailable) -> Reply:
    current_app.logger.warning("engine unreachable: %s", exc)
    return _error_page(503, "Mesin pencari tidak dapat dihubungi", "index_unavailable", "engine_unreachable")


@bp.app_errorhandler(HTTPException)
def http_error(exc: HTTPException) -> Reply:
    status = exc.code or 500
    headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else {}
    if _wants_json():
        code = exc.name.lower().replace(" ", "_")
        text = (message(code, language()) if code in ("not_found", "method_not_allowed")
                else message("http_error", language(), status=status))
        body, _ = error_json(status, code, text)
        return body, status, headers
    own_words = exc.description != type(exc).description  # ours are Indonesian; Werkzeug's are not
    heading = HTTP_HEADINGS.get(status) or OTHER_HEADINGS.get(status // 100, OTHER_HEADINGS[5])
    page = render_template("error.html", status=status, heading=heading,
                           message=exc.description if own_words else HTTP_MESSAGES.get(status, ""))
    return page, status, headers


@bp.app_errorhandler(Exception)
def internal_error(exc: Exception) -> Reply:
    current_app.logger.exception("unhandled error")
    return _error_page(500, "Terjadi kesalahan", "internal_error", "internal_error")
