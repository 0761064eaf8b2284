"""The API's blueprint: its URL converter, who is asking (a Bearer token, the
signed-in member with the CSRF token for writes, or an anonymous visitor),
rate limits and the headers of every answer. The handlers are in ``views``
and ``participation_views``."""

from flask import Blueprint, current_app, g, request
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from werkzeug.routing import IntegerConverter

from ..config import LOCALES
from ..extensions import csrf
from . import ratelimit, tokens
from .errors import ApiError, api_error_response
from .inputs import bad, unstorable

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
FORUM = "/forums/<slug>"
PLAN = FORUM + "/plans/<id:plan_id>"
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Ids in URLs: positive and within the database's integer (a larger one is
    simply not found, rather than an error of the database)."""

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def init_app(app) -> None:
    """Settings with defaults, the id converter, and the CSRF exemption (checked
    by hand below for requests that ride on a browser's session)."""
    app.config.setdefault("API_RATE_LIMIT", 300)  # requests a minute, per token or member
    app.config.setdefault("API_ANONYMOUS_RATE_LIMIT", 1200)  # per address: a whole venue
    app.url_map.converters["id"] = IdConverter
    csrf.exempt(bp)
    app.register_blueprint(bp)


# --- who is asking -------------------------------------------------------------


def actor():
    return g.api_user


def _bearer() -> str | None:
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _sep, secret = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return ""
    return secret.strip()


def unauthorised(message, code: str = "unauthorized", error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="consult"' + (f', error="{error}"' if error else "")
    return ApiError(401, message, code, {"WWW-Authenticate": challenge})


@bp.before_request
def _authenticate():
    if any(unstorable(value) for value in request.args.values()):
        raise bad(_("The request contains characters that cannot be stored."))
    if request.headers.get("Accept-Language"):
        g.request_locale = request.accept_languages.best_match(LOCALES)
    g.api_token = None
    secret = _bearer()
    if secret is not None:
        token = tokens.authenticate(secret)
        if token is None:
            raise unauthorised(
                _("The access token is not valid: it may have been revoked or mistyped."),
                "invalid_token",
                "invalid_token",
            )
        g.api_token, g.api_user = token, token.user
        g.request_locale = g.get("request_locale") or token.user.locale
        key, limit = f"token:{token.id}", current_app.config["API_RATE_LIMIT"]
        tokens.touch(token)
    elif current_user.is_authenticated:
        g.api_user = current_user._get_current_object()
        if request.method not in SAFE_METHODS and current_app.config.get("WTF_CSRF_ENABLED", True):
            csrf.protect()
        key, limit = f"user:{g.api_user.id}", current_app.config["API_RATE_LIMIT"]
    else:
        g.api_user = AnonymousUserMixin()
        key = f"address:{request.remote_addr or 'unknown'}"
        limit = current_app.config["API_ANONYMOUS_RATE_LIMIT"]
    verdict = ratelimit.hit(key, limit)
    g.rate = verdict
    if not verdict.allowed:
        raise ApiError(
            429,
            _("Too many requests. Please wait %(seconds)d seconds.", seconds=verdict.reset),
            headers={"Retry-After": str(verdict.reset)},
        )


@bp.after_request
def _headers(response):
    rate = g.get("rate")
    if rate is not None:
        response.headers["X-RateLimit-Limit"] = str(rate.limit)
        response.headers["X-RateLimit-Remaining"] = str(rate.remaining)
        response.headers["X-RateLimit-Reset"] = str(rate.reset)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Vary"] = "Authorization, Accept-Language, Cookie"
    return response


bp.register_error_handler(ApiError, api_error_response)


def require_write():
    """The acting user, if they may write through the API."""
    user = actor()
    if not user.is_authenticated:
        raise unauthorised(_("Sign in, or send an access token, to do this."))
    if g.api_token is not None and not g.api_token.can_write:
        raise ApiError(
            403,
            _("This access token may only read. Create one that may also write."),
            "insufficient_scope",
        )
    return user
