"""Comment threads: who may write, threading, mentions, edits, tombstones, flags,
moderation, hostile input and the cost of a thread page."""

import re
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event, func, select

import consult.comments.models  # noqa: F401 (the tables, for db.create_all)
from consult.accounts import services as accounts
from consult.audit.models import AuditEvent
from consult.comments import moderation, queries, services, threads
from consult.comments.models import Comment, CommentFlag, CommentRevision
from consult.database import utcnow
from consult.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from consult.extensions import db
from consult.forums import memberships as forum_members
from consult.forums import permissions as forum_permissions
from consult.notifications.models import Notification
from consult.plans import services as plans
from tests.factories import sign_in
from tests.test_richtext import XSS_PAYLOADS, assert_safe_html

STRUCTURED = (Path(__file__).parent / "data" / "plan-estructurado.es.txt").read_text()
XSS_NAME = '"><svg onload=alert(1)>'


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))


@pytest.fixture(autouse=True)
def english(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def forum(make):
    return make.forum()


@pytest.fixture
def plan(session, forum):
    plan = plans.import_plan(None, forum, STRUCTURED, language="es")
    plan.open_for_input = True
    session.commit()
    return plan


@pytest.fixture
def key(plan):
    return plans.find_node(plan.current_version, "1.1").key


@pytest.fixture
def member(make, forum):
    return make.member(forum, locale="en", name="Ana Silva").user


@pytest.fixture
def other(make, forum):
    return make.member(forum, locale="en", name="Bruno Costa").user


@pytest.fixture
def facilitator(make, forum):
    return make.member(forum, role="facilitator", locale="en", name="Fátima Reis").user


@pytest.fixture
def observer(make, forum):
    return make.member(forum, role="observer", locale="en").user


def comment(actor, forum, plan, key, body="A comment.", *, parent=None, alignment="neutral"):
    return services.post_comment(
        actor,
        forum,
        plan=plan,
        target_type="node",
        target_key=key,
        body=body,
        alignment=alignment,
        parent=parent,
    )


def base(forum):
    return f"/forums/{forum.slug}/comments"


def thread_path(forum, plan, key, **extra):
    query = "&".join(f"{name}={value}" for name, value in extra.items())
    path = f"{base(forum)}/thread?target_type=node&plan_id={plan.id}&target_key={key}"
    return path + ("&" + query if query else "")


def post(client, forum, plan, key, body, **fields):
    data = {"target_type": "node", "plan_id": plan.id, "target_key": key, "body": body}
    data.setdefault("alignment", "neutral")
    data.update(fields)
    return client.post(f"{base(forum)}/", data=data)


def main_html(response) -> str:
    html = response.get_data(as_text=True)
    start = html.find("<main")
    return html[start : html.find("</main>")] if start >= 0 else html


def comment_count(session) -> int:
    return session.scalar(select(func.count()).select_from(Comment))


def notifications(session, user, kind):
    return list(
        session.scalars(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == kind)
        )
    )


@contextmanager
def count_statements(app):
    counter = {"n": 0}

    def count(*_args, **_kwargs):
        counter["n"] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", count)


# --- who may write -------------------------------------------------------------------


def test_a_member_comments_on_an_item_of_an_open_plan(client, session, forum, plan, key, member):
    sign_in(client, member)
    response = post(client, forum, plan, key, "We **support** this item.", alignment="in_favour")
    assert response.status_code == 302
    stored = session.scalars(select(Comment)).one()
    assert (stored.target_type, stored.plan_id, stored.target_key) == ("node", plan.id, key)
    assert (stored.author_id, stored.alignment, stored.depth, stored.language) == (
        member.id,
        "in_favour",
        0,
        "en",
    )
    assert stored.body == "We **support** this item."
    assert response.headers["Location"].endswith(f"#comment-{stored.id}")
    page = main_html(client.get(thread_path(forum, plan, key)))
    assert "We <strong>support</strong> this item." in page
    assert "Ana Silva" in page


def test_the_same_comment_form_sent_twice_makes_one_comment(
    client, session, forum, plan, key, member
):
    sign_in(client, member)
    form = {
        "target_type": "node",
        "plan_id": str(plan.id),
        "target_key": key,
        "body": "Una sola vez.",
        "alignment": "neutral",
        "form_token": "tok-1",
    }
    first = client.post(f"/forums/{forum.slug}/comments/", data=form)
    second = client.post(f"/forums/{forum.slug}/comments/", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert len(session.scalars(select(Comment)).all()) == 1


def test_comments_are_refused_when_the_plan_is_closed(client, session, forum, plan, key, member):
    plan.open_for_input = False
    session.commit()
    with pytest.raises(Conflict):
        comment(member, forum, plan, key)
    sign_in(client, member)
    response = post(client, forum, plan, key, "Typed while it closed.")
    assert response.status_code == 409
    html = main_html(response)
    assert "Comments are closed" in html
    assert "Typed while it closed." in html  # the text is kept for the member to copy
    assert comment_count(session) == 0


def test_observers_may_read_but_not_comment(client, session, forum, plan, key, observer):
    with pytest.raises(PermissionDenied):
        comment(observer, forum, plan, key)
    sign_in(client, observer)
    assert client.get(thread_path(forum, plan, key)).status_code == 200
    response = post(client, forum, plan, key, "An observer's remark.")
    assert response.status_code == 403
    assert "An observer&#39;s remark." in main_html(response)
    assert comment_count(session) == 0


def test_outsiders_of_a_private_forum_get_404_everywhere(
    client, make, session, forum, plan, key, member
):
    existing = comment(member, forum, plan, key)
    session.commit()
    outsider = make.member(make.forum(), locale="en").user
    with pytest.raises(PermissionDenied):
        comment(outsider, forum, plan, key)
    sign_in(client, outsider)
    assert client.get(thread_path(forum, plan, key)).status_code == 404
    assert client.get(f"{base(forum)}/{existing.id}").status_code == 404
    assert post(client, forum, plan, key, "Hello from outside.").status_code == 404
    for action in ("edit", "delete", "flag", "hide", "restore"):
        response = client.post(f"{base(forum)}/{existing.id}/{action}", data={"body": "x"})
        assert response.status_code == 404, action
    assert comment_count(session) == 1


def test_outsiders_of_a_public_forum_may_read_but_not_write(client, make, session, plan, key):
    forum = make.forum(public=True)
    public_plan = plans.import_plan(None, forum, STRUCTURED)
    public_plan.open_for_input = True
    session.commit()
    public_key = plans.find_node(public_plan.current_version, "1.1").key
    assert client.get(thread_path(forum, public_plan, public_key)).status_code == 200
    sign_in(client, make.user(locale="en"))
    response = post(client, forum, public_plan, public_key, "Not a member.")
    assert response.status_code == 403
    assert comment_count(session) == 0


def test_signed_out_visitors_are_sent_to_sign_in(client, forum, plan, key):
    response = post(client, forum, plan, key, "Anonymous.")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_an_item_of_another_forums_plan_is_not_found(make, session, forum, plan, key, member):
    other_forum = make.forum()
    other_plan = plans.import_plan(None, other_forum, STRUCTURED)
    other_plan.open_for_input = True
    session.commit()
    other_key = plans.find_node(other_plan.current_version, "1.1").key
    with pytest.raises(NotFound):
        comment(member, forum, other_plan, other_key)
    with pytest.raises(NotFound):
        comment(member, forum, plan, "nonexistent")
    with pytest.raises(NotFound):
        services.post_comment(
            member, forum, plan=plan, target_type="consultation", target_key="1", body="x"
        )


# --- threads ---------------------------------------------------------------------------


def test_replies_nest_three_levels_and_deeper_replies_are_flattened(
    session, forum, plan, key, member, other
):
    top = comment(member, forum, plan, key, "Top.")
    chain = [top]
    for n in range(5):
        author = other if n % 2 == 0 else member
        chain.append(comment(author, forum, plan, key, f"Reply {n + 1}.", parent=chain[-1]))
    session.commit()
    assert [c.depth for c in chain] == [0, 1, 2, 3, 3, 3]
    assert all(c.root_id == top.id for c in chain[1:])
    level_two = chain[2]
    assert chain[4].parent_id == level_two.id and chain[5].parent_id == level_two.id
    page = threads.thread(member, forum, plan, "node", key)
    [entry] = page.entries
    assert [r.comment.id for r in entry.replies] == [chain[1].id]
    assert [r.comment.id for r in entry.replies[0].replies[0].replies] == [
        chain[3].id,
        chain[4].id,
        chain[5].id,
    ]


def test_a_reply_must_stay_in_its_comments_discussion(session, forum, plan, key, member):
    top = comment(member, forum, plan, key)
    other_key = plans.find_node(plan.current_version, "1.2").key
    with pytest.raises(InvalidInput):
        comment(member, forum, plan, other_key, "Elsewhere.", parent=top)


def test_alignment_counts_per_item_in_one_query(app, session, forum, plan, key, member, other):
    second = plans.find_node(plan.current_version, "1.2").key
    comment(member, forum, plan, key, alignment="in_favour")
    comment(other, forum, plan, key, alignment="in_favour")
    comment(other, forum, plan, key, alignment="against")
    hidden = comment(member, forum, plan, key, alignment="against")
    deleted = comment(member, forum, plan, key, alignment="neutral")
    comment(other, forum, plan, second, alignment="neutral")
    moderation.hide_comment(None, hidden, "Off topic.")
    services.delete_comment(member, deleted)
    session.commit()
    assert plan.id  # loaded again after the commit, outside the count
    with count_statements(app) as counter:
        result = queries.counts(plan)
    assert counter["n"] == 1
    assert result[key] == {"total": 3, "in_favour": 2, "against": 1, "neutral": 0}
    assert result[second] == {"total": 1, "in_favour": 0, "against": 0, "neutral": 1}
    assert queries.counts_for("node", plan, key) == result[key]
    assert queries.counts_for("node", plan, "nothing") == queries.EMPTY_COUNTS


# --- notifications -----------------------------------------------------------------------


def test_mentions_notify_the_members_named(make, session, forum, plan, key, member, other):
    unique = make.member(forum, locale="en", name="Zacarías Ponte").user
    make.member(forum, locale="en", name="Luis Uno")
    make.member(forum, locale="en", name="Luis Dos")
    luis_one = session.scalar(select(type(member)).where(type(member).display_name == "Luis Uno"))
    stranger = make.member(make.forum(), locale="en", name="Marta Lejos").user
    written = comment(
        member,
        forum,
        plan,
        key,
        "Thanks @[Bruno Costa], @zacarías and @LuisUno; also @Luis, @MartaLejos, "
        "@nobody and ana@example.org.",
    )
    session.commit()
    for user in (other, unique, luis_one):
        [note] = notifications(session, user, "mention")
        assert (note.object_type, note.object_id, note.actor_id) == (
            "Comment",
            written.id,
            member.id,
        )
        assert note.data["target_key"] == key
    assert notifications(session, stranger, "mention") == []  # not a member of this forum
    mentioned = {n.user_id for n in session.scalars(select(Notification))}
    assert mentioned == {other.id, unique.id, luis_one.id}  # "@Luis" is ambiguous


def test_unknown_names_notify_nobody(session, forum, plan, key, member, other):
    comment(member, forum, plan, key, "Hello @Someone and @[No Such Person].")
    session.commit()
    assert session.scalar(select(func.count()).select_from(Notification)) == 0


def test_a_reply_notifies_the_author_of_the_comment_answered(
    session, forum, plan, key, member, other
):
    top = comment(member, forum, plan, key, "Question?")
    reply = comment(other, forum, plan, key, "Answer, @[Ana Silva].", parent=top)
    comment(member, forum, plan, key, "Thanks.", parent=reply)
    comment(member, forum, plan, key, "Replying to myself.", parent=top)
    session.commit()
    [note] = notifications(session, member, "comment_reply")
    assert (note.object_id, note.actor_id, note.data["replied_to_id"]) == (
        reply.id,
        other.id,
        top.id,
    )
    assert notifications(session, member, "mention") == []  # already told as the one answered
    assert len(notifications(session, other, "comment_reply")) == 1


# --- edits and deletion ---------------------------------------------------------------------


def test_editing_keeps_the_earlier_text(client, session, forum, plan, key, member):
    written = comment(member, forum, plan, key, "First wording.")
    session.commit()
    sign_in(client, member)
    response = client.post(f"{base(forum)}/{written.id}/edit", data={"body": "Second wording."})
    assert response.status_code == 302
    session.expire_all()
    edited = session.get(Comment, written.id)
    assert edited.body == "Second wording." and edited.edited_at is not None
    [revision] = session.scalars(select(CommentRevision)).all()
    assert (revision.body, revision.editor_id) == ("First wording.", member.id)
    html = main_html(client.get(thread_path(forum, plan, key)))
    assert "edited on" in html
    history = html.split('<details class="comment-history">', 1)[1].split("</details>", 1)[0]
    assert "1 earlier version" in history and "First wording." in history


def test_an_invalid_edit_is_shown_again_with_the_text(client, session, forum, plan, key, member):
    written = comment(member, forum, plan, key, "Original.")
    session.commit()
    sign_in(client, member)
    too_long = "Long " * 5_000
    response = client.post(f"{base(forum)}/{written.id}/edit", data={"body": too_long})
    assert response.status_code == 400
    assert too_long.strip() in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Comment, written.id).body == "Original."


@pytest.mark.parametrize("action", ["edit", "delete"])
def test_only_the_author_may_edit_or_delete(
    client, session, forum, plan, key, member, other, facilitator, action
):
    written = comment(member, forum, plan, key, "Mine.")
    session.commit()
    for intruder in (other, facilitator):
        with pytest.raises(PermissionDenied):
            if action == "edit":
                services.edit_comment(intruder, written, "Theirs.")
            else:
                services.delete_comment(intruder, written)
        sign_in(client, intruder)
        response = client.post(f"{base(forum)}/{written.id}/{action}", data={"body": "Theirs."})
        assert response.status_code == 403
    session.expire_all()
    kept = session.get(Comment, written.id)
    assert (kept.body, kept.deleted_at, kept.edited_at) == ("Mine.", None, None)


def test_a_deleted_comment_leaves_a_tombstone_and_keeps_its_replies(
    client, session, forum, plan, key, member, other
):
    top = comment(member, forum, plan, key, "To be withdrawn.")
    services.edit_comment(member, top, "To be withdrawn, edited.")
    comment(other, forum, plan, key, "A reply that stays.", parent=top)
    session.commit()
    sign_in(client, member)
    assert client.post(f"{base(forum)}/{top.id}/delete").status_code == 302
    session.expire_all()
    gone = session.get(Comment, top.id)
    assert gone.body == "" and gone.deleted_at is not None
    assert session.scalar(select(func.count()).select_from(CommentRevision)) == 0
    html = main_html(client.get(thread_path(forum, plan, key)))
    assert "This comment was deleted by its author." in html
    assert "To be withdrawn" not in html
    assert "A reply that stays." in html


# --- flags and moderation ---------------------------------------------------------------------


def test_each_member_flags_a_comment_once(client, session, forum, plan, key, member, other, make):
    written = comment(member, forum, plan, key)
    session.commit()
    moderation.flag_comment(other, written, "Insulting.")
    with pytest.raises(Conflict):
        moderation.flag_comment(other, written, "Again.")
    third = make.member(forum, locale="en").user
    sign_in(client, third)
    assert client.post(f"{base(forum)}/{written.id}/flag", data={"reason": ""}).status_code == 302
    assert client.post(f"{base(forum)}/{written.id}/flag", data={"reason": ""}).status_code == 409
    session.expire_all()
    assert session.get(Comment, written.id).flag_count == 2
    assert session.scalar(select(func.count()).select_from(CommentFlag)) == 2
    with pytest.raises(InvalidInput):
        moderation.flag_comment(member, written)  # not one's own


def test_the_database_refuses_a_second_flag(session, forum, plan, key, member, other):
    from sqlalchemy.exc import IntegrityError

    written = comment(member, forum, plan, key)
    moderation.flag_comment(other, written)
    session.commit()
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(CommentFlag(comment_id=written.id, user_id=other.id, reason=""))


def test_hiding_and_restoring_need_a_facilitator_and_a_reason(
    client, session, forum, plan, key, member, other, facilitator
):
    written = comment(member, forum, plan, key, "Rude words.")
    session.commit()
    with pytest.raises(PermissionDenied):
        moderation.hide_comment(other, written, "I dislike it.")
    sign_in(client, other)
    assert client.post(f"{base(forum)}/{written.id}/hide", data={"reason": "x"}).status_code == 403
    sign_in(client, facilitator)
    missing = client.post(f"{base(forum)}/{written.id}/hide", data={"reason": "  "})
    assert missing.status_code == 400
    with pytest.raises(InvalidInput):
        moderation.hide_comment(facilitator, written, "")
    response = client.post(f"{base(forum)}/{written.id}/hide", data={"reason": "Insults."})
    assert response.status_code == 302
    session.expire_all()
    hidden = session.get(Comment, written.id)
    assert (hidden.hidden_reason, hidden.hidden_by_id, hidden.body) == (
        "Insults.",
        facilitator.id,
        "Rude words.",
    )
    sign_in(client, other)
    assert client.post(f"{base(forum)}/{written.id}/restore").status_code == 403
    sign_in(client, facilitator)
    assert (
        client.post(f"{base(forum)}/{written.id}/restore", data={"reason": ""}).status_code == 302
    )
    session.expire_all()
    assert session.get(Comment, written.id).hidden_at is None
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "Comment", AuditEvent.object_id == written.id)
        .order_by(AuditEvent.id)
    ).all()
    assert [(e.action, e.actor_id) for e in events] == [
        ("comment.hidden", facilitator.id),
        ("comment.restored", facilitator.id),
    ]
    assert events[0].details["reason"] == "Insults."


def test_a_hidden_comment_is_invisible_to_members_and_shown_to_moderators(
    client, session, forum, plan, key, member, other, facilitator
):
    written = comment(member, forum, plan, key, "SECRET-TEXT of the comment.")
    services.edit_comment(member, written, "SECRET-TEXT, edited.")
    moderation.hide_comment(facilitator, written, "Personal data.")
    session.commit()
    for reader in (other, member):
        sign_in(client, reader)
        html = main_html(client.get(thread_path(forum, plan, key)))
        assert "This comment was hidden by the moderators." in html
        assert "SECRET-TEXT" not in html
        assert "Personal data." not in html
    sign_in(client, facilitator)
    html = main_html(client.get(thread_path(forum, plan, key)))
    assert "SECRET-TEXT, edited." in html and "SECRET-TEXT of the comment." in html
    assert "Personal data." in html and "Hidden from members" in html
    with pytest.raises(Conflict):
        services.edit_comment(member, written, "Trying to sneak back.")


def test_hidden_and_deleted_comments_cannot_be_answered(session, forum, plan, key, member, other):
    hidden = comment(member, forum, plan, key)
    moderation.hide_comment(None, hidden, "Spam.")
    deleted = comment(member, forum, plan, key)
    services.delete_comment(member, deleted)
    for parent in (hidden, deleted):
        with pytest.raises(Conflict):
            comment(other, forum, plan, key, parent=parent)


# --- hostile input ------------------------------------------------------------------------------


def test_script_vectors_in_comments_never_reach_the_page(
    client, make, session, forum, plan, key, member, facilitator
):
    hostile = make.member(forum, locale="en", name=XSS_NAME).user
    for payload in XSS_PAYLOADS:
        comment(hostile, forum, plan, key, payload)
    top = comment(member, forum, plan, key, f"Hello @[{XSS_NAME}]")
    comment(hostile, forum, plan, key, "[x](javascript:alert(1))", parent=top)
    hidden = comment(hostile, forum, plan, key, "<img src=x onerror=alert(2)>")
    moderation.hide_comment(facilitator, hidden, '"><svg onload=alert(3)> <script>x</script>')
    session.commit()
    assert notifications(session, hostile, "mention")
    for reader in (member, facilitator, hostile):
        sign_in(client, reader)
        response = client.get(thread_path(forum, plan, key))
        assert response.status_code == 200
        html = main_html(response)
        assert_safe_html(html, allowed_tags={"form"})
        assert "&#34;&gt;&lt;svg onload=alert(1)&gt;" in html  # the name, escaped
    html = main_html(client.get(thread_path(forum, plan, key, fragment=1)))
    assert_safe_html(html, allowed_tags={"form"})


def test_a_nul_byte_is_refused_with_the_text_kept(client, session, forum, plan, key, member):
    sign_in(client, member)
    response = post(client, forum, plan, key, "Before\x00after the NUL.")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Beforeafter the NUL." in html and "\x00" not in html
    assert "NUL character" in html
    assert comment_count(session) == 0
    with pytest.raises(InvalidInput):
        comment(member, forum, plan, key, "Before\x00after.")


def test_a_megabyte_comment_is_refused_with_the_text_kept(
    client, session, forum, plan, key, member
):
    sign_in(client, member)
    body = ("Un texto muy largo. " * 52_500)[:1_000_000]
    response = post(client, forum, plan, key, body, alignment="against")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert body.rstrip() in html
    assert "at most 20000 characters" in html
    assert 'value="against" checked' in html
    assert comment_count(session) == 0
    with pytest.raises(InvalidInput):
        comment(member, forum, plan, key, body)


def test_an_empty_reply_is_shown_again_open_under_its_comment(
    client, session, forum, plan, key, member, other
):
    top = comment(member, forum, plan, key)
    session.commit()
    sign_in(client, other)
    response = post(client, forum, plan, key, "   ", parent_id=top.id)
    assert response.status_code == 400
    html = main_html(response)
    reply_form = html.split(f'id="comment-{top.id}"', 1)[1]
    assert '<details class="comment-action" open>' in reply_form
    assert "Please write your comment." in reply_form
    assert comment_count(session) == 1


@pytest.mark.parametrize(
    "query",
    [
        "target_type=node&plan_id=abc&target_key=k",
        "target_type=<script>&plan_id=1&target_key=k",
        "target_type=node&plan_id=1&target_key=%00",
        "target_type=node&plan_id=1&target_key=" + "k" * 41,
        "target_type=node&plan_id=1&target_key=k&page=abc",
        "target_type=node&plan_id=1&target_key=k&page=-1",
        "target_type=node&plan_id=99999999999&target_key=k",
    ],
)
def test_bad_thread_parameters_are_refused(client, forum, plan, member, query):
    sign_in(client, member)
    assert client.get(f"{base(forum)}/thread?{query}").status_code == 400


def test_a_page_number_past_the_end_is_clamped(client, forum, plan, key, member):
    sign_in(client, member)
    assert client.get(thread_path(forum, plan, key, page=999999)).status_code == 200


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)"]
)
def test_after_posting_only_local_next_addresses_are_followed(
    client, forum, plan, key, member, target
):
    sign_in(client, member)
    response = post(client, forum, plan, key, "Fine.", next=target)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert "evil" not in location and "javascript" not in location
    assert location.startswith("/") and not location.startswith("//")


def test_extra_fields_are_ignored(client, session, forum, plan, key, member, other):
    sign_in(client, member)
    post(
        client,
        forum,
        plan,
        key,
        "Plain.",
        author_id=other.id,
        flag_count=99,
        hidden_at="2020-01-01",
        depth=3,
        forum_id=999,
    )
    stored = session.scalars(select(Comment)).one()
    assert (stored.author_id, stored.flag_count, stored.hidden_at, stored.depth) == (
        member.id,
        0,
        None,
        0,
    )


# --- pages -----------------------------------------------------------------------------


def _bulk_thread(session, forum, plan, key, author, top_level: int, replies_each: int):
    start = utcnow() - timedelta(days=1)
    tops = [
        Comment(
            forum_id=forum.id,
            plan_id=plan.id,
            target_type="node",
            target_key=key,
            depth=0,
            author_id=author.id,
            body=f"Comment **{n}**",
            alignment="neutral",
            language="en",
            flag_count=0,
            created_at=start + timedelta(seconds=n),
        )
        for n in range(top_level)
    ]
    session.add_all(tops)
    session.flush()
    replies = [
        Comment(
            forum_id=forum.id,
            plan_id=plan.id,
            target_type="node",
            target_key=key,
            parent_id=top.id,
            root_id=top.id,
            depth=1,
            author_id=author.id,
            body=f"Reply {m}",
            alignment="in_favour",
            language="en",
            flag_count=0,
            created_at=top.created_at + timedelta(milliseconds=m + 1),
        )
        for top in tops
        for m in range(replies_each)
    ]
    session.add_all(replies)
    session.flush()
    services.edit_comment(author, tops[0], "Comment 0, edited.")
    session.commit()


def test_a_thread_page_costs_the_same_statements_for_20_or_2000_comments(
    app, client, session, forum, plan, member, other, pages_built_each_time
):
    small_key = plans.find_node(plan.current_version, "1.1").key
    large_key = plans.find_node(plan.current_version, "1.2").key
    _bulk_thread(session, forum, plan, small_key, other, top_level=5, replies_each=3)
    _bulk_thread(session, forum, plan, large_key, other, top_level=500, replies_each=3)
    assert queries.counts(plan)[large_key]["total"] == 2000
    sign_in(client, member)
    counts = []
    for path in (thread_path(forum, plan, small_key), thread_path(forum, plan, large_key)):
        with count_statements(app) as counter:
            response = client.get(path)
        assert response.status_code == 200
        counts.append(counter["n"])
    assert counts[0] == counts[1]
    html = main_html(response)
    assert html.count('class="comment comment-depth-0') == threads.DEFAULT_PER_PAGE
    assert html.count('class="comment comment-depth-1') == 3 * threads.DEFAULT_PER_PAGE
    pages = -(-500 // threads.DEFAULT_PER_PAGE)
    assert "Load more comments" in html and f"Page 1 of {pages}" in html
    last = main_html(client.get(thread_path(forum, plan, large_key, page=pages)))
    assert "Comment <strong>499</strong>" in last and "Load more comments" not in last


def test_a_comment_link_leads_to_the_page_that_shows_it(
    client, session, forum, plan, key, member, other
):
    _bulk_thread(session, forum, plan, key, other, top_level=60, replies_each=0)
    last = session.scalars(
        select(Comment).where(Comment.target_key == key).order_by(Comment.id.desc())
    ).first()
    reply = comment(member, forum, plan, key, "Late reply.", parent=last)
    session.commit()
    sign_in(client, member)
    response = client.get(f"{base(forum)}/{reply.id}")
    assert response.status_code == 302
    location = response.headers["Location"]
    last_page = -(-60 // threads.DEFAULT_PER_PAGE)
    assert last_page > 1
    assert f"page={last_page}" in location and location.endswith(f"#comment-{reply.id}")
    assert "Late reply." in main_html(client.get(location.split("#")[0]))


def test_the_thread_fragment_has_no_layout(client, forum, plan, key, member):
    comment(member, forum, plan, key, "In the fragment.")
    db.session.commit()
    sign_in(client, member)
    html = client.get(thread_path(forum, plan, key, fragment=1)).get_data(as_text=True)
    assert "In the fragment." in html and "<html" not in html


def test_thread_pages_have_no_inline_scripts_or_styles(client, session, forum, plan, key, member):
    comment(member, forum, plan, key, "Styled?")
    session.commit()
    sign_in(client, member)
    html = client.get(thread_path(forum, plan, key)).get_data(as_text=True)
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)
    assert " style=" not in html and "<style" not in html


# --- other targets ------------------------------------------------------------------------------


def test_submitted_amendments_are_discussed_and_drafts_stay_private(
    client, session, forum, plan, key, member, other
):
    amendments = pytest.importorskip("consult.amendments.proposing")
    submitted = amendments.propose(
        member, plan, target=key, operation="replace", text="Otro texto.", submit=True
    )
    draft = amendments.propose(member, plan, target=key, operation="replace", text="Borrador.")
    session.commit()
    written = services.post_comment(
        other,
        forum,
        plan=plan,
        target_type="amendment",
        target_key=str(submitted.id),
        body="Agreed.",
        alignment="in_favour",
    )
    session.commit()
    assert queries.counts_for("amendment", plan, str(submitted.id))["in_favour"] == 1
    assert queries.counts(plan) == {}  # amendments are not items
    sign_in(client, member)
    path = f"{base(forum)}/thread?target_type=amendment&plan_id={plan.id}&target_key="
    assert "Agreed." in main_html(client.get(path + str(submitted.id)))
    with pytest.raises(Conflict):  # a draft is not under discussion yet
        services.post_comment(
            member,
            forum,
            plan=plan,
            target_type="amendment",
            target_key=str(draft.id),
            body="Note to self.",
        )
    assert client.get(path + str(draft.id)).status_code == 200  # its author may read
    sign_in(client, other)
    assert client.get(path + str(draft.id)).status_code == 404
    with pytest.raises(NotFound):
        services.post_comment(
            other,
            forum,
            plan=plan,
            target_type="amendment",
            target_key=str(draft.id),
            body="Peeking.",
        )
    assert client.get(f"{base(forum)}/{written.id}").status_code == 302


def test_a_thread_page_reads_the_readers_membership_once(
    app, client, session, forum, plan, key, member
):
    comment(member, forum, plan, key, "Read once.")
    forum.is_public = False  # the forum's page checks that the reader is a member, too
    session.commit()
    sign_in(client, member)
    seen = []

    def record(_connection, _cursor, statement, *_args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(thread_path(forum, plan, key))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code == 200 and "Read once." in response.get_data(as_text=True)
    assert sum("FROM memberships" in statement for statement in seen) == 1
    # Memberships are not remembered past the request: a reader removed from a
    # private forum is refused on the next one.
    forum_members.remove_membership(None, forum_permissions.membership_of(member, forum))
    session.commit()
    assert client.get(thread_path(forum, plan, key)).status_code == 404
