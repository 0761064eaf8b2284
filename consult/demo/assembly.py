"""The demo's assembly: the plan's consultation (everything open until the
assembly), two competing amendments and one more put to the assembly, and a
session called for next week, chaired by the facilitator, with a report on its
agenda. Signed in as the facilitator, open it from the consultation's page
and run it from the console; the members check in from their phones."""

from datetime import timedelta

from ..amendments import lifecycle, proposing
from ..assembly import agenda, queries, sessions
from ..consultations import scheduler as phase_scheduler
from ..consultations import services as consultations
from ..database import utcnow
from ..plans.services import version_nodes

EVERYTHING = {"amend": True, "support": True, "comment": True, "vote": True}


def add_assembly_session(plan, people) -> None:
    facilitator = people["facilitadora"]
    now = utcnow()
    consultation = consultations.create_consultation(
        facilitator,
        plan,
        title="Consulta sobre el plan de trabajo 2007",
        timezone="America/Bogota",
        phases=[
            consultations.PhaseInput(
                "amendments", now - timedelta(days=1), now + timedelta(days=60), actions=EVERYTHING
            ),
        ],
    )
    phase_scheduler.advance_due(now)
    nodes = {node.ref: node for node in version_nodes(plan.current_version)}
    proposals = [
        (people["membro"], "2.2", "Definir grupos de trabajo por área, eje temático y lengua."),
        (
            people["member"],
            "2.2",
            "Definir grupos de trabajo por área y ejes temáticos, con relatoría.",
        ),
        (people["miembro"], "1.3", "Dar a conocer la Convención en las lenguas de cada país."),
    ]
    for author, ref, text in proposals:
        if ref not in nodes:
            continue
        amendment = proposing.propose(
            author, plan, target=nodes[ref].key, operation="replace", text=text, submit=True
        )
        lifecycle.decide(facilitator, amendment, "admitted")
        lifecycle.decide(facilitator, amendment, "voting")
    session = sessions.create_session(
        facilitator,
        consultation,
        sessions.SessionInput(
            title="Asamblea del Foro: aprobación del plan de trabajo",
            starts_at=(now + timedelta(days=7)).replace(minute=0, second=0, microsecond=0),
            place="Bogotá, Biblioteca Luis Ángel Arango",
            online_url="https://meet.example.org/foro-coaliciones",
            chair_id=facilitator.id,
            coalition_cap_seconds=600,
        ),
    )
    report = agenda.add_point(facilitator, session, "Informe de las coaliciones")
    others = [point.id for point in queries.points(session) if point.id != report.id]
    agenda.reorder(facilitator, session, [report.id, *others])
