"""Test data built through the real services, so every object is one the
application itself could have made (valid, audited, notified, indexed).

``make`` (a fixture in conftest.py) is a ``Factory`` bound to the test's
session; each method commits, like the request that would have made it.
A test says only what matters to it:

    plan = make.plan(forum)                      # the structured Spanish plan, open for input
    amendment = make.amendment(plan, author, ref="1.1", admitted_by=facilitator)
    poll = make.poll(plan, facilitator)          # the assembly's open yes/no vote on the plan
"""

import itertools
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from consult.accounts import services as accounts
from consult.amendments import lifecycle, proposing
from consult.comments import services as comments
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services as consultations
from consult.database import utcnow
from consult.forums import groups as working_groups
from consult.forums import memberships as forum_members
from consult.forums import services as forums
from consult.mail.models import OutboxEmail
from consult.plans import services as plans
from consult.votes import lifecycle as votes_lifecycle
from consult.votes import setup as votes_setup

PASSWORD = "correct horse battery staple"
DATA = Path(__file__).parent / "data"
# The structured plan most tests read: sections, sub-sections and items (1, 1.1, 2.A ...).
STRUCTURED = (DATA / "plan-estructurado.es.txt").read_text()
# The smallest plan with two items, for tests that need a plan but not its shape.
SHORT_PLAN = "Plan\n\n1. First item.\n\n2. Second item.\n"
# A plan of one item, for tests about what happens around a plan (notifications, dates).
ONE_ITEM_PLAN = "Plan de acción\n\n1. Primer punto.\n"
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
_counter = itertools.count(1)


class Factory:
    def __init__(self, session):
        self.session = session

    # --- people -----------------------------------------------------------------------

    def user(
        self, email=None, *, name=None, password=PASSWORD, locale="es", admin=False, country=None
    ):
        n = next(_counter)
        user = accounts.create_user(
            email or f"person{n}@example.org",
            name or f"Person {n}",
            password,
            locale=locale,
            is_admin=admin,
            country=country,
        )
        self.session.commit()
        return user

    def forum(self, slug=None, *, public=False, name=None):
        n = next(_counter)
        forum = forums.create_forum(
            None, slug or f"forum-{n}", name or f"Forum {n}", is_public=public
        )
        self.session.commit()
        return forum

    def member(self, forum, user=None, *, role="member", coalition=None, groups=(), **user_options):
        user = user or self.user(**user_options)
        membership = forum_members.add_member(None, forum, user, role=role, coalition=coalition)
        for group in groups:
            working_groups.add_group_member(None, group, user)
        self.session.commit()
        return membership

    def facilitator(self, forum, **options):
        """A facilitator of ``forum`` (the user)."""
        return self.member(forum, role="facilitator", **options).user

    def delegate(self, forum, weight="1", **options):
        """A delegate of the forum's assembly with this vote weight (the user)."""
        membership = self.member(forum, **options)
        membership.is_delegate = True
        membership.vote_weight = Decimal(weight)
        self.session.commit()
        return membership.user

    def coalition(self, forum, name=None, country="CO"):
        coalition = forums.save_coalition(
            None, forum, name or f"Coalition {next(_counter)}", country
        )
        self.session.commit()
        return coalition

    def group(self, forum, name=None):
        group = working_groups.save_group(None, forum, name or f"Group {next(_counter)}")
        self.session.commit()
        return group

    # --- plans and their versions -------------------------------------------------------

    def plan(
        self,
        forum,
        text=STRUCTURED,
        *,
        open_for_input=True,
        language="es",
        title="",
        filename="",
        actor=None,
    ):
        """A plan imported from ``text`` (version 1), by ``actor`` (a facilitator)
        or the system; open for input unless told."""
        plan = plans.import_plan(
            actor, forum, text, title=title, language=language, filename=filename
        )
        plan.open_for_input = open_for_input
        self.session.commit()
        return plan

    def version(self, plan, *, ref=None, text=None, actor=None, note=""):
        """A new current version of ``plan``: item ``ref`` (by default the first
        node with text) edited by hand, keys kept."""
        base = plans.get_version(plan)
        if ref is None:
            node = next(node for node in plans.version_nodes(base) if node.text)
        else:
            node = plans.find_node(base, ref)
        text = text or f"{node.text} (revised {next(_counter)})"
        version = plans.edit_node(actor, plan, base, node.key, text, note)
        self.session.commit()
        return version

    # --- amendments ---------------------------------------------------------------------

    def amendment(
        self,
        plan,
        author,
        *,
        ref="1",
        text=None,
        operation="replace",
        justification="",
        submit=True,
        admitted_by=None,
    ):
        """An amendment by ``author`` to node ``ref`` of the current version:
        submitted unless told, and admitted when ``admitted_by`` (a facilitator) is given."""
        if text is None and operation != "delete":
            text = f"A better text for {ref}, take {next(_counter)}."
        amendment = proposing.propose(
            author,
            plan,
            target=plans.find_node(plan.current_version, ref).key,
            operation=operation,
            text=text or "",
            justification=justification,
            submit=submit,
        )
        if admitted_by is not None:
            lifecycle.decide(admitted_by, amendment, "admitted")
        self.session.commit()
        return amendment

    # --- consultations and polls --------------------------------------------------------

    def consultation(self, plan, phases=None, *, title=None, timezone="UTC", advance=False):
        """A consultation of ``plan``. ``phases`` are ``PhaseInput``s or
        ``(kind, starts_at, ends_at)`` tuples; by default one amendment phase that
        began a day ago and ends in thirty. With ``advance``, the scheduler opens
        and closes the phases that are due, as it would have by now."""
        now = utcnow()
        phases = phases or [("amendments", now - DAY, now + 30 * DAY)]
        consultation = consultations.create_consultation(
            None,
            plan,
            title=title or f"Consultation {next(_counter)}",
            timezone=timezone,
            phases=[
                phase
                if isinstance(phase, consultations.PhaseInput)
                else consultations.PhaseInput(*phase)
                for phase in phases
            ],
        )
        if advance:
            phase_scheduler.advance_due(now)
        self.session.commit()
        return consultation

    def poll(
        self,
        plan,
        facilitator,
        *,
        amendment=None,
        group=None,
        subject=None,
        opens_at=None,
        closes_at=None,
        opened=True,
        **settings,
    ):
        """A poll on ``plan``: on ``amendment`` when given (by ``group`` when given,
        else by the assembly), otherwise the assembly's vote on the plan. Open for an
        hour unless told; ``settings`` are ``PollSettings`` fields."""
        now = utcnow()
        poll = votes_setup.create_poll(
            facilitator,
            plan,
            subject=subject or ("amendment" if amendment is not None else "plan"),
            scope="group" if group is not None else "assembly",
            opens_at=opens_at or now,
            closes_at=closes_at or now + HOUR,
            settings=votes_setup.PollSettings(**settings),
            amendment=amendment,
            group=group,
        )
        if opened:
            votes_lifecycle.open_poll(facilitator, poll)
        self.session.commit()
        return poll

    # --- comments -----------------------------------------------------------------------

    def comment(self, author, plan, *, ref="1", body=None, parent=None, alignment="neutral"):
        """A comment by ``author`` on node ``ref`` of the plan (a reply to ``parent``)."""
        target_key = parent.target_key if parent else plans.find_node(plan.current_version, ref).key
        comment = comments.post_comment(
            author,
            plan.forum,
            plan=plan,
            target_type="node",
            target_key=target_key,
            body=body or f"Comment {next(_counter)}.",
            alignment=alignment,
            parent=parent,
        )
        self.session.commit()
        return comment

    def thread(self, plan, authors, *, ref="1"):
        """A thread on node ``ref``: the first author's comment, then each next
        author's reply to the comment before; returns the comments in order."""
        thread = []
        for author in authors:
            parent = thread[-1] if thread else None
            thread.append(self.comment(author, plan, ref=ref, parent=parent))
        return thread


def sign_in(client, user_or_email, password=PASSWORD):
    email = getattr(user_or_email, "email", user_or_email)
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return response


def outbox(session, recipient=None):
    from sqlalchemy import select

    query = select(OutboxEmail).order_by(OutboxEmail.id)
    if recipient:
        query = query.where(OutboxEmail.recipient == recipient)
    return list(session.scalars(query))


def link_in(message, path_prefix):
    """The first link in an email's text that starts with BASE_URL + path_prefix."""
    match = re.search(
        r"http://consult\.test(" + re.escape(path_prefix) + r"[^\s<\"]*)", message.body_text
    )
    assert match, f"no {path_prefix} link in: {message.body_text}"
    return match.group(1)
