"""The data a journey starts from, written through the services (what the
journey itself does goes through the pages)."""

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from consult.accounts import services as accounts
from consult.amendments import plan_settings, proposing
from consult.comments import services as comments
from consult.extensions import db
from consult.forums import memberships as forum_members
from consult.forums import services as forums
from consult.mail.models import OutboxEmail
from consult.plans import services as plans

PASSWORD = "a browser journey password"
PLAN_TEXT = (Path(__file__).resolve().parents[1] / "data" / "plan-estructurado.es.txt").read_text()
_numbers = itertools.count(1)


@dataclass
class World:
    slug: str
    forum_id: int
    plan_id: int
    items: list[str]  # keys of the plan's numbered items, in order
    emails: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)

    @property
    def plan_path(self) -> str:
        return f"/forums/{self.slug}/plans/{self.plan_id}/"

    def item_path(self, key: str) -> str:
        return f"/forums/{self.slug}/plans/{self.plan_id}/items/{key}/"

    def amendment_path(self, name: str) -> str:
        return f"/forums/{self.slug}/amendments/{self.ids[name]}"


def person(
    forum, role="member", *, name: str, locale: str, country="CO", coalition=None, delegate=False
):
    n = next(_numbers)
    email = f"{re.sub(r'[^a-z]+', '.', name.lower())}.{n}@journeys.example"
    user = accounts.create_user(email, name, PASSWORD, locale=locale, country=country)
    membership = forum_members.add_member(None, forum, user, role=role, coalition=coalition)
    if delegate:
        membership.is_delegate = True
        membership.vote_weight = 1
    return user


def forum_with_plan(prefix: str, locale: str, *, open_for_input: bool = True):
    """A forum with a facilitator and the structured sample plan (in Spanish)."""
    slug = f"{prefix}-{next(_numbers)}"
    forum = forums.create_forum(None, slug, f"Red de coaliciones {slug}", default_locale=locale)
    facilitator = person(forum, "facilitator", name="Facilitadora Rocío", locale=locale)
    plan = plans.import_plan(facilitator, forum, PLAN_TEXT)
    db.session.flush()
    if open_for_input:
        plan_settings.update_settings(
            facilitator, plan, open_for_input=True, threshold=0, threshold_kind="members"
        )
    items = [n.key for n in plans.version_nodes(plan.current_version) if n.kind == "item"]
    world = World(slug=slug, forum_id=forum.id, plan_id=plan.id, items=items)
    world.emails["facilitator"] = facilitator.email
    return world, forum, plan, facilitator


def amendment(actor, plan, key: str, text: str, *, submit=True, justification=""):
    return proposing.propose(
        actor,
        plan,
        target=key,
        operation="replace",
        text=text,
        justification=justification,
        submit=submit,
    )


def comment(actor, forum, plan, key: str, body: str, alignment="neutral"):
    return comments.post_comment(
        actor, forum, plan=plan, target_type="node", target_key=key, body=body, alignment=alignment
    )


def invitation_path(email: str) -> str:
    """The link of the invitation emailed to ``email``."""
    message = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.recipient == email).order_by(OutboxEmail.id.desc())
    )
    assert message is not None, f"no email to {email}"
    match = re.search(r"https?://[^/\s]+(/invitations/[^\s<\"]+)", message.body_text)
    assert match, message.body_text
    return match.group(1)
