"""A large forum for `make bench`, written with bulk inserts: 5,000 members in
30 coalitions and 10 working groups, a 1,000-item plan, 5,000 amendments,
50,000 comments (2,000 of them on one item), and 100,000 ballots in 20
closed votes; plus one open vote of a working group, to submit ballots to."""

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from sqlalchemy import insert, select

PASSWORD = "bench password 123"  # noqa: S105 (the bench's throw-away accounts)
SLUG = "large"
MEMBERS = 5_000
COALITIONS = 30
GROUPS = 10
ITEMS = 1_000
AMENDMENTS = 5_000
COMMENTS = 50_000
THREAD = 2_000  # comments on the first item: its thread page is measured
THREAD_REPLIES = 500  # of which replies to the others
BALLOTS = 100_000
CLOSED_POLLS = 20


@dataclass
class LargeForum:
    slug: str
    plan_id: int
    thread_key: str
    poll_id: int
    voters: list[str]  # emails of the open poll's electorate
    member: str  # email of a member who reads the pages
    facilitator: str
    closed_poll_id: int
    consultation_id: int
    seconds: dict = field(default_factory=dict)


def _chunks(rows: list[dict], size: int = 5_000):
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _bulk(model, rows: list[dict]) -> None:
    from consult.extensions import db

    for chunk in _chunks(rows):
        db.session.execute(insert(model.__table__), chunk)


def generate(app, synthetic_plan) -> LargeForum:
    from consult.accounts.models import User
    from consult.amendments.models import Amendment
    from consult.comments.models import Comment
    from consult.consultations.services import PhaseInput, create_consultation
    from consult.extensions import db
    from consult.forums import groups as forum_groups
    from consult.forums import services as forums
    from consult.forums.models import Coalition, Membership, WorkingGroupMember
    from consult.plans import services as plans
    from consult.votes import lifecycle as votes_lifecycle
    from consult.votes import setup as votes_setup
    from consult.votes.models import Ballot, Participation, Poll, PollVoter

    seconds = {}
    started = time.perf_counter()
    now = datetime.now(UTC)
    # Every member has the same password; a cheap hash keeps 5,000 of them and
    # the bench's sign-ins fast (the hash carries its own parameters).
    password_hash = PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)
    with app.app_context():
        forum = forums.create_forum(None, SLUG, "Foro de referencia")
        countries = ["CO", "BR", "MX", "AR", "CL", "TT"]
        coalitions = [
            Coalition(forum_id=forum.id, name=f"Coalición {i}", country=countries[i % 6])
            for i in range(COALITIONS)
        ]
        db.session.add_all(coalitions)
        groups = [
            forum_groups.save_group(None, forum, f"Eje temático {i + 1}") for i in range(GROUPS)
        ]
        db.session.flush()
        _bulk(
            User,
            [
                {
                    "email": f"large{i}@bench.example",
                    "display_name": f"Integrante {i}",
                    "password_hash": password_hash,
                    "locale": ("es", "pt", "en")[i % 3],
                    "country": ["CO", "BR", "MX", "AR", "CL", "TT"][i % 6],
                    "notification_preference": "never",
                    "active": True,
                    "is_admin": False,
                    "created_at": now,
                }
                for i in range(MEMBERS)
            ],
        )
        user_ids = db.session.scalars(
            select(User.id).where(User.email.like("large%@bench.example")).order_by(User.id)
        ).all()
        facilitator_id = user_ids[0]
        _bulk(
            Membership,
            [
                {
                    "forum_id": forum.id,
                    "user_id": uid,
                    "role": "facilitator" if uid == facilitator_id else "member",
                    "is_delegate": i % 50 == 0,
                    "vote_weight": 1,
                    "coalition_id": coalitions[i % COALITIONS].id,
                    "created_at": now,
                }
                for i, uid in enumerate(user_ids)
            ],
        )
        _bulk(
            WorkingGroupMember,
            [
                {
                    "working_group_id": groups[i % GROUPS].id,
                    "user_id": uid,
                    "role": "member",
                    "created_at": now,
                }
                for i, uid in enumerate(user_ids)
            ],
        )
        facilitator = db.session.get(User, facilitator_id)
        db.session.commit()
        seconds["members"] = time.perf_counter() - started

        started = time.perf_counter()
        plan = plans.import_plan(None, forum, synthetic_plan(ITEMS))
        plan.open_for_input = True
        db.session.commit()
        nodes = [n for n in plans.version_nodes(plan.current_version) if n.kind == "item"]
        consultation = create_consultation(
            None,
            plan,
            title="Consulta de referencia",
            phases=[
                # Votes open and take ballots only while the phase allows voting:
                # this one does, for the open vote the load generator submits to.
                PhaseInput(
                    "amendments",
                    now - timedelta(days=1),
                    now + timedelta(days=20),
                    actions={"vote": True},
                ),
                PhaseInput("voting", now + timedelta(days=20), now + timedelta(days=30)),
            ],
        )
        from consult.consultations.scheduler import advance_due

        advance_due()
        db.session.commit()
        seconds["plan"] = time.perf_counter() - started

        started = time.perf_counter()
        statuses = ["submitted", "admitted", "accepted", "rejected", "withdrawn"]
        _bulk(
            Amendment,
            [
                {
                    "forum_id": forum.id,
                    "plan_id": plan.id,
                    "number": i + 1,
                    "base_version_id": plan.current_version_id,
                    "target_key": nodes[i % len(nodes)].key,
                    "target_ref": nodes[i % len(nodes)].ref,
                    "operation": "replace",
                    "original_text": nodes[i % len(nodes)].text,
                    "proposed_text": nodes[i % len(nodes)].text + f" Propuesta {i + 1}.",
                    "justification": "Justificación breve de la propuesta.",
                    "language": "es",
                    "status": statuses[i % len(statuses)],
                    "origin": "web",
                    "author_id": user_ids[i % MEMBERS],
                    "author_name": "",
                    "is_compromise": False,
                    "created_at": now,
                    "lock_version": 1,
                }
                for i in range(AMENDMENTS)
            ],
        )
        db.session.commit()
        seconds["amendments"] = time.perf_counter() - started

        started = time.perf_counter()
        thread_key = nodes[0].key

        def comment(i: int, key: str, **extra) -> dict:
            return {
                "forum_id": forum.id,
                "plan_id": plan.id,
                "target_type": "node",
                "target_key": key,
                "depth": 0,
                "author_id": user_ids[(i * 7) % MEMBERS],
                "body": f"Comentario número {i} con **Markdown** y una [referencia](/ayuda).",
                "alignment": ["in_favour", "against", "neutral"][i % 3],
                "language": "es",
                "created_at": now + timedelta(seconds=i),
                "flag_count": 0,
                **extra,
            }

        top_level = THREAD - THREAD_REPLIES
        _bulk(Comment, [comment(i, thread_key) for i in range(top_level)])
        roots = db.session.scalars(
            select(Comment.id)
            .where(Comment.plan_id == plan.id, Comment.target_key == thread_key)
            .order_by(Comment.id)
        ).all()
        _bulk(
            Comment,
            [
                comment(
                    top_level + i,
                    thread_key,
                    parent_id=roots[i * 3],
                    root_id=roots[i * 3],
                    depth=1,
                )
                for i in range(THREAD_REPLIES)
            ],
        )
        _bulk(
            Comment,
            [comment(i, nodes[1 + i % (len(nodes) - 1)].key) for i in range(COMMENTS - THREAD)],
        )
        db.session.commit()
        seconds["comments"] = time.perf_counter() - started

        # 20 closed yes/no votes of the whole forum on decided amendments,
        # 5,000 ballots each, bulk-written as the polls' own services write them.
        started = time.perf_counter()
        decided = db.session.scalars(
            select(Amendment.id)
            .where(Amendment.plan_id == plan.id, Amendment.status.in_(("accepted", "rejected")))
            .order_by(Amendment.id)
            .limit(CLOSED_POLLS)
        ).all()
        per_poll = BALLOTS // CLOSED_POLLS
        closed_ids = []
        for index, amendment_id in enumerate(decided):
            poll = Poll(
                forum_id=forum.id,
                plan_id=plan.id,
                scope="assembly",
                subject="amendment",
                amendment_id=amendment_id,
                title=f"Votación cerrada {index + 1}",
                method="yesno",
                opens_at=now - timedelta(days=10),
                closes_at=now - timedelta(days=9),
                opened_at=now - timedelta(days=10),
                closed_at=now - timedelta(days=9),
                state="closed",
                electorate_size=per_poll,
                electorate_weight=per_poll,
            )
            db.session.add(poll)
            db.session.flush()
            closed_ids.append(poll.id)
            voters = user_ids[:per_poll]
            _bulk(
                PollVoter,
                [
                    {"poll_id": poll.id, "user_id": uid, "weight": 1, "present": False}
                    for uid in voters
                ],
            )
            _bulk(
                Participation,
                [
                    {
                        "poll_id": poll.id,
                        "voter_id": uid,
                        "cast_by_id": uid,
                        "recorded_at": now - timedelta(days=9, hours=1),
                        "receipt_check": secrets.token_hex(32),
                    }
                    for uid in voters
                ],
            )
            _bulk(
                Ballot,
                [
                    {
                        "id": secrets.token_hex(16),
                        "poll_id": poll.id,
                        "choice": ['"yes"', '"no"', '"abstain"', '"yes"'][n % 4],
                        "weight": 1,
                        "receipt_hash": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                    }
                    for n in range(per_poll)
                ],
            )
        db.session.commit()
        seconds["ballots"] = time.perf_counter() - started

        # The open vote that the load generator submits ballots to: a working
        # group's (500 members) vote on an admitted amendment.
        subject = db.session.scalar(
            select(Amendment)
            .where(Amendment.plan_id == plan.id, Amendment.status == "admitted")
            .order_by(Amendment.id)
        )
        poll = votes_setup.create_poll(
            facilitator,
            plan,
            subject="amendment",
            scope="group",
            group=groups[1],
            amendment=subject,
            opens_at=now,
            closes_at=now + timedelta(days=7),
            settings=votes_setup.PollSettings(title="Votación abierta de referencia"),
        )
        votes_lifecycle.open_poll(facilitator, poll)
        db.session.commit()
        electorate = db.session.scalars(
            select(User.email)
            .join(PollVoter, PollVoter.user_id == User.id)
            .where(PollVoter.poll_id == poll.id)
            .order_by(User.id)
        ).all()
        return LargeForum(
            slug=SLUG,
            plan_id=plan.id,
            thread_key=thread_key,
            poll_id=poll.id,
            voters=list(electorate),
            member=f"large{MEMBERS - 1}@bench.example",
            facilitator=facilitator.email,
            closed_poll_id=closed_ids[0],
            consultation_id=consultation.id,
            seconds={name: round(value, 2) for name, value in seconds.items()},
        )
