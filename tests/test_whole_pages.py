"""Whole pages kept per reader (consult.whole_pages) under the data's generation
(consult.generation): sent again byte for byte, never to another reader or
session, and never from before a write."""

import gzip
import re

import pytest
from sqlalchemy import update

from consult import generation
from consult.forums.models import Membership
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture
def member(make, forum):
    return make.member(forum, locale="en", name="Ana Silva").user


def plan_path(plan) -> str:
    return f"/forums/{plan.forum.slug}/plans/{plan.id}/"


def read(client, path: str, **headers):
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    return response


def settled(client, path: str):
    """Read ``path`` until the session stops changing (its first page gives it
    a CSRF token), so that the next read is kept."""
    read(client, path)
    return read(client, path)


def test_a_kept_page_is_sent_again_without_building_it(client, plan, member, count_statements):
    sign_in(client, member)
    path = plan_path(plan)
    first = settled(client, path)
    with count_statements() as seen:
        again = read(client, path)
    assert again.get_data() == first.get_data()
    assert [s for s in seen if s.startswith("SELECT")] == [
        s for s in seen if s.startswith("SELECT") and ("users" in s or "generation" in s)
    ]
    assert again.headers["ETag"] == first.headers["ETag"]
    conditional = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert conditional.status_code == 304 and conditional.get_data() == b""


def test_any_write_makes_kept_pages_old_at_once(client, session, plan, member, forum):
    """A change that no counter of the plan follows — the reader's role — shows
    on the next read: every write moves the generation on."""
    sign_in(client, member)
    path = plan_path(plan)
    assert "Settings" not in settled(client, path).get_data(as_text=True)
    before = generation.current()
    session.execute(
        update(Membership)
        .where(Membership.user_id == member.id, Membership.forum_id == forum.id)
        .values(role="facilitator")
    )
    session.commit()
    assert generation.current() > before
    assert "Settings" in read(client, path).get_data(as_text=True)


def test_reading_moves_nothing_and_a_rolled_back_write_moves_nothing(client, session, plan, member):
    sign_in(client, member)
    settled(client, plan_path(plan))
    before = generation.current()
    read(client, plan_path(plan))
    read(client, f"/forums/{plan.forum.slug}/plans/{plan.id}/amendments/")
    assert generation.current() == before
    session.commit()  # (the test's own transaction starts here)
    before = generation.current()
    member.stored_name = "Someone else"
    session.flush()
    session.rollback()
    assert generation.current() == before


def test_each_session_gets_its_own_page_with_its_own_form_tokens(app, plan, member):
    path = plan_path(plan)
    pages = []
    for _session in range(2):
        client = app.test_client()
        sign_in(client, member)
        settled(client, path)
        pages.append(read(client, path).get_data(as_text=True))
    tokens = [set(TOKEN.findall(page)) for page in pages]
    assert tokens[0] and tokens[1] and not tokens[0] & tokens[1]


def test_a_message_to_show_is_never_swallowed_by_a_kept_page(client, plan, member):
    sign_in(client, member)
    path = plan_path(plan)
    settled(client, path)
    with client.session_transaction() as cookie_session:
        cookie_session["_flashes"] = [("success", "Saved, really.")]
    assert "Saved, really." in read(client, path).get_data(as_text=True)
    assert "Saved, really." not in read(client, path).get_data(as_text=True)


def test_a_kept_page_is_gzipped_once_for_clients_that_accept_it(client, plan, member):
    sign_in(client, member)
    path = plan_path(plan)
    plain = settled(client, path).get_data()
    zipped = read(client, path, **{"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.get_data()) == plain
    assert "Accept-Encoding" in zipped.headers["Vary"]


def test_signed_out_readers_of_a_public_forum_get_pages_of_their_own(app, session, plan):
    plan.forum.is_public = True
    session.commit()
    path = plan_path(plan)
    first, second = app.test_client(), app.test_client()
    one = settled(first, path).get_data(as_text=True)
    other = settled(second, path).get_data(as_text=True)
    assert set(TOKEN.findall(one)).isdisjoint(TOKEN.findall(other))
