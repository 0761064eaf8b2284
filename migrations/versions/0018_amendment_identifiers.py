"""amendment identifiers across the forum: a plan's short name

Revision ID: 0018_amendment_identifiers
Revises: 0017_notification_preferences
Create Date: 2026-12-03 18:30:00.000000

"""

import re
import unicodedata

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_amendment_identifiers"
down_revision = "0017_notification_preferences"
branch_labels = None
depends_on = None

UNIQUE = "uq_plans_forum_id_short_name"
MAX = 16
# A copy of consult/plans/short_names.suggest as it was when this revision was
# written: what the migration gives existing plans never changes with the app.
_WORD = re.compile(r"[A-Za-z0-9]+")
_MINOR_WORDS = frozenset(
    (
        *("a", "al", "and", "com", "con", "da", "das", "de", "del", "do", "dos", "e"),
        *("el", "em", "en", "for", "in", "la", "las", "los", "na", "nas", "no", "nos"),
        *("o", "of", "on", "os", "para", "por", "the", "to", "um", "uma", "un", "una", "y"),
    )
)


def _suggest(title):
    decomposed = unicodedata.normalize("NFKD", title or "")
    words = _WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c)))
    named = [w for w in words if w[0].isalpha() and w.casefold() not in _MINOR_WORDS]
    initials = "".join(w[0] for w in named)[:4].upper()
    numbers = [w for w in words if w.isdigit()]
    number = next((n for n in numbers if len(n) == 4), numbers[0] if numbers else "")[:6]
    if len(initials) < 2 and not number:
        initials = (named[0][:4] if named else "PLAN").upper()
    name = "-".join(part for part in (initials, number) if part)
    return name if len(name) >= 2 else "PLAN"


def _first_free(wanted, taken):
    number = 2
    candidate = wanted
    while candidate in taken:
        suffix = f"-{number}"
        candidate = wanted[: MAX - len(suffix)].rstrip("-") + suffix
        number += 1
    return candidate


def upgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("short_name", sa.String(length=MAX), nullable=True))
    # Every existing plan gets the name suggested by its title, in the order the
    # plans were made (the older plan keeps the plain name): deterministic, and
    # unique within each forum.
    connection = op.get_bind()
    plans = sa.table(
        "plans",
        sa.column("id", sa.Integer),
        sa.column("forum_id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("short_name", sa.String),
    )
    taken = {}
    names = []
    rows = connection.execute(
        sa.select(plans.c.id, plans.c.forum_id, plans.c.title).order_by(plans.c.id)
    )
    for plan_id, forum_id, title in rows:
        in_forum = taken.setdefault(forum_id, set())
        name = _first_free(_suggest(title), in_forum)
        in_forum.add(name)
        names.append({"plan_id": plan_id, "name": name})
    if names:
        connection.execute(
            plans.update()
            .where(plans.c.id == sa.bindparam("plan_id"))
            .values(short_name=sa.bindparam("name")),
            names,
        )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.alter_column("short_name", existing_type=sa.String(length=MAX), nullable=False)
        batch_op.create_unique_constraint(UNIQUE, ["forum_id", "short_name"])


def downgrade():
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_constraint(UNIQUE, type_="unique")
        batch_op.drop_column("short_name")
