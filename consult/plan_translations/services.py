"""The plan's text in the forum's other languages.

A translation belongs to a node's stable key, not to a version, so it follows
the item through consolidated drafts. It remembers the source text it
translates: once a version changes that text the translation is *outdated* —
kept, shown with the difference of the source since, and not used for reading
until a translator updates it. Readers get a current translation in their
language, or the source text marked with its language. Offline translators'
PO files are in :mod:`.po_files`.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import case, func, select

from .. import pagecache
from ..accounts.services import clean_text
from ..audit.services import record
from ..config import LOCALES
from ..database import utcnow
from ..errors import InvalidInput
from ..extensions import db
from ..forums.permissions import require
from ..plans import services as plans
from ..plans.models import NodeTranslation, Plan, PlanNode, PlanVersion, TranslationStatus
from . import permissions

MAX_TEXT = 20_000


def other_languages(version: PlanVersion) -> list[str]:
    return [language for language in LOCALES if language != version.language]


# --- reading -------------------------------------------------------------------------


def translations_of(plan: Plan, language: str) -> dict[str, NodeTranslation]:
    """Every translation of the plan into ``language``, by node key (one query)."""
    rows = db.session.scalars(
        select(NodeTranslation).where(
            NodeTranslation.plan_id == plan.id, NodeTranslation.language == language
        )
    )
    return {row.node_key: row for row in rows}


@dataclass
class NodeState:
    node: PlanNode
    translation: NodeTranslation | None

    @property
    def status(self) -> TranslationStatus:
        """Current, outdated (the source changed since) or missing."""
        if self.translation is None:
            return TranslationStatus.MISSING
        if self.translation.source_text == self.node.text:
            return TranslationStatus.CURRENT
        return TranslationStatus.OUTDATED


def states(plan: Plan, nodes: list[PlanNode], language: str) -> list[NodeState]:
    found = translations_of(plan, language)
    return [NodeState(node, found.get(node.key)) for node in nodes]


def reading_texts(plan: Plan, version: PlanVersion, nodes, language) -> dict[str, str]:
    """What a reader of ``language`` sees instead of the source: the current
    translations, by key (nothing when ``language`` is the version's own)."""
    if language == version.language or language not in LOCALES:
        return {}
    return {
        state.node.key: state.translation.text
        for state in states(plan, nodes, language)
        if state.status == "current"
    }


@dataclass
class Completeness:
    language: str
    current: int
    outdated: int
    total: int

    @property
    def share(self) -> float:
        return self.current / self.total if self.total else 1.0

    @property
    def percent(self) -> int:
        """Rounded down, so 100 means every node is translated."""
        return int(self.share * 100)


def completeness(plan: Plan, version: PlanVersion, nodes=None) -> dict[str, Completeness]:
    """Per other language: how many of the version's nodes have a current
    translation. Counted in the database (one grouped query), so a long plan's
    texts are not read for it."""
    total = len(nodes) if nodes is not None else version_size(version)
    figures = {lang: Completeness(lang, 0, 0, total) for lang in other_languages(version)}
    current = case((NodeTranslation.source_text == PlanNode.text, 1), else_=0)
    rows = db.session.execute(
        select(NodeTranslation.language, func.sum(current), func.count())
        .join(
            PlanNode,
            (PlanNode.version_id == version.id) & (PlanNode.key == NodeTranslation.node_key),
        )
        .where(NodeTranslation.plan_id == plan.id)
        .group_by(NodeTranslation.language)
    )
    for language, up_to_date, translated in rows:
        if language in figures:
            figures[language].current = int(up_to_date or 0)
            figures[language].outdated = int(translated) - int(up_to_date or 0)
    return figures


def stamps(plan: Plan) -> dict[str, list]:
    """Per language, how many translations of the plan there are and when the
    last one changed (one grouped query): what kept renderings of the plan in
    that language depend on."""
    rows = db.session.execute(
        select(NodeTranslation.language, func.count(), func.max(NodeTranslation.updated_at))
        .where(NodeTranslation.plan_id == plan.id)
        .group_by(NodeTranslation.language)
    )
    return {language: [count, latest] for language, count, latest in rows}


def kept_completeness(
    plan: Plan, version: PlanVersion, plan_stamps: dict[str, list]
) -> dict[str, Completeness]:
    """``completeness``, kept in the page cache until a translation of the plan
    changes (``plan_stamps`` from ``stamps``): counting compares every
    translation with its node's text, which a large plan should not do on
    every view of its page."""
    codec = pagecache.Codec(
        dump=lambda figures: json.dumps(
            [[f.language, f.current, f.outdated, f.total] for f in figures.values()]
        ),
        load=lambda content: {row[0]: Completeness(*row) for row in json.loads(content)},
        size=lambda figures: 64 * len(figures) + 1,
    )
    key = pagecache.make_key(
        "completeness", version.id, version.created_at, sorted(plan_stamps.items())
    )
    return pagecache.fetch(
        key,
        f"completeness:{version.id}",
        lambda: completeness(plan, version),
        codec,
    )


def version_size(version: PlanVersion) -> int:
    return db.session.scalar(
        select(func.count()).select_from(PlanNode).where(PlanNode.version_id == version.id)
    )


def last_change(plan: Plan, language: str) -> datetime | None:
    return db.session.scalar(
        select(func.max(NodeTranslation.updated_at)).where(
            NodeTranslation.plan_id == plan.id, NodeTranslation.language == language
        )
    )


@dataclass
class ReadingNode:
    """A node as a reader of another language gets it (for documents): the
    translation, or the source marked with its language."""

    key: str
    parent_key: str | None
    position: int
    depth: int
    kind: str
    number: str
    ref: str
    text: str
    translated: bool

    @property
    def is_heading(self) -> bool:
        return self.kind == "section"


def reading_nodes(plan: Plan, version: PlanVersion, nodes, language: str) -> list[ReadingNode]:
    texts = reading_texts(plan, version, nodes, language)
    marker = f"[{version.language}] "
    return [
        ReadingNode(
            node.key,
            node.parent_key,
            node.position,
            node.depth,
            node.kind,
            node.number,
            node.ref,
            texts[node.key] if node.key in texts else marker + node.text,
            node.key in texts,
        )
        for node in nodes
    ]


# --- writing ---------------------------------------------------------------------------


@dataclass
class SaveResult:
    saved: int = 0
    removed: int = 0
    # Keys whose source text changed while the translator worked: not saved.
    stale: list[str] = field(default_factory=list)


def store_translation(plan: Plan, language: str, node: PlanNode, text: str, actor, existing):
    """Add the translation of ``node``, or update ``existing``: a translation
    of the node's current text."""
    if existing is None:
        db.session.add(
            NodeTranslation(
                plan_id=plan.id,
                node_key=node.key,
                language=language,
                text=text,
                source_text=node.text,
                translator_id=getattr(actor, "id", None),
                updated_at=utcnow(),
            )
        )
    else:
        existing.text, existing.source_text = text, node.text
        existing.translator_id, existing.updated_at = getattr(actor, "id", None), utcnow()


def save(actor, plan: Plan, language: str, entries: dict[str, tuple[str, str]]) -> SaveResult:
    """Save translations of the current version: ``entries`` maps a node key to
    (translation, the source text the translator saw). An empty translation
    removes it. A source that changed meanwhile is not saved (``stale``)."""
    require(permissions.translate_refusal(actor, plan, language))
    version = plans.get_version(plan)
    nodes = {node.key: node for node in plans.version_nodes(version)}
    existing = translations_of(plan, language)
    result = SaveResult()
    for key, (text, seen_source) in entries.items():
        node = nodes.get(key)
        if node is None:
            continue
        text = clean_text(text)
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                _("The text is too long (at most %(count)d characters).", count=MAX_TEXT)
            )
        if seen_source != node.text:
            result.stale.append(key)
            continue
        current = existing.get(key)
        if not text:
            if current is not None:
                db.session.delete(current)
                result.removed += 1
            continue
        if current is not None and current.text == text and current.source_text == node.text:
            continue
        store_translation(plan, language, node, text, actor, current)
        result.saved += 1
    if result.saved or result.removed:
        record(
            "plan.translated",
            plan,
            actor=actor,
            forum=plan.forum,
            language=language,
            saved=result.saved,
            removed=result.removed,
        )
    return result
