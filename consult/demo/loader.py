"""The demo forum: loaded once by `consult demo` (and so by `make run`)."""

from pathlib import Path

from sqlalchemy import select

from ..accounts.services import create_user
from ..forums import services as forums
from ..forums.models import Forum
from ..plans.services import import_plan

SAMPLE_PLAN = Path(__file__).with_name("bogota-2007-coaliciones-diversidad-cultural.es.txt")

DEMO_PASSWORD = "consult-demo"  # noqa: S105 (published demo login)
DEMO_FORUM = "coaliciones-americas"

DEMO_LOGINS = [
    ("admin@consult.example", "admin"),
    ("facilitadora@consult.example", "facilitator"),
    ("miembro@consult.example", "member (es)"),
    ("membro@consult.example", "member (pt)"),
    ("member@consult.example", "member (en)"),
]

COALITIONS = [
    ("Coalición Colombiana para la Diversidad Cultural", "CO"),
    ("Coalizão Brasileira pela Diversidade Cultural", "BR"),
    ("Caribbean Coalition for Cultural Diversity", "TT"),
]

GROUPS = [
    (
        "Políticas culturales y Convención",
        "Ratificación e implementación de la Convención; políticas culturales de Estado.",
    ),
    (
        "Comunicación y fortalecimiento de las coaliciones",
        "Intercambio de experiencias, comunicación y mecanismos de funcionamiento.",
    ),
]

PEOPLE = [
    # email, name, locale, country, forum role, coalition index, group indexes
    ("admin@consult.example", "Ana Administradora", "es", "CO", "admin", 0, []),
    ("facilitadora@consult.example", "Lucía Facilitadora", "es", "CO", "facilitator", 0, [0, 1]),
    ("miembro@consult.example", "Mateo Miembro", "es", "CO", "member", 0, [0]),
    ("membro@consult.example", "Beatriz Membro", "pt", "BR", "member", 1, [0, 1]),
    ("member@consult.example", "Kevin Member", "en", "TT", "member", 2, [1]),
]


def load_demo() -> bool:
    """Create the demo forum and its people; False if it already exists."""
    if _exists():
        return False
    forum = forums.create_forum(
        None,
        DEMO_FORUM,
        "Foro permanente de las coaliciones para la diversidad cultural de América",
        description=(
            "Red de coaliciones nacionales para la diversidad cultural de las Américas. "
            "Escribimos juntos el plan de trabajo del Foro."
        ),
        default_locale="es",
        is_public=True,
    )
    coalitions = [forums.save_coalition(None, forum, name, country) for name, country in COALITIONS]
    groups = [forums.save_group(None, forum, name, description) for name, description in GROUPS]
    for email, name, locale, country, role, coalition, group_indexes in PEOPLE:
        user = create_user(
            email, name, DEMO_PASSWORD, locale=locale, country=country, is_admin=role == "admin"
        )
        membership = forums.add_member(
            None, forum, user, role=role, coalition=coalitions[coalition]
        )
        membership.is_delegate = role in ("member", "facilitator")
        for index in group_indexes:
            forums.add_group_member(
                None, groups[index], user, role="facilitator" if role == "facilitator" else "member"
            )
    import_plan(
        None,
        forum,
        SAMPLE_PLAN.read_text(encoding="utf-8"),
        title="Plan de trabajo de las coaliciones para la diversidad cultural de América (2007)",
        language="es",
        filename=SAMPLE_PLAN.name,
    )
    return True


def _exists() -> bool:
    from ..extensions import db

    return db.session.scalar(select(Forum.id).where(Forum.slug == DEMO_FORUM)) is not None
