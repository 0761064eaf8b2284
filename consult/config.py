"""Settings, read from the environment with defaults that work on a fresh machine."""

import os
import secrets
from datetime import timedelta
from pathlib import Path

from .paths import instance_dir

LOCALES = ("es", "en", "pt")
DEFAULT_LOCALE = "es"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _secret_key(folder: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the usual short forms."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_settings(overrides: dict | None = None) -> dict:
    folder = Path(os.environ.get("CONSULT_INSTANCE", instance_dir()))
    folder.mkdir(parents=True, exist_ok=True)
    production = os.environ.get("CONSULT_ENV", "development") == "production"
    settings = {
        **_storage(folder, production),
        **_jobs(),
        **_mail(production),
        **_web(production),
        **_sign_in(),
        **_notifications(),
    }
    if overrides:
        settings.update(overrides)
    settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        settings["SQLALCHEMY_DATABASE_URI"]
    )
    if not (overrides and "SQLALCHEMY_ENGINE_OPTIONS" in overrides):
        settings["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(
            settings["SQLALCHEMY_DATABASE_URI"], settings["SQLALCHEMY_ENGINE_OPTIONS"]
        )
    return settings


def _storage(folder: Path, production: bool) -> dict:
    """Where things are kept: the instance folder, the database, Redis."""
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder / 'consult.db'}"
    return {
        "INSTANCE_DIR": str(folder),
        "PRODUCTION": production,
        "DEBUG": False,
        "SECRET_KEY": _secret_key(folder),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
    }


def _engine_options(database_url: str, default: dict) -> dict:
    if database_url.startswith("sqlite"):
        return {"connect_args": {"timeout": 15}}
    if database_url.startswith("postgresql"):
        # A database host that stops answering fails a request (503) in
        # seconds, instead of holding a worker until the system gives up.
        return {"connect_args": {"connect_timeout": 5}, "pool_pre_ping": True}
    return default


def _jobs() -> dict:
    return {
        # PDF, DOCX and ODT of versions with at least this many nodes are made
        # by a background job (a 2,000-item PDF takes seconds).
        "PLAN_EXPORT_JOB_MIN_NODES": int(os.environ.get("PLAN_EXPORT_JOB_MIN_NODES", "400")),
        # A PDF costs about 2.5 ms of CPU per printed line (WeasyPrint): from this
        # many lines (about 14 pages, over a second) it is made by the job too.
        "PLAN_EXPORT_PDF_JOB_MIN_LINES": int(
            os.environ.get("PLAN_EXPORT_PDF_JOB_MIN_LINES", "600")
        ),
        # "rq": through Redis and a worker; "inline": run in the web process
        # (the last resort when no Redis is configured or can be started).
        "JOBS_MODE": os.environ.get("JOBS_MODE")
        or ("rq" if os.environ.get("REDIS_URL") else "inline"),
    }


def _mail(production: bool) -> dict:
    return {
        "MAIL_BACKEND": os.environ.get("MAIL_BACKEND", "smtp" if production else "log"),
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", "localhost"),
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "20")),
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER", "Consult <consult@localhost>"),
        # Links in emails are built from this, never from the request's Host header.
        "BASE_URL": os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
    }


def _web(production: bool) -> dict:
    """The web side: URLs, languages, the session cookie, forms and uploads."""
    return {
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "BABEL_DEFAULT_LOCALE": DEFAULT_LOCALE,
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", production),
        "SESSION_COOKIE_NAME": "consult_session",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        # The CSRF token lives as long as the session, so a member who spends two
        # hours writing an amendment does not lose it to an expired token.
        "WTF_CSRF_TIME_LIMIT": None,
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_CONTENT_LENGTH", str(8 * 1024 * 1024))),
        # How many reverse proxies in front of the app add X-Forwarded-For: the
        # client of a sign-in is the address the outermost one of them saw.
        "TRUSTED_PROXIES": int(os.environ.get("TRUSTED_PROXIES", "0")),
    }


def _sign_in() -> dict:
    return {
        "INVITATION_MAX_AGE": timedelta(days=14),
        "PASSWORD_RESET_MAX_AGE": timedelta(hours=2),
        # Sign-in throttling (consult/accounts/throttle.py). Per (email, client):
        # a few free failures, then a delay that doubles from SIGN_IN_DELAY up to
        # SIGN_IN_MAX_DELAY. Per account, across all clients: a budget of failures
        # per window, past which only a known device or an emailed link gets in.
        "SIGN_IN_FREE_FAILURES": 5,
        "SIGN_IN_DELAY": timedelta(seconds=30),
        "SIGN_IN_MAX_DELAY": timedelta(minutes=15),
        "SIGN_IN_FAILURE_WINDOW": timedelta(hours=1),
        "SIGN_IN_ACCOUNT_BUDGET": 100,
        "KNOWN_DEVICE_MAX_AGE": timedelta(days=365),
        # Reset links asked for per email address, and per client across addresses.
        "RESET_REQUESTS_PER_HOUR": 5,
        "RESET_REQUESTS_PER_CLIENT_PER_HOUR": 50,
    }


def _notifications() -> dict:
    return {
        # Unsubscribe links in notification emails (one click, RFC 8058).
        "UNSUBSCRIBE_MAX_AGE": timedelta(days=365),
        # Notification emails: how many one job renders and sends over one SMTP connection.
        "MAIL_BATCH_SIZE": int(os.environ.get("MAIL_BATCH_SIZE", "500")),
        # Digests go out at this hour (and, weekly, on this day, 0 = Monday) in this zone.
        "DIGEST_TIMEZONE": os.environ.get("DIGEST_TIMEZONE", "UTC"),
        "DIGEST_HOUR": int(os.environ.get("DIGEST_HOUR", "7")),
        "DIGEST_WEEKDAY": int(os.environ.get("DIGEST_WEEKDAY", "0")),
    }
