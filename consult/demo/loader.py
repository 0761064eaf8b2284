"""The demo forum: loaded once by `consult demo` (and so by `make run`)."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from ..accounts.services import create_user
from ..amendments import lifecycle, plan_settings, proposing, supports
from ..comments import services as comments
from ..database import utcnow
from ..extensions import db
from ..forums import groups as forum_groups
from ..forums import memberships as forum_members
from ..forums import services as forums
from ..forums.models import Forum
from ..plan_translations import services as translations
from ..plans.services import import_plan, version_nodes
from ..votes import lifecycle as votes_lifecycle
from ..votes import setup as votes_setup
from .assembly import add_assembly_session

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
    groups = [
        forum_groups.save_group(None, forum, name, description) for name, description in GROUPS
    ]
    people = {}
    for email, name, locale, country, role, coalition, group_indexes in PEOPLE:
        user = create_user(
            email, name, DEMO_PASSWORD, locale=locale, country=country, is_admin=role == "admin"
        )
        membership = forum_members.add_member(
            None, forum, user, role=role, coalition=coalitions[coalition]
        )
        membership.is_delegate = role in ("member", "facilitator")
        membership.is_translator = email.startswith("membro@")
        people[email.split("@")[0]] = user
        for index in group_indexes:
            forum_groups.add_group_member(
                None, groups[index], user, role="facilitator" if role == "facilitator" else "member"
            )
    plan = import_plan(
        None,
        forum,
        SAMPLE_PLAN.read_text(encoding="utf-8"),
        title="Plan de trabajo de las coaliciones para la diversidad cultural de América (2007)",
        language="es",
        filename=SAMPLE_PLAN.name,
    )
    _open_consultation(plan, groups, people)
    _translate_a_little(plan, people["membro"])
    add_assembly_session(plan, people)
    return True


def _open_consultation(plan, groups, people) -> None:
    """Open the demo plan, give each section to a group, and start the discussion."""
    plan.open_for_input = True
    nodes = {node.ref: node for node in version_nodes(plan.current_version)}
    for ref, group in (("1", groups[0]), ("2", groups[1])):
        plan_settings.assign_section(None, plan, nodes[ref].key, group.id)
    mateo, beatriz, kevin = people["miembro"], people["membro"], people["member"]
    first = proposing.propose(
        mateo,
        plan,
        target=nodes["1.1"].key,
        operation="replace",
        text="Ratificar la Convención y sus directrices operativas si aún no ha sido el caso",
        justification="Las directrices operativas orientan la aplicación de la Convención.",
        submit=True,
    )
    supports.support(beatriz, first)
    _open_group_vote(plan, groups[0], people["facilitadora"], first)
    proposing.propose(
        beatriz,
        plan,
        target=nodes["2.5"].key,
        operation="insert_after",
        text="Crear un boletín trimestral en español, portugués, inglés y francés.",
        justification="La red abarca países de cuatro lenguas.",
        submit=True,
    )
    _accept_two(plan, nodes, people)
    comments.post_comment(
        kevin,
        plan.forum,
        plan=plan,
        target_type="node",
        target_key=nodes["2.5"].key,
        body="We could share the communication work among the coalitions, by language.",
        alignment="in_favour",
        language="en",
    )


def _accept_two(plan, nodes, people) -> None:
    """Two amendments already accepted and waiting for a consolidated draft, so
    the plan page's preview with the accepted amendments applied shows them."""
    facilitator = people["facilitadora"]
    for author, ref, text in (
        (
            people["membro"],
            "1.3",
            "Dar a conocer la Convención y sus derechos en las lenguas de cada país "
            "(encuentros, impresos, prensa, radios comunitarias, ...)",
        ),
        (
            people["member"],
            "2.2",
            "Definir grupos de trabajo por área y ejes temáticos, con una coordinación rotativa.",
        ),
    ):
        amendment = proposing.propose(
            author, plan, target=nodes[ref].key, operation="replace", text=text, submit=True
        )
        lifecycle.decide(facilitator, amendment, "admitted")
        lifecycle.decide(facilitator, amendment, "accepted")


def _open_group_vote(plan, group, facilitator, amendment) -> None:
    """The first group puts the supported amendment to a two-week secret vote."""
    lifecycle.decide(facilitator, amendment, "admitted")
    now = utcnow()
    poll = votes_setup.create_poll(
        facilitator,
        plan,
        subject="amendment",
        scope="group",
        group=group,
        amendment=amendment,
        opens_at=now,
        closes_at=now + timedelta(days=14),
        settings=votes_setup.PollSettings(quorum_kind="share", quorum_value=Decimal("0.5")),
    )
    votes_lifecycle.open_poll(facilitator, poll, now)


# The beginning of the plan in Portuguese, as Beatriz (translator) wrote it.
PORTUGUESE = {
    "1": "Em cada país (eixo operacional):",
    "1.1": "Ratificar a Convenção, caso ainda não tenha sido ratificada",
    "1.2": (
        "Assegurar a implementação de políticas e medidas com recursos adequados que "
        "permitam uma aplicação efetiva da Convenção."
    ),
    "1.3": "Divulgar a Convenção e seus direitos (encontros, impressos, imprensa, ...)",
}


def _translate_a_little(plan, translator) -> None:
    nodes = {node.ref: node for node in version_nodes(plan.current_version)}
    translations.save(
        translator,
        plan,
        "pt",
        {nodes[ref].key: (text, nodes[ref].text) for ref, text in PORTUGUESE.items()},
    )


def _exists() -> bool:
    return db.session.scalar(select(Forum.id).where(Forum.slug == DEMO_FORUM)) is not None
