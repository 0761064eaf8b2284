"""Threads on a consultation as a whole (issue 15): members ask about the
process and take general positions in the same threads as on the plan's
items, with the same moderation and notifications, while the consultation's
own phases allow comments."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from consult.comments import moderation, threads
from consult.comments import services as comments
from consult.comments.models import Comment
from consult.consultations import scheduler as phase_scheduler
from consult.consultations import services
from consult.consultations.services import PhaseInput
from consult.errors import Conflict, PermissionDenied
from consult.notifications.models import Notification
from tests.factories import STRUCTURED, sign_in

pytestmark = pytest.mark.usefixtures("english")

T0 = datetime(2027, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def plan(make, forum):
    """Not open for input: the consultation's phases decide."""
    return make.plan(forum, STRUCTURED, open_for_input=False)


@pytest.fixture
def consultation(session, plan, facilitator):
    """Comments in December (amendments), none in the assembly phase after."""
    made = services.create_consultation(
        facilitator,
        plan,
        title="Consulta 2028",
        timezone="America/Bogota",
        phases=[
            PhaseInput("amendments", T0, T0 + 30 * DAY),
            PhaseInput("assembly", T0 + 30 * DAY, T0 + 40 * DAY),
        ],
    )
    phase_scheduler.advance_due(T0 + DAY)
    session.commit()
    return made


def write(actor, consultation, body, parent=None):
    return comments.post_comment(
        actor,
        consultation.forum,
        plan=consultation.plan,
        target_type="consultation",
        target_key=str(consultation.id),
        body=body,
        parent=parent,
    )


def page_url(consultation):
    return f"/forums/{consultation.forum.slug}/consultations/{consultation.id}"


def form(consultation, body, **fields):
    return {
        "target_type": "consultation",
        "plan_id": consultation.plan_id,
        "target_key": str(consultation.id),
        "body": body,
        "alignment": "neutral",
        **fields,
    }


def test_a_member_writes_and_replies_on_the_consultation_page(
    client, session, make, forum, consultation, member
):
    other = make.member(forum, locale="en", name="Bruno Costa").user
    sign_in(client, member)
    response = client.post(
        f"/forums/{forum.slug}/comments/",
        data=form(consultation, "When are the assemblies **held**?"),
    )
    assert response.status_code == 302
    question = session.scalar(select(Comment).where(Comment.target_type == "consultation"))
    # Back on the consultation page, at the comment.
    assert response.headers["Location"].endswith(f"{page_url(consultation)}#comment-{question.id}")
    assert question.plan_id == consultation.plan_id
    reply = write(other, consultation, "In February.", parent=question)
    session.commit()
    html = client.get(page_url(consultation)).get_data(as_text=True)
    assert "Questions and discussion" in html
    assert html.count('id="discussion"') == 1  # once, in the page's body
    assert "<title>Consulta 2028 · Consult</title>" in html
    assert "When are the assemblies <strong>held</strong>?" in html
    assert f'id="comment-{reply.id}"' in html
    assert 'name="target_type" value="consultation"' in html  # the form to start a thread


def test_the_thread_is_linked_from_the_plans_pages(client, session, consultation, member):
    sign_in(client, member)
    plan = consultation.plan
    html = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/").get_data(as_text=True)
    assert f'{page_url(consultation)}#discussion"' in html


def test_a_reply_and_a_mention_notify(session, make, forum, consultation, member):
    other = make.member(forum, locale="en", name="Bruno Costa").user
    question = write(member, consultation, "Who chairs the assembly?")
    answer = write(other, consultation, "The facilitator.", parent=question)
    write(member, consultation, "Thanks, @[Bruno Costa].")
    session.commit()
    [note] = session.scalars(
        select(Notification).where(
            Notification.user_id == member.id, Notification.kind == "comment_reply"
        )
    ).all()
    assert (note.object_id, note.data["target_type"]) == (answer.id, "consultation")
    mentioned = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == other.id, Notification.kind == "mention")
    )
    assert mentioned == 1


def test_the_notifications_link_leads_to_the_comment_on_the_consultation_page(
    client, session, make, forum, consultation, member
):
    other = make.member(forum, locale="en").user
    answer = write(other, consultation, "Yes.", parent=write(member, consultation, "Open?"))
    session.commit()
    sign_in(client, member)
    thread = client.get(f"/forums/{forum.slug}/comments/{answer.id}")
    assert thread.status_code == 302
    page = client.get(thread.headers["Location"])
    assert page.status_code == 200
    assert "Back to the consultation" in page.get_data(as_text=True)
    assert f'href="{page_url(consultation)}#discussion"' in page.get_data(as_text=True)


def test_moderators_hide_and_members_no_longer_read_it(
    client, session, forum, consultation, member, facilitator
):
    rude = write(member, consultation, "Something rude.")
    session.commit()
    sign_in(client, facilitator)
    response = client.post(
        f"/forums/{forum.slug}/comments/{rude.id}/hide", data={"reason": "Insults."}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{page_url(consultation)}#comment-{rude.id}")
    assert "Something rude." in client.get(page_url(consultation)).get_data(as_text=True)
    client.get("/sign-out")
    sign_in(client, member)
    html = client.get(page_url(consultation)).get_data(as_text=True)
    assert "Something rude." not in html
    session.refresh(rude)
    assert rude.hidden_reason == "Insults."
    moderation.restore_comment(facilitator, rude)
    session.commit()
    assert "Something rude." in client.get(page_url(consultation)).get_data(as_text=True)


def test_an_observer_is_refused_with_the_reason(client, session, make, forum, consultation):
    observer = make.member(forum, role="observer", locale="en").user
    with pytest.raises(PermissionDenied, match="Observers can read"):
        write(observer, consultation, "Hello.")
    sign_in(client, observer)
    html = client.get(page_url(consultation)).get_data(as_text=True)
    assert "Observers can read the comments but cannot write them." in html
    assert 'name="target_type" value="consultation"' not in html
    response = client.post(f"/forums/{forum.slug}/comments/", data=form(consultation, "Hi."))
    assert response.status_code == 403
    assert session.scalar(select(func.count()).select_from(Comment)) == 0


def test_outside_a_phase_with_comments_the_writer_is_told_when_they_closed(
    client, session, forum, consultation, member
):
    phase_scheduler.advance_due(T0 + 31 * DAY)  # the assembly phase: no comments
    session.commit()
    with pytest.raises(Conflict, match="Comments closed on"):
        write(member, consultation, "Too late?")
    sign_in(client, member)
    response = client.post(
        f"/forums/{forum.slug}/comments/", data=form(consultation, "My text, kept.")
    )
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Comments closed on" in html and "My text, kept." in html
    assert session.scalar(select(func.count()).select_from(Comment)) == 0


def test_before_the_first_phase_the_writer_is_told_when_comments_open(
    session, plan, facilitator, member
):
    later = services.create_consultation(
        facilitator, plan, title="Later", phases=[PhaseInput("proposals", T0, T0 + DAY)]
    )
    with pytest.raises(Conflict, match="Comments open on"):
        write(member, later, "Already?")


def test_a_consultation_of_another_forum_is_not_found(client, session, make, consultation):
    elsewhere = make.forum()
    stranger = make.member(elsewhere, locale="en").user
    sign_in(client, stranger)
    response = client.get(
        f"/forums/{elsewhere.slug}/comments/thread",
        query_string={"target_type": "consultation", "target_key": str(consultation.id)},
    )
    assert response.status_code == 404
    response = client.get(
        f"/forums/{elsewhere.slug}/comments/thread",
        query_string={"target_type": "consultation", "target_key": "nope"},
    )
    assert response.status_code == 404


# Who gets what on the consultation's thread routes (the rows of
# tests/test_authorization.py's matrix, for this kind of target).
ROLES = {
    "anonymous": (404, 302),  # a private forum: hidden; posting asks to sign in
    "outsider": (404, 404),
    "observer": (200, 403),
    "member": (200, 302),
    "facilitator": (200, 302),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_and_writes_the_consultation_thread(
    client, session, make, forum, consultation, role
):
    user = {
        "anonymous": None,
        "outsider": make.member(make.forum(), locale="en").user if role == "outsider" else None,
        "observer": make.member(forum, role="observer").user if role == "observer" else None,
        "member": make.member(forum).user if role == "member" else None,
        "facilitator": make.facilitator(forum) if role == "facilitator" else None,
    }[role]
    session.commit()
    if user is not None:
        sign_in(client, user)
    read, post = ROLES[role]
    thread = client.get(
        f"/forums/{forum.slug}/comments/thread",
        query_string={
            "target_type": "consultation",
            "plan_id": consultation.plan_id,
            "target_key": str(consultation.id),
        },
    )
    assert thread.status_code == read
    assert client.get(page_url(consultation)).status_code == read
    posted = client.post(f"/forums/{forum.slug}/comments/", data=form(consultation, "Hi."))
    assert posted.status_code == post
    if role == "anonymous":
        assert "/sign-in" in posted.headers["Location"]


def test_the_consultation_page_reads_its_thread_in_constant_statements(
    client, session, make, forum, consultation, member, count_statements, pages_built_each_time
):
    sign_in(client, member)

    def statements() -> int:
        with count_statements() as seen:
            assert client.get(page_url(consultation)).status_code == 200
        return len(seen)

    first = write(member, consultation, "One.")
    session.commit()
    few = statements()
    for n in range(6):
        author = make.member(forum).user
        write(author, consultation, f"Reply {n}.", parent=first)
        write(author, consultation, f"Thread {n}.")
    session.commit()
    assert statements() == few


def test_the_thread_page_names_the_consultation(client, session, forum, consultation, member):
    write(member, consultation, "A question.")
    session.commit()
    sign_in(client, member)
    page = threads.thread(member, forum, None, "consultation", str(consultation.id))
    assert page.target.plan_id == consultation.plan_id and page.total == 1
    html = client.get(
        f"/forums/{forum.slug}/comments/thread",
        query_string={"target_type": "consultation", "target_key": str(consultation.id)},
    ).get_data(as_text=True)
    assert re.search(r"Comments on the consultation “Consulta 2028”", html)


def test_the_api_reads_and_writes_the_consultation_thread(
    client, session, forum, consultation, member
):
    from tests.test_api import bearer, token_for

    secret = token_for(session, member)
    target = {"target_type": "consultation", "target_key": str(consultation.id)}
    posted = client.post(
        f"/api/v1/forums/{forum.slug}/comments",
        json={**target, "body": "Is there a session online?"},
        headers=bearer(secret),
    )
    assert posted.status_code == 201
    listed = client.get(
        f"/api/v1/forums/{forum.slug}/comments", query_string=target, headers=bearer(secret)
    ).get_json()
    assert [item["body"] for item in listed["items"]] == ["Is there a session online?"]
    assert listed["can_post"] is True and listed["closed_reason"] is None
