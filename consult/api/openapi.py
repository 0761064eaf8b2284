"""The OpenAPI 3 document of ``/api/v1/``, written out as data.

Written by hand rather than generated: the API is small, its handlers parse
their input themselves, and a generator would have to be taught the services'
errors anyway. The test suite runs schemathesis against this document to keep
it honest (tests/test_api_schema.py). Summaries are translated: the document
is in the language of the request.
"""

from flask_babel import lazy_gettext as _l

from ..amendments.models import OPERATIONS, STATUSES
from ..amendments.queries import SORTS
from ..comments.models import ALIGNMENTS, TARGET_TYPES
from ..config import LOCALES
from ..search.models import KINDS

VERSION = "1.0.0"
MAX_ID = 2**31 - 1

# --- schema helpers -----------------------------------------------------------------


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
MOMENT = {"type": "string", "format": "date-time"}


def obj(properties: dict, required=None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else list(required),
    }


def page_schema(item: str, **extra) -> dict:
    properties = {
        "items": {"type": "array", "items": ref(item)},
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer", "minimum": 1},
        "total": {"type": "integer", "minimum": 0},
        "pages": {"type": "integer", "minimum": 1},
        **extra,
    }
    return obj(properties)


PERSON = obj({"id": INTEGER, "display_name": STRING})

SCHEMAS = {
    "Error": obj(
        {
            "error": obj(
                {"code": STRING, "status": INTEGER, "message": STRING, "title": STRING},
                required=["code", "status", "message"],
            )
        }
    ),
    "Person": PERSON,
    "Me": obj(
        {
            "id": INTEGER,
            "display_name": STRING,
            "locale": {"type": "string", "enum": list(LOCALES)},
            "scope": {"type": "string", "enum": ["read", "write"]},
            "token": nullable(STRING),
        }
    ),
    "Forum": obj(
        {
            "slug": STRING,
            "name": STRING,
            "description": STRING,
            "default_locale": STRING,
            "is_public": BOOLEAN,
        }
    ),
    "ForumDetail": {
        "allOf": [
            ref("Forum"),
            obj(
                {
                    "working_groups": {
                        "type": "array",
                        "items": obj(
                            {"id": INTEGER, "slug": STRING, "name": STRING, "members": INTEGER}
                        ),
                    }
                }
            ),
        ]
    },
    "Plan": obj(
        {
            "id": INTEGER,
            "title": STRING,
            "status": STRING,
            "language": STRING,
            "current_version": nullable(INTEGER),
            "open_for_input": BOOLEAN,
            "support_threshold": INTEGER,
            "support_threshold_kind": STRING,
            "created_at": MOMENT,
        }
    ),
    "Version": obj(
        {
            "number": INTEGER,
            "title": STRING,
            "origin": STRING,
            "note": STRING,
            "language": nullable(STRING),
            "is_final": BOOLEAN,
            "section_count": INTEGER,
            "item_count": INTEGER,
            "footnote_count": INTEGER,
            "created_at": MOMENT,
        }
    ),
    "Node": obj(
        {
            "key": STRING,
            "parent_key": nullable(STRING),
            "position": INTEGER,
            "depth": INTEGER,
            "kind": STRING,
            "number": STRING,
            "ref": STRING,
            "text": STRING,
        }
    ),
    "Amendment": obj(
        {
            "id": INTEGER,
            "label": STRING,
            "identifier": STRING,
            "plan_id": INTEGER,
            "status": {"type": "string", "enum": list(STATUSES)},
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "target_key": nullable(STRING),
            "target_ref": STRING,
            "original_text": STRING,
            "proposed_text": STRING,
            "justification": STRING,
            "language": STRING,
            "author": nullable(ref("Person")),
            "author_name": STRING,
            "coalition": nullable(STRING),
            "is_compromise": BOOLEAN,
            "parent_id": nullable(INTEGER),
            "merged_into_id": nullable(INTEGER),
            "supporters_count": INTEGER,
            "created_at": MOMENT,
            "submitted_at": nullable(MOMENT),
            "decided_at": nullable(MOMENT),
        }
    ),
    "CreatedAmendment": {
        "allOf": [ref("Amendment"), obj({"notice": nullable(STRING)}, required=[])]
    },
    "NewAmendment": obj(
        {
            "operation": {"type": "string", "enum": list(OPERATIONS)},
            "target": {"type": "string", "maxLength": 60},
            "text": {"type": "string", "maxLength": 20000},
            "justification": {"type": "string", "maxLength": 20000},
            "language": {"type": "string", "enum": list(LOCALES)},
            "submit": BOOLEAN,
        },
        required=["operation"],
    ),
    "Comment": obj(
        {
            "id": INTEGER,
            "parent_id": nullable(INTEGER),
            "depth": INTEGER,
            "state": {"type": "string", "enum": ["visible", "hidden", "deleted"]},
            "author": nullable(ref("Person")),
            "alignment": {"type": "string", "enum": list(ALIGNMENTS)},
            "language": STRING,
            "body": nullable(STRING),
            "created_at": MOMENT,
            "edited_at": nullable(MOMENT),
            "replies": {"type": "array", "items": ref("Comment")},
        }
    ),
    "NewComment": obj(
        {
            "target_type": {"type": "string", "enum": list(TARGET_TYPES)},
            "target_key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
            "plan_id": nullable({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
            "body": {"type": "string", "minLength": 1, "maxLength": 20000},
            "alignment": {"type": "string", "enum": list(ALIGNMENTS)},
            "parent_id": nullable({"type": "integer", "minimum": 1, "maximum": MAX_ID}),
        },
        required=["target_type", "target_key", "body"],
    ),
    "Poll": obj(
        {
            "id": INTEGER,
            "plan_id": INTEGER,
            "title": STRING,
            "description": STRING,
            "subject": STRING,
            "scope": STRING,
            "method": STRING,
            "rule": STRING,
            "secret": BOOLEAN,
            "state": STRING,
            "amendment_id": nullable(INTEGER),
            "candidates": {"type": "array", "items": STRING},
            "opens_at": MOMENT,
            "closes_at": MOMENT,
            "closed_at": nullable(MOMENT),
            "electorate_size": INTEGER,
            "turnout": nullable({"type": "object"}),
            "results_visible": BOOLEAN,
            "results": nullable({"type": "object"}),
            "ballots_published": nullable(BOOLEAN),
            "options": nullable(
                {
                    "type": "array",
                    "items": obj(
                        {
                            "option": STRING,
                            "weight": STRING,
                            "ballots": nullable(INTEGER),
                        }
                    ),
                }
            ),
        }
    ),
    "Notification": obj(
        {
            "id": INTEGER,
            "kind": STRING,
            "forum": nullable(STRING),
            "object_type": STRING,
            "object_id": nullable(INTEGER),
            "actor": nullable(STRING),
            "data": {"type": "object"},
            "created_at": MOMENT,
            "read_at": nullable(MOMENT),
        }
    ),
    "SearchHit": obj(
        {
            "kind": {"type": "string", "enum": list(KINDS)},
            "id": INTEGER,
            "forum": STRING,
            "plan_id": nullable(INTEGER),
            "target_key": nullable(STRING),
            "ref": STRING,
            "label": STRING,
            "identifier": STRING,
            "status": nullable(STRING),
            "language": STRING,
            "snippet_html": STRING,
            "rank": {"type": "number"},
            "created_at": nullable(MOMENT),
        }
    ),
    "ForumPage": page_schema("Forum"),
    "PlanPage": page_schema("Plan"),
    "VersionPage": page_schema("Version"),
    "NodePage": page_schema("Node"),
    "AmendmentPage": page_schema("Amendment"),
    "CommentPage": page_schema(
        "Comment",
        counts={"type": "object", "additionalProperties": {"type": "integer"}},
        can_post=BOOLEAN,
        closed_reason=nullable(STRING),
    ),
    "PollPage": page_schema("Poll"),
    "NotificationPage": page_schema("Notification", unread=INTEGER),
    "SearchPage": page_schema("SearchHit"),
    "Unread": obj({"unread": INTEGER}),
}

# --- parameters and responses ---------------------------------------------------------

ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
SLUG = {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 60}


def path_param(name: str, schema: dict, description) -> dict:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "schema": schema,
        "description": description,
    }


def query_param(name: str, schema: dict, description) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


PARAMETERS = {
    "slug": path_param("slug", SLUG, _l("The forum's short name.")),
    "plan_id": path_param("plan_id", ID, _l("The plan's number.")),
    "number": path_param("number", ID, _l("The version's number.")),
    "amendment_id": path_param("amendment_id", ID, _l("The amendment's number.")),
    "poll_id": path_param("poll_id", ID, _l("The vote's number.")),
    "page": query_param("page", {"type": "integer", "minimum": 1, "maximum": 100000}, _l("Page.")),
    "per_page": query_param(
        "per_page", {"type": "integer", "minimum": 1, "maximum": 100}, _l("Results per page.")
    ),
    "idempotency": {
        "name": "Idempotency-Key",
        "in": "header",
        "required": False,
        "schema": {"type": "string", "maxLength": 64},
        "description": _l("Send the same key again to get the same result, not a second one."),
    },
}

ERROR_STATUSES = {
    "400": _l("The request is not valid; the message says why."),
    "401": _l("A token is needed, or the one sent is not valid."),
    "403": _l("Not allowed (or the token may only read)."),
    "404": _l("Not found, or not visible to you."),
    "409": _l("Not possible now (for example, the phase is closed)."),
    "429": _l("Too many requests: wait for the time in Retry-After."),
}


def _json(schema_name: str, description) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": ref(schema_name)}},
    }


def _operation(operation_id: str, summary, ok_schema: str, *, params=(), status="200", body=None):
    responses = {status: _json(ok_schema, _l("Success."))}
    for code, description in ERROR_STATUSES.items():
        responses[code] = _json("Error", description)
    operation = {
        "operationId": operation_id,
        "summary": summary,
        "parameters": [PARAMETERS[p] if isinstance(p, str) else p for p in params],
        "responses": responses,
    }
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": ref(body)}},
        }
    return operation


PAGES = ("page", "per_page")


FORUM_PATH = "/forums/{slug}"
PLAN_PATH = FORUM_PATH + "/plans/{plan_id}"


def paths() -> dict:
    """Every operation, by path, in the order the API page lists them."""
    return {
        **_forum_and_plan_paths(),
        **_amendment_paths(),
        **_comment_and_poll_paths(),
        **_notification_and_search_paths(),
    }


def _forum_and_plan_paths() -> dict:
    """Who the token belongs to, the forums, their plans and the plans' versions."""
    return {
        "/me": {"get": _operation("getMe", _l("Who the token belongs to"), "Me")},
        "/forums": {
            "get": _operation("listForums", _l("Forums you may read"), "ForumPage", params=PAGES)
        },
        FORUM_PATH: {
            "get": _operation(
                "getForum", _l("A forum and its working groups"), "ForumDetail", params=["slug"]
            )
        },
        FORUM_PATH + "/plans": {
            "get": _operation(
                "listPlans", _l("The forum's plans"), "PlanPage", params=["slug", *PAGES]
            )
        },
        PLAN_PATH: {"get": _operation("getPlan", _l("A plan"), "Plan", params=["slug", "plan_id"])},
        PLAN_PATH + "/versions": {
            "get": _operation(
                "listVersions",
                _l("The plan's versions, newest first"),
                "VersionPage",
                params=["slug", "plan_id", *PAGES],
            )
        },
        PLAN_PATH + "/versions/{number}": {
            "get": _operation(
                "getVersion", _l("A version"), "Version", params=["slug", "plan_id", "number"]
            )
        },
        PLAN_PATH + "/versions/{number}/nodes": {
            "get": _operation(
                "listNodes",
                _l("A version's document tree, in document order"),
                "NodePage",
                params=["slug", "plan_id", "number", *PAGES],
            )
        },
    }


def _amendment_paths() -> dict:
    """A plan's amendments (list, proposal), one amendment, supporting it."""
    return {
        PLAN_PATH + "/amendments": {
            "get": _operation(
                "listAmendments",
                _l("The plan's amendments (drafts: only yours)"),
                "AmendmentPage",
                params=[
                    "slug",
                    "plan_id",
                    query_param(
                        "status", {"type": "string", "enum": list(STATUSES)}, _l("Status.")
                    ),
                    query_param(
                        "target", {"type": "string", "maxLength": 60}, _l("Item (e.g. 4.7).")
                    ),
                    query_param("author", ID, _l("Author's number.")),
                    query_param("sort", {"type": "string", "enum": list(SORTS)}, _l("Order.")),
                    *PAGES,
                ],
            ),
            "post": _operation(
                "createAmendment",
                _l("Propose an amendment (scope: write)"),
                "CreatedAmendment",
                params=["slug", "plan_id", "idempotency"],
                status="201",
                body="NewAmendment",
            ),
        },
        FORUM_PATH + "/amendments/{amendment_id}": {
            "get": _operation(
                "getAmendment", _l("An amendment"), "Amendment", params=["slug", "amendment_id"]
            )
        },
        FORUM_PATH + "/amendments/{amendment_id}/support": {
            "post": _operation(
                "supportAmendment",
                _l("Support an amendment (scope: write)"),
                "Amendment",
                params=["slug", "amendment_id"],
            )
        },
    }


def _comment_and_poll_paths() -> dict:
    """A discussion (a page of it, a new comment or reply) and the forum's votes."""
    return {
        FORUM_PATH + "/comments": {
            "get": _operation(
                "listComments",
                _l("A page of a discussion, with the replies"),
                "CommentPage",
                params=[
                    "slug",
                    {
                        **query_param(
                            "target_type",
                            {"type": "string", "enum": list(TARGET_TYPES)},
                            _l("What is discussed."),
                        ),
                        "required": True,
                    },
                    {
                        **query_param(
                            "target_key",
                            {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,40}$"},
                            _l("The item's key, or the amendment's number."),
                        ),
                        "required": True,
                    },
                    query_param("plan_id", ID, _l("The plan (for items).")),
                    *PAGES,
                ],
            ),
            "post": _operation(
                "createComment",
                _l("Comment, or reply (scope: write)"),
                "Comment",
                params=["slug", "idempotency"],
                status="201",
                body="NewComment",
            ),
        },
        FORUM_PATH + "/polls": {
            "get": _operation(
                "listPolls", _l("The forum's votes"), "PollPage", params=["slug", *PAGES]
            )
        },
        FORUM_PATH + "/polls/{poll_id}": {
            "get": _operation(
                "getPoll",
                _l("A vote, with its results when they are public"),
                "Poll",
                params=["slug", "poll_id"],
            )
        },
    }


def _notification_and_search_paths() -> dict:
    """The reader's notifications, and search."""
    return {
        "/notifications": {
            "get": _operation(
                "listNotifications", _l("Your notifications"), "NotificationPage", params=PAGES
            )
        },
        "/notifications/read": {
            "post": {
                **_operation(
                    "markNotificationsRead",
                    _l("Mark notifications as read (scope: write)"),
                    "Unread",
                ),
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": obj(
                                {
                                    "ids": {
                                        "type": "array",
                                        "items": ID,
                                        "maxItems": 1000,
                                    }
                                },
                                required=[],
                            )
                        }
                    },
                },
            }
        },
        "/search": {
            "get": _operation(
                "search",
                _l("Search plan items, amendments and comments"),
                "SearchPage",
                params=[
                    {
                        **query_param(
                            "q",
                            {"type": "string", "minLength": 1, "maxLength": 200},
                            _l("Words to find."),
                        ),
                        "required": True,
                    },
                    query_param("type", {"type": "string", "enum": list(KINDS)}, _l("Kind.")),
                    query_param("forum", SLUG, _l("Forum.")),
                    query_param("plan", ID, _l("Plan.")),
                    query_param("group", ID, _l("Working group.")),
                    query_param(
                        "status", {"type": "string", "enum": list(STATUSES)}, _l("Status.")
                    ),
                    *PAGES,
                ],
            )
        },
    }


def document() -> dict:
    """The document, translated into the request's language."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Consult API",
            "version": VERSION,
            "description": _l(
                "Forums, plans, amendments, comments, votes and notifications of Consult. "
                "Send a personal access token (created on your profile page) as "
                "“Authorization: Bearer …”. Without one you read public forums only."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}, {}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": paths(),
    }


def operations() -> list[dict]:
    """(method, path, summary, scope) of every operation, for the API page."""
    rows = []
    for path, methods in paths().items():
        for method, operation in methods.items():
            rows.append(
                {
                    "method": method.upper(),
                    "path": "/api/v1" + path,
                    "summary": operation["summary"],
                    "writes": method != "get",
                }
            )
    return rows
