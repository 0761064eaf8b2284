"""Searching what a reader may see: the items of plans' current versions,
amendments and comments, with accents and case folded, ranked, filtered and
highlighted.

Who may see what is decided by the forums' own rule (``forums_visible_to``) and
by each document's reader (drafts); the search never widens either. A page of
results costs a fixed number of statements: the forums the reader may see, the
count, and the page (with its snippets).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import String, case, cast, column, func, literal_column, or_, select, table, text
from sqlalchemy.dialects.postgresql import REGCONFIG

from ..amendments.models import STATUSES, identifier_of
from ..config import LOCALES
from ..errors import InvalidInput
from ..extensions import db
from ..forums import services as forums
from ..forums.models import Forum
from ..plans.models import Plan
from . import text as search_text
from .models import KINDS, SearchDocument

KIND_LABELS = {
    "node": _l("Plan items"),
    "amendment": _l("Amendments"),
    "comment": _l("Comments"),
}
MAX_QUERY_LENGTH = 200
MAX_TERMS = 12
MAX_PER_PAGE = 50
DEFAULT_PER_PAGE = 20
# Around highlighted words in snippets; private-use characters, so that text in
# the documents can at worst move a highlight, never open a tag (see ``highlight``).
START, STOP = "\ue000", "\ue001"
PG_HEADLINE = (
    f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, ShortWord=2, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)

# The FTS5 table (SQLite), made by search.schema, not a model.
FTS = table("search_fts", column("rowid"), column("title"), column("body"))

_TERM = re.compile(r'"([^"]*)"|([^\s"]+)')
_WORD = re.compile(r"\w+")


def parse_query(query: str) -> list[list[str]]:
    """The phrases of a query (a word alone is a one-word phrase): quoted text
    stays together, punctuation and operators are dropped, so that nothing a
    reader types can break the database's query syntax."""
    query = search_text.normalise(query)[:MAX_QUERY_LENGTH]
    phrases = []
    for quoted, bare in _TERM.findall(query):
        words = [word[:60] for word in _WORD.findall(quoted or bare)]
        if words:
            phrases.append(words)
    return phrases[:MAX_TERMS]


def highlight(snippet: str | None) -> Markup:
    """A snippet with its matches in ``<mark>``, everything else escaped."""
    out: list[Markup] = []
    marking = False
    for piece in re.split(f"([{START}{STOP}])", snippet or ""):
        if piece == START:
            if not marking:
                out.append(Markup("<mark>"))
                marking = True
        elif piece == STOP:
            if marking:
                out.append(Markup("</mark>"))
                marking = False
        else:
            out.append(escape(piece))
    if marking:
        out.append(Markup("</mark>"))
    return Markup("").join(out)


@dataclass
class SearchFilters:
    kinds: tuple[str, ...] = ()
    forum: Forum | None = None
    plan_id: int | None = None
    group_id: int | None = None
    status: str | None = None

    def check(self) -> None:
        if any(kind not in KINDS for kind in self.kinds):
            raise InvalidInput(_("Unknown kind of result."))
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput(_("Unknown amendment status."))


@dataclass
class SearchHit:
    kind: str
    object_id: int
    forum_slug: str
    forum_name: str
    plan_id: int | None
    plan_title: str | None
    target_key: str | None
    ref: str
    label: str
    status: str | None
    language: str
    created_at: datetime | None
    title: str
    snippet: Markup
    rank: float
    plan_short_name: str | None = None

    @property
    def identifier(self) -> str:
        """The amendment found (or commented on) as named across the forum
        ("PA-2026 E2 · 4.1"); its plan's short name is read with the hit, so a
        renamed plan needs no new index."""
        return identifier_of(self.plan_short_name, self.label, self.ref) if self.label else ""


@dataclass
class SearchPage:
    query: str
    hits: list[SearchHit]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def search(
    user,
    query: str,
    filters: SearchFilters | None = None,
    *,
    page: int = 1,
    per_page: int = DEFAULT_PER_PAGE,
) -> SearchPage:
    """One page of what ``user`` may find for ``query``, best first."""
    filters = filters or SearchFilters()
    filters.check()
    per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
    phrases = parse_query(query)
    if not phrases:
        return SearchPage(query, [], 1, per_page, 0)
    visible = _forums_searched(user, filters)
    if not visible:
        return SearchPage(query, [], 1, per_page, 0)
    conditions = _conditions(user, visible, filters)
    backend = _Postgres(phrases) if db.engine.dialect.name == "postgresql" else _SQLite(phrases)
    total = db.session.scalar(backend.count(conditions))
    pages = max(1, -(-total // per_page))
    page = min(max(int(page), 1), pages)
    rows = db.session.execute(backend.page(conditions, per_page, (page - 1) * per_page)).all()
    hits = [_hit(row, visible[row.forum_id]) for row in rows]
    return SearchPage(query, hits, page, per_page, total)


def _forums_searched(user, filters: SearchFilters) -> dict:
    """The forums searched, by id: those the user may read, or the one the
    filters name if they may read it."""
    visible = {f.id: f for f in forums.forums_visible_to(user)}
    if filters.forum is not None:
        return {filters.forum.id: filters.forum} if filters.forum.id in visible else {}
    return visible


def _conditions(user, visible: dict, filters: SearchFilters) -> list:
    """What a document must be to be found: in a forum searched, readable by
    everyone there or by this reader only, and as the filters say."""
    document = SearchDocument
    reader = user.id if getattr(user, "is_authenticated", False) else -1
    conditions = [
        document.forum_id.in_(visible),
        document.reader_id.is_(None) | (document.reader_id == reader),
    ]
    kinds = ("amendment",) if filters.status else filters.kinds
    if kinds:
        conditions.append(document.kind.in_(kinds))
    if filters.status:
        conditions.append(document.status == filters.status)
    if filters.plan_id is not None:
        conditions.append(document.plan_id == filters.plan_id)
    if filters.group_id is not None:
        conditions.append(document.working_group_id == filters.group_id)
    return conditions


def _hit(row, forum) -> SearchHit:
    return SearchHit(
        kind=row.kind,
        object_id=row.object_id,
        forum_slug=forum.slug,
        forum_name=forum.name,
        plan_id=row.plan_id,
        plan_title=row.plan_title,
        target_key=row.target_key,
        ref=row.ref,
        label=row.label,
        status=row.status,
        language=row.language,
        created_at=row.created_at,
        title=row.title,
        snippet=highlight(row.snippet),
        rank=float(row.rank or 0),
        plan_short_name=row.plan_short_name,
    )


def _columns():
    document = SearchDocument
    return (
        document.id,
        document.kind,
        document.object_id,
        document.forum_id,
        document.plan_id,
        document.target_key,
        document.ref,
        document.label,
        document.status,
        document.language,
        document.created_at,
        document.title,
    )


class _SQLite:
    """FTS5: ``MATCH`` on quoted phrases, ``bm25`` (titles count four times)."""

    def __init__(self, phrases: list[list[str]]):
        self.match = " ".join('"' + " ".join(words) + '"' for words in phrases)

    def _matching(self, *columns):
        document = SearchDocument
        return (
            select(*columns)
            .select_from(FTS)
            .join(document, document.id == FTS.c.rowid)
            .where(text("search_fts MATCH :match").bindparams(match=self.match))
        )

    def count(self, conditions):
        return self._matching(func.count()).where(*conditions)

    def page(self, conditions, limit: int, offset: int):
        rank = literal_column("bm25(search_fts, 4.0, 1.0)")
        ids = (
            self._matching(SearchDocument.id)
            .where(*conditions)
            .order_by(rank, SearchDocument.id.desc())
            .limit(limit)
            .offset(offset)
        )
        snippet = literal_column(f"snippet(search_fts, -1, '{START}', '{STOP}', ' … ', 24)")
        return (
            self._matching(
                *_columns(),
                Plan.title.label("plan_title"),
                Plan.short_name.label("plan_short_name"),
                snippet.label("snippet"),
                (-rank).label("rank"),
            )
            .outerjoin(Plan, Plan.id == SearchDocument.plan_id)
            .where(SearchDocument.id.in_(ids.scalar_subquery()))
            .order_by(rank, SearchDocument.id.desc())
        )


class _Postgres:
    """``tsvector`` per content language: the query is parsed with the
    configuration of each document's language (stemming for es, pt and en)."""

    def __init__(self, phrases: list[list[str]]):
        fold = not search_text.accents_folded_by_database(db.session.connection())
        self.queries = {}
        for language in LOCALES:
            config = cast(search_text.pg_config(language), REGCONFIG)
            parts = [
                func.phraseto_tsquery(
                    config, search_text.fold_accents(" ".join(w)) if fold else " ".join(w)
                )
                for w in phrases
            ]
            self.queries[language] = (config, reduce(lambda a, b: a.op("&&")(b), parts))

    def _match(self):
        document = SearchDocument
        return or_(
            *(
                (document.language == language) & document.search_vector.op("@@")(query)
                for language, (_config, query) in self.queries.items()
            )
        )

    def _per_language(self, build):
        document = SearchDocument
        return case(
            *(
                (document.language == language, build(config, query))
                for language, (config, query) in self.queries.items()
            ),
            else_=None,
        )

    def count(self, conditions):
        return select(func.count()).select_from(SearchDocument).where(self._match(), *conditions)

    def page(self, conditions, limit: int, offset: int):
        document = SearchDocument
        rank = self._per_language(lambda _c, query: func.ts_rank_cd(document.search_vector, query))
        ranked = (
            select(document.id, rank.label("rank"))
            .where(self._match(), *conditions)
            .order_by(rank.desc(), document.id.desc())
            .limit(limit)
            .offset(offset)
            .subquery()
        )
        snippet = self._per_language(
            lambda config, query: func.ts_headline(
                config, func.translate(document.body, "<>", "  "), query, cast(PG_HEADLINE, String)
            )
        )
        return (
            select(
                *_columns(),
                Plan.title.label("plan_title"),
                Plan.short_name.label("plan_short_name"),
                snippet.label("snippet"),
                ranked.c.rank,
            )
            .join(ranked, ranked.c.id == document.id)
            .outerjoin(Plan, Plan.id == document.plan_id)
            .order_by(ranked.c.rank.desc(), document.id.desc())
        )
