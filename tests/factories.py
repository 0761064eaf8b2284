"""Test data built through the real services."""

import itertools
import re

from consult.accounts import services as accounts
from consult.forums import services as forums
from consult.mail.models import OutboxEmail

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


class Factory:
    def __init__(self, session):
        self.session = session

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
        membership = forums.add_member(None, forum, user, role=role, coalition=coalition)
        for group in groups:
            forums.add_group_member(None, group, user)
        self.session.commit()
        return membership

    def coalition(self, forum, name=None, country="CO"):
        coalition = forums.save_coalition(
            None, forum, name or f"Coalition {next(_counter)}", country
        )
        self.session.commit()
        return coalition

    def group(self, forum, name=None):
        group = forums.save_group(None, forum, name or f"Group {next(_counter)}")
        self.session.commit()
        return group


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
