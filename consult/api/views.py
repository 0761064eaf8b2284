"""``/api/v1/``: thin handlers over the same services as the web pages.

Every handler parses, calls a service with the acting user, and serialises;
who may see or do what is the services' decision, never this module's. The
acting user is the owner of the Bearer token, else the signed-in member (whose
writes need the CSRF token, as forms do), else an anonymous visitor (who reads
public forums only). Tokens of the "read" scope cannot write.
"""

from flask import Blueprint, current_app, g, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import AnonymousUserMixin, current_user
from werkzeug.routing import IntegerConverter

from ..amendments import proposing, queries, supports
from ..amendments.models import OPERATIONS, STATUSES
from ..comments import services as comments
from ..comments import threads as comment_threads
from ..comments.models import ALIGNMENTS, TARGET_TYPES
from ..comments.targets import get_comment
from ..config import LOCALES
from ..extensions import csrf, db
from ..forums import groups as forum_groups
from ..forums import services as forums
from ..notifications import services as notifications
from ..plans import services as plans
from ..search import services as search
from ..search.models import KINDS
from ..votes import disclosure as votes_disclosure
from ..votes import integrity as votes_integrity
from ..votes import queries as votes_queries
from . import openapi, ratelimit, serializers, tokens
from .errors import ApiError, api_error_response

bp = Blueprint("api", __name__, url_prefix="/api/v1")

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
MAX_PAGE = 100_000
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


def _unauthorised(message, code: str = "unauthorized", error: str | None = None) -> ApiError:
    challenge = 'Bearer realm="consult"' + (f', error="{error}"' if error else "")
    return ApiError(401, message, code, {"WWW-Authenticate": challenge})


@bp.before_request
def _authenticate():
    if any(_unstorable(value) for value in request.args.values()):
        raise _bad(_("The request contains characters that cannot be stored."))
    if request.headers.get("Accept-Language"):
        g.request_locale = request.accept_languages.best_match(LOCALES)
    g.api_token = None
    secret = _bearer()
    if secret is not None:
        token = tokens.authenticate(secret)
        if token is None:
            raise _unauthorised(
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
        raise _unauthorised(_("Sign in, or send an access token, to do this."))
    if g.api_token is not None and not g.api_token.can_write:
        raise ApiError(
            403,
            _("This access token may only read. Create one that may also write."),
            "insufficient_scope",
        )
    return user


# --- reading the request -------------------------------------------------------


def _bad(message) -> ApiError:
    return ApiError(400, message, "invalid_input")


def _int_query(name: str, *, minimum: int = 1, maximum: int = MAX_PAGE) -> int | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 9:
        raise _bad(_("“%(name)s” must be a whole number.", name=name))
    number = int(value)
    if not minimum <= number <= maximum:
        raise _bad(
            _(
                "“%(name)s” must be between %(low)d and %(high)d.",
                name=name,
                low=minimum,
                high=maximum,
            )
        )
    return number


def _choice_query(name: str, allowed) -> str | None:
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if value not in allowed:
        raise _bad(_("“%(name)s” has a value that is not allowed.", name=name))
    return value


def _pages() -> tuple[int, int]:
    page = _int_query("page") or 1
    per_page = _int_query("per_page", maximum=MAX_PER_PAGE) or DEFAULT_PER_PAGE
    return page, per_page


def _slice(items: list, page: int, per_page: int) -> tuple[list, int]:
    """A page of a list a service returned whole (short lists: forums, plans…)."""
    total = len(items)
    pages = max(1, -(-total // per_page))
    page = min(page, pages)
    return items[(page - 1) * per_page : page * per_page], page


def _body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise _bad(_("Send a JSON object (Content-Type: application/json)."))
    return body


def _text_field(body: dict, name: str, *, required: bool = False, default: str = "") -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise _bad(_("“%(name)s” is required.", name=name))
        return default
    if not isinstance(value, str):
        raise _bad(_("“%(name)s” must be text.", name=name))
    if _unstorable(value):
        raise _bad(_("The request contains characters that cannot be stored."))
    return value


def _unstorable(value: str) -> bool:
    """NUL bytes (PostgreSQL refuses them) and lone surrogates (not UTF-8)."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _bool_field(body: dict, name: str, default: bool = False) -> bool:
    value = body.get(name, default)
    if not isinstance(value, bool):
        raise _bad(_("“%(name)s” must be true or false.", name=name))
    return value


def _id_field(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise _bad(_("“%(name)s” must be a positive whole number.", name=name))
    return value


def _idempotency_key() -> str | None:
    value = request.headers.get("Idempotency-Key", "").strip()
    return value[:64] or None


# --- the document -------------------------------------------------------------------


def _resolved(value):
    """The document with its (lazy) translated strings turned into text."""
    if isinstance(value, dict):
        return {key: _resolved(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_resolved(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(_resolved(openapi.document()))


# --- who and what ----------------------------------------------------------------


@bp.get("/me")
def me():
    user = actor()
    if not user.is_authenticated:
        raise _unauthorised(_("Sign in, or send an access token, to do this."))
    token = g.api_token
    return jsonify(
        {
            "id": user.id,
            "display_name": user.display_name,
            "locale": user.locale,
            "scope": token.scope if token is not None else "write",
            "token": token.name if token is not None else None,
        }
    )


@bp.get("/forums")
def forum_list():
    page, per_page = _pages()
    visible = forums.forums_visible_to(actor())
    items, page = _slice(visible, page, per_page)
    return jsonify(
        serializers.page_of([serializers.forum(f) for f in items], page, per_page, len(visible))
    )


@bp.get(FORUM)
def forum_detail(slug):
    forum = forums.get_forum_for(actor(), slug)
    data = serializers.forum(forum)
    data["working_groups"] = [
        {"id": group.id, "slug": group.slug, "name": group.name, "members": count}
        for group, count in forum_groups.list_groups(forum)
    ]
    return jsonify(data)


# --- plans and versions ------------------------------------------------------------


def _plan(slug, plan_id):
    return plans.plan_for(actor(), slug, plan_id)


def _plan_data(plan) -> dict:
    number = plan.current_version.number if plan.current_version is not None else None
    return serializers.plan(plan, number)


@bp.get(FORUM + "/plans")
def plan_list(slug):
    forum = forums.get_forum_for(actor(), slug)
    page, per_page = _pages()
    everything = plans.list_plans(forum)
    items, page = _slice(everything, page, per_page)
    return jsonify(
        serializers.page_of([_plan_data(p) for p in items], page, per_page, len(everything))
    )


@bp.get(PLAN)
def plan_detail(slug, plan_id):
    return jsonify(_plan_data(_plan(slug, plan_id)))


@bp.get(PLAN + "/versions")
def version_list(slug, plan_id):
    plan = _plan(slug, plan_id)
    page, per_page = _pages()
    everything = plans.versions(plan)
    items, page = _slice(everything, page, per_page)
    return jsonify(
        serializers.page_of(
            [serializers.version(v) for v in items], page, per_page, len(everything)
        )
    )


@bp.get(PLAN + "/versions/<id:number>")
def version_detail(slug, plan_id, number):
    version = plans.get_version(_plan(slug, plan_id), number)
    return jsonify(serializers.version(version))


@bp.get(PLAN + "/versions/<id:number>/nodes")
def version_nodes(slug, plan_id, number):
    """The version's document tree in document order (``parent_key`` and
    ``depth`` give the tree), a page at a time."""
    version = plans.get_version(_plan(slug, plan_id), number)
    page, per_page = _pages()
    everything = plans.version_nodes(version)
    items, page = _slice(everything, page, per_page)
    return jsonify(
        serializers.page_of([serializers.node(n) for n in items], page, per_page, len(everything))
    )


# --- amendments ---------------------------------------------------------------------


@bp.route(PLAN + "/amendments", methods=["GET", "POST"])
def amendments_of_plan(slug, plan_id):
    """One route for both methods: the forum is found (or not) the same way."""
    plan = _plan(slug, plan_id)
    if request.method == "POST":
        return _amendment_create(plan)
    return _amendment_list(plan)


def _amendment_list(plan):
    page, per_page = _pages()
    target = request.args.get("target") or None
    target_keys = None
    if target is not None:
        version = plans.get_version(plan)
        target_keys = [plans.find_node(version, target[:60]).key]
    result = queries.list_amendments(
        actor(),
        plan,
        status=_choice_query("status", STATUSES),
        target_keys=target_keys,
        author_id=_int_query("author", maximum=2**31 - 1),
        sort=_choice_query("sort", queries.SORTS) or "newest",
        page=page,
        per_page=per_page,
    )
    items = [serializers.amendment(a, result.supports.get(a.id, 0)) for a in result.items]
    return jsonify(serializers.page_of(items, result.page, result.per_page, result.total))


def _amendment_data(amendment) -> dict:
    return serializers.amendment(amendment, queries.support_tally(amendment)["members"])


@bp.get(FORUM + "/amendments/<id:amendment_id>")
def amendment_detail(slug, amendment_id):
    return jsonify(_amendment_data(queries.get_amendment(actor(), slug, amendment_id)))


def _amendment_create(plan):
    user = require_write()
    body = _body()
    operation = _text_field(body, "operation", required=True)
    if operation not in OPERATIONS:
        raise _bad(_("Unknown kind of amendment."))
    language = _text_field(body, "language") or None
    if language is not None and language not in LOCALES:
        raise _bad(_("Unknown language."))
    amendment = proposing.propose(
        user,
        plan,
        target=_text_field(body, "target")[:60] or None,
        operation=operation,
        text=_text_field(body, "text"),
        justification=_text_field(body, "justification"),
        language=language,
        submit=_bool_field(body, "submit", True),
        form_token=_idempotency_key(),
    )
    db.session.commit()
    data = _amendment_data(amendment)
    data["notice"] = amendment.submission_refused
    response = jsonify(data)
    response.status_code = 201
    response.headers["Location"] = url_for(
        "api.amendment_detail", slug=plan.forum.slug, amendment_id=amendment.id
    )
    return response


@bp.post(FORUM + "/amendments/<id:amendment_id>/support")
def amendment_support(slug, amendment_id):
    amendment = queries.get_amendment(actor(), slug, amendment_id)
    user = require_write()
    supports.support(user, amendment)
    db.session.commit()
    return jsonify(_amendment_data(amendment))


# --- comments -----------------------------------------------------------------------


def _comment_plan(forum, plan_id: int | None):
    return plans.get_plan(forum, plan_id) if plan_id is not None else None


@bp.route(FORUM + "/comments", methods=["GET", "POST"])
def comments_of_forum(slug):
    forum = forums.get_forum_for(actor(), slug)
    if request.method == "POST":
        return _comment_create(forum)
    return _comment_list(forum)


def _comment_list(forum):
    """One page of a thread: top-level comments, oldest first, with their replies."""
    target_type = _choice_query("target_type", TARGET_TYPES)
    target_key = request.args.get("target_key", "")
    if target_type is None or not target_key:
        raise _bad(_("Say which discussion: “target_type” and “target_key”."))
    plan = _comment_plan(forum, _int_query("plan_id", maximum=2**31 - 1))
    page, per_page = _pages()
    thread = comment_threads.thread(
        actor(), forum, plan, target_type, target_key[:40], page=page, per_page=per_page
    )
    items = [serializers.comment_entry(entry) for entry in thread.entries]
    data = serializers.page_of(items, thread.page, thread.per_page, thread.total)
    data["counts"] = thread.counts
    data["can_post"] = thread.can_post
    data["closed_reason"] = thread.closed_reason
    return jsonify(data)


def _comment_create(forum):
    user = require_write()
    body = _body()
    target_type = _text_field(body, "target_type", required=True)
    if target_type not in TARGET_TYPES:
        raise _bad(_("Unknown kind of discussion."))
    plan = _comment_plan(forum, _id_field(body, "plan_id"))
    alignment = _text_field(body, "alignment", default="neutral")
    if alignment not in ALIGNMENTS:
        raise _bad(_("Choose in favour, against or neutral."))
    parent_id = _id_field(body, "parent_id")
    parent = get_comment(forum, parent_id) if parent_id is not None else None
    comment = comments.post_comment(
        user,
        forum,
        plan=plan,
        target_type=target_type,
        target_key=_text_field(body, "target_key", required=True)[:40],
        body=_text_field(body, "body", required=True),
        alignment=alignment,
        parent=parent,
        form_token=_idempotency_key(),
    )
    db.session.commit()
    response = jsonify(serializers.comment_created(comment))
    response.status_code = 201
    return response


# --- polls ---------------------------------------------------------------------------


def _poll_data(poll) -> dict:
    user = actor()
    visible = votes_queries.results_visible(user, poll)
    results = None
    if visible:
        if poll.state == "closed":
            results = votes_queries.stored_result(poll)
        else:
            results = votes_integrity.live_result(poll)
    turnout = votes_queries.turnout(poll) if poll.state in ("open", "closed") else None
    # Once closed: the total of each option, per ballot only what singles nobody out.
    shown = votes_disclosure.disclosure(poll) if poll.state == "closed" else None
    return serializers.poll(
        poll, results=results, visible=visible, turnout=turnout, disclosure=shown
    )


@bp.get(FORUM + "/polls")
def poll_list(slug):
    forum = forums.get_forum_for(actor(), slug)
    page, per_page = _pages()
    everything = votes_queries.list_polls(forum)
    items, page = _slice(everything, page, per_page)
    data = [
        serializers.poll(
            p, results=None, visible=votes_queries.results_visible(actor(), p), turnout=None
        )
        for p in items
    ]
    return jsonify(serializers.page_of(data, page, per_page, len(everything)))


@bp.get(FORUM + "/polls/<id:poll_id>")
def poll_detail(slug, poll_id):
    return jsonify(_poll_data(votes_queries.get_poll(actor(), slug, poll_id)))


# --- notifications --------------------------------------------------------------------


def _signed_in():
    user = actor()
    if not user.is_authenticated:
        raise _unauthorised(_("Sign in, or send an access token, to do this."))
    return user


@bp.get("/notifications")
def notification_list():
    user = _signed_in()
    page, per_page = _pages()
    result = notifications.for_user(user, page=page, per_page=per_page)
    items = [serializers.notification(n) for n in result.items]
    data = serializers.page_of(items, result.page, result.per_page, result.total)
    data["unread"] = notifications.unread_count(user)
    return jsonify(data)


@bp.post("/notifications/read")
def notification_read():
    user = require_write()
    body = request.get_json(silent=True)
    ids = None
    if isinstance(body, dict) and body.get("ids") is not None:
        ids = body["ids"]
        if not isinstance(ids, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids
        ):
            raise _bad(_("“ids” must be a list of whole numbers."))
        ids = ids[:1000]
    notifications.mark_read(user, ids)
    db.session.commit()
    return jsonify({"unread": notifications.unread_count(user)})


# --- search ----------------------------------------------------------------------------


@bp.get("/search")
def search_documents():
    query = request.args.get("q", "")
    if not query.strip():
        raise _bad(_("“%(name)s” is required.", name="q"))
    forum_slug = request.args.get("forum")
    kind = _choice_query("type", KINDS)
    filters = search.SearchFilters(
        kinds=(kind,) if kind else (),
        forum=forums.get_forum_for(actor(), forum_slug) if forum_slug else None,
        plan_id=_int_query("plan", maximum=2**31 - 1),
        group_id=_int_query("group", maximum=2**31 - 1),
        status=_choice_query("status", STATUSES),
    )
    page, per_page = _pages()
    result = search.search(
        actor(), query, filters, page=page, per_page=min(per_page, search.MAX_PER_PAGE)
    )
    items = [serializers.search_hit(hit) for hit in result.hits]
    return jsonify(serializers.page_of(items, result.page, result.per_page, result.total))
