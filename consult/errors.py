"""Domain errors raised by services, and the error pages that show them.

Services never touch the request; they raise these, and the handlers here turn
them into a translated page (or JSON) with the right status.
"""

from flask import Flask, current_app, g, jsonify, make_response, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db


class ServiceError(Exception):
    status = 400
    default_message = _l("The request could not be processed.")

    def __init__(self, message=None):
        super().__init__(message or self.default_message)
        self.message = message or self.default_message


class NotFound(ServiceError):
    status = 404
    default_message = _l("This page does not exist, or you may not see it.")


class PermissionDenied(ServiceError):
    status = 403
    default_message = _l("You are not allowed to do this.")


class InvalidInput(ServiceError):
    status = 400
    default_message = _l("Some of the information given is not valid.")


class Conflict(ServiceError):
    status = 409
    default_message = _l("This changed in the meantime. Please reload and try again.")


class TooManyAttempts(ServiceError):
    status = 429
    default_message = _l("Too many attempts. Please wait a while and try again.")


_TITLES = {
    400: _l("Bad request"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("Action not allowed"),
    409: _l("Conflict"),
    413: _l("Too much data"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong"),
    503: _l("Temporarily unavailable"),
}

_MESSAGES = {
    400: _l("The request could not be processed."),
    403: _l("You are not allowed to do this."),
    404: _l("This page does not exist, or you may not see it."),
    405: _l("This address does not accept this kind of request."),
    409: _l("This changed in the meantime. Please reload and try again."),
    413: _l("What you sent is too large. Nothing was saved; your text is still in the form."),
    429: _l("Too many attempts. Please wait a while and try again."),
    500: _l("An unexpected error happened. It has been logged; please try again later."),
    503: _l("The service is busy or under maintenance. Please try again in a moment."),
}


# Machine-readable names of the statuses, for JSON error objects (the API's too).
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


# Seconds a client is asked to wait before trying again after a 503.
RETRY_AFTER = 5


def _wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def rollback_quietly() -> None:
    """End the failed request's transaction before answering: a statement that
    failed leaves it aborted (PostgreSQL refuses every later statement), and a
    database that is down cannot be rolled back either; neither may stop the
    error page."""
    try:
        db.session.rollback()
    except Exception:  # the error being answered matters, not this one
        current_app.logger.warning("Could not roll back after an error", exc_info=True)


def error_response(status: int, message=None):
    """The error page (or JSON object) for ``status``. It never reads the
    database, which may be what failed: the language comes from the session or
    the browser (``g.error_page``, see i18n.select_locale), and the page is
    rendered without the context processors that load the signed-in user."""
    g.error_page = True
    message = str(message or _MESSAGES.get(status, _MESSAGES[500]))
    title = str(_TITLES.get(status, _TITLES[500]))
    if _wants_json():
        response = make_response(
            jsonify(
                error={
                    "code": ERROR_CODES.get(status, "error"),
                    "status": status,
                    "title": title,
                    "message": message,
                }
            ),
            status,
        )
    else:
        try:
            template = current_app.jinja_env.get_template("errors/error.html")
            body = template.render(status=status, title=title, message=message)
        except Exception:
            current_app.logger.exception("Could not render the error page")
            title, message = escape(title), escape(message)
            body = f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{message}</p>"
        response = make_response(body, status)
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def register_error_handlers(app: Flask) -> None:
    # Every handler rolls back first (see rollback_quietly).
    @app.errorhandler(ServiceError)
    def _service_error(error: ServiceError):
        rollback_quietly()
        return error_response(error.status, error.message)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError):
        rollback_quietly()
        return error_response(
            400,
            _l("The form had expired or was sent from another page. Please send it again."),
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        rollback_quietly()
        return error_response(error.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        rollback_quietly()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)


def register_database_error_handler(app: Flask) -> None:
    """A database that is down or locked answers 503 (retryable), not 500."""

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        rollback_quietly()
        app.logger.warning("Database unavailable: %s", error)
        return error_response(503)
