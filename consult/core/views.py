import logging

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from redis.exceptions import RedisError

from .. import jobs
from ..accounts.services import set_locale
from ..errors import RETRY_AFTER
from ..extensions import db
from ..forums.services import forums_visible_to
from ..i18n import valid_locale
from ..urls import safe_next

bp = Blueprint("core", __name__)
log = logging.getLogger(__name__)


@bp.get("/")
def index():
    return render_template("core/index.html", forums=forums_visible_to(current_user))


@bp.post("/language")
def switch_language():
    """Keep the chosen language in the session, and as the member's preference."""
    form = FlaskForm()
    locale = valid_locale(request.form.get("locale"))
    if form.validate_on_submit() and locale:
        session["locale"] = locale
        if current_user.is_authenticated:
            set_locale(current_user, locale)
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("core.index"))


@bp.get("/healthz")
def health():
    """Liveness: the process answers. Reads nothing (the benchmark's baseline,
    and a restart of the app never helps when the database is down)."""
    return {"status": "ok"}


@bp.get("/healthz/ready")
def ready():
    """Readiness: the database answers SELECT 1 and Redis (when configured)
    answers PING; 503 naming what is down otherwise."""
    checks = health_checks()
    down = [name for name, state in checks.items() if state == "down"]
    body = {"status": "unavailable" if down else "ok", "checks": checks, "down": down}
    if not down:
        return body
    return body, 503, {"Retry-After": str(RETRY_AFTER), "Cache-Control": "no-store"}


def health_checks() -> dict[str, str]:
    """The database's and Redis's state: "ok", "down" or "not configured"."""
    checks = {}
    try:
        # On the driver's own connection: SQLAlchemy would begin a transaction,
        # which on SQLite takes the write lock (BEGIN IMMEDIATE) and waits for it.
        connection = db.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.close()
        finally:
            connection.close()
        checks["database"] = "ok"
    except Exception as error:  # whatever stops SELECT 1 means "not ready"
        log.warning("Readiness: the database is down (%s)", error)
        checks["database"] = "down"
    if not current_app.config.get("REDIS_URL"):
        checks["redis"] = "not configured"
    else:
        try:
            jobs.redis_connection().ping()
            checks["redis"] = "ok"
        except RedisError as error:
            log.warning("Readiness: Redis is down (%s)", error)
            checks["redis"] = "down"
    return checks
