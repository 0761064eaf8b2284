"""The assembly's pages: calling a session, the session page and its agenda
editor, the chair's console, the projector and the phones; what each reader is
offered, one POST per action, and fragments whose cost does not grow with the
agenda or the room."""

from datetime import timedelta

import pytest
from redis import Redis
from sqlalchemy import select

from consult.assembly import agenda, points, presence, queries, speakers
from consult.assembly.models import AssemblySession
from consult.audit.models import AuditEvent
from consult.database import utcnow
from tests import test_assembly_sessions as sessions_tests
from tests.factories import sign_in
from tests.test_assembly_sessions import call_session, in_assembly_phase, started, to_assembly

world = sessions_tests.world  # the fixture: a forum, its delegates, chair and plan

pytestmark = pytest.mark.usefixtures("english")


def client_of(app, user):
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(client, user)
    return client


def url(assembly, tail=""):
    return f"/forums/{assembly.forum.slug}/assembly/{assembly.id}{tail}"


def page(client, path, status=200):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response.get_data(as_text=True)


def post(client, path, data=None, status=302):
    response = client.post(path, data=data or {})
    assert response.status_code == status, response.get_data(as_text=True)[:800]
    return response


# --- calling a session ------------------------------------------------------------------


def test_a_facilitator_calls_a_session_from_the_consultation(app, make, session, world):
    to_assembly(make, world, "1")
    consultation = in_assembly_phase(make, world)
    facilitator = client_of(app, world.facilitator)
    base = f"/forums/{world.forum.slug}/consultations/{consultation.id}"
    assert "Assembly sessions" in page(facilitator, base)
    listing = page(facilitator, base + "/assembly")
    assert "Call a session" in listing
    form = page(facilitator, base + "/assembly/new")
    assert "Rules of the votes" in form
    response = post(
        facilitator,
        base + "/assembly/new",
        {
            "title": "Plenary",
            "starts_at": "2026-12-10T09:00",
            "place": "Hall A",
            "chair_id": str(world.chair.id),
            "default_speaking_seconds": "120",
            "amendment_rule": "simple",
            "approval_rule": "two_thirds",
            "ranked_method": "schulze",
            "quorum_kind": "share",
            "quorum_value": "0.5",
            "quorum_base": "present",
            "secret": "y",
            "max_proxies": "1",
        },
    )
    created = session.scalar(select(AssemblySession).where(AssemblySession.title == "Plenary"))
    assert response.headers["Location"].endswith(url(created))
    assert created.chair_id == world.chair.id and created.approval_rule == "two_thirds"
    shown = page(facilitator, url(created))
    assert f"Amendment {world.plan.short_name} E" in shown and "Approval of the plan" in shown

    member = client_of(app, world.delegates[0])
    assert "Call a session" not in page(member, base + "/assembly")
    page(member, base + "/assembly/new", status=403)


# --- who is offered what ------------------------------------------------------------------


def test_chair_actions_are_refused_and_hidden_for_delegates(app, make, session, world):
    to_assembly(make, world, "1")
    assembly = call_session(world)
    session.commit()
    delegate = client_of(app, world.delegates[0])
    shown = page(delegate, url(assembly))
    assert "Open the session" not in shown and "Move down" not in shown
    assert "Chair&#39;s console" not in shown and "Chair's console" not in shown
    page(delegate, url(assembly, "/console"), status=403)
    page(delegate, url(assembly, "/console/live"), status=403)
    for tail in ("/start", "/move-on", "/vote/open", "/speakers/next", "/adjourn"):
        post(delegate, url(assembly, tail), {"back": "console"}, status=403)
    post(delegate, url(assembly, "/points"), {"title": "Mine"}, status=403)

    chair = client_of(app, world.chair)
    shown = page(chair, url(assembly))
    assert "Open the session" in shown and "Chair" in shown
    post(chair, url(assembly, "/start"))
    session.expire_all()
    assert assembly.current_point_id is not None
    console = page(chair, url(assembly, "/console"))
    assert "Open the vote" in console and 'data-live-channel="assembly:' in console
    assert session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "assembly.started", AuditEvent.actor_id == world.chair.id
        )
    )


def test_observers_follow_without_buttons(app, make, session, world):
    assembly = started(session, world)
    observer = client_of(app, world.observer)
    phone = page(observer, url(assembly, "/phone"))
    assert "Check in" not in phone and "Ask to speak" not in phone
    assert "Approval of the plan" in phone
    projector = page(observer, url(assembly, "/projector"))
    assert "site-header" not in projector and "Approval of the plan" in projector
    post(observer, url(assembly, "/check-in"), {"back": "phone"}, status=403)
    post(observer, url(assembly, "/speakers/ask"), {"side": "for", "back": "phone"}, status=403)


def test_strangers_see_nothing_of_a_private_forum(app, make, session, world):
    assembly = started(session, world)
    stranger = client_of(app, make.user(locale="en"))
    for tail in ("", "/projector", "/phone", "/phone/live", "/projector/live"):
        page(stranger, url(assembly, tail), status=404)


def test_a_delegate_checks_in_and_asks_to_speak_from_the_phone(app, make, session, world):
    assembly = started(session, world)
    delegate = client_of(app, world.delegates[0])
    phone = page(delegate, url(assembly, "/phone"))
    assert "Check in" in phone and "Ask to speak" not in phone
    response = post(delegate, url(assembly, "/check-in"), {"back": "phone"})
    assert response.headers["Location"].endswith(url(assembly, "/phone"))
    phone = page(delegate, url(assembly, "/phone"))
    assert "Check out" in phone and "Ask to speak" in phone
    post(delegate, url(assembly, "/speakers/ask"), {"side": "order", "back": "phone"})
    phone = page(delegate, url(assembly, "/phone/live"))
    assert "Your place in the queue: 1" in phone and "Withdraw my request" in phone
    assert "Point of order" in page(delegate, url(assembly, "/projector/live"))

    chair = client_of(app, world.chair)
    post(chair, url(assembly, "/speakers/next"), {"back": "console"})
    console = page(chair, url(assembly, "/console/live"))
    assert "data-countdown-until=" in console and "End this speech" in console
    post(chair, url(assembly, "/speakers/time"), {"seconds": "90", "back": "console"})
    post(
        chair,
        url(assembly, "/presence/mark"),
        {"user_id": str(world.delegates[1].id), "present": "1", "back": "console"},
    )
    assert queries.presence(assembly).present == 2


def test_a_vote_on_the_phone_with_a_proxy(app, make, session, world):
    to_assembly(make, world, "2")
    assembly = started(session, world)
    ana, bruno, _carla = world.delegates
    for delegate in world.delegates:
        presence.check_in(delegate, assembly)
    point = queries.current_point(assembly)
    poll = points.open_vote(world.chair, point)
    session.commit()

    giver = client_of(app, ana)
    phone = page(giver, url(assembly, "/phone"))
    assert "Cast my vote" in phone and "Hand my vote" in phone
    assert "Ballots cast: 0 of 4" in phone
    post(giver, url(assembly, "/proxy"), {"holder": str(bruno.id), "back": "phone"})

    holder = client_of(app, bruno)
    phone = page(holder, url(assembly, "/phone"))
    assert "Vote on behalf of Ana" in phone
    response = holder.post(
        f"/forums/{world.forum.slug}/polls/{poll.id}/vote",
        data={"choice": "yes", "on_behalf_of": str(ana.id)},
    )
    assert response.status_code == 200 and "receipt" in response.get_data(as_text=True)
    holder.post(f"/forums/{world.forum.slug}/polls/{poll.id}/vote", data={"choice": "yes"})
    phone = page(holder, url(assembly, "/phone/live"))
    assert "Your vote has been recorded" in phone
    projector = page(holder, url(assembly, "/projector/live"))
    assert "Ballots cast: 2 of 4" in projector and "Result" not in projector

    chair = client_of(app, world.chair)
    post(chair, url(assembly, "/vote/close"), {"back": "console"})
    projector = page(holder, url(assembly, "/projector/live"))
    assert "Result: Yes" in projector


def test_the_chair_edits_the_agenda_on_the_session_page(app, make, session, world):
    to_assembly(make, world, "1")
    assembly = call_session(world)
    session.commit()
    chair = client_of(app, world.chair)
    post(chair, url(assembly, "/points"), {"title": "Report of the secretariat", "after": ""})
    added = queries.points(assembly)[-1]
    assert added.title == "Report of the secretariat"
    post(chair, url(assembly, f"/points/{added.id}/move"), {"direction": "up"})
    session.expire_all()
    assert queries.points(assembly)[-2].id == added.id
    added_id = added.id
    post(chair, url(assembly, f"/points/{added_id}/remove"))
    session.expire_all()
    assert added_id not in [p.id for p in queries.points(assembly)]


# --- what the live fragments cost --------------------------------------------------------


def grow(make, session, world, assembly, n):
    """``n`` more points, delegates present and speakers waiting."""
    for index in range(n):
        agenda.add_point(world.chair, assembly, f"Report {index}")
        delegate = make.delegate(world.forum, locale="en", coalition=world.coalitions[index % 2])
        presence.check_in(delegate, assembly)
        speakers.ask(delegate, assembly, "for", now=utcnow() + timedelta(seconds=index))
    session.commit()


@pytest.mark.parametrize("tail", ["/console/live", "/projector/live", "/phone/live"])
def test_live_fragments_cost_the_same_whatever_the_room(
    app, make, session, world, count_statements, tail, pages_built_each_time
):
    to_assembly(make, world, "1")
    to_assembly(make, world, "1", author=world.delegates[1])
    assembly = started(session, world)
    presence.check_in(world.delegates[0], assembly)
    points.open_vote(world.chair, queries.current_point(assembly))
    session.commit()
    reader = client_of(app, world.chair)
    grow(make, session, world, assembly, 2)
    path = url(assembly, tail)
    page(reader, path)
    with count_statements() as few:
        page(reader, path)
    grow(make, session, world, assembly, 6)
    with count_statements() as many:
        page(reader, path)
    assert len(many) == len(few), "\n".join(
        s[:150].replace("\n", " ") for s in [*many, "-----", *few]
    )


# --- live -------------------------------------------------------------------------------


def events_after(app, channel, last_id):
    from consult import live

    with app.app_context():
        return [event["kind"] for event in live.store().after(channel, last_id)]


@pytest.fixture(params=["memory", "redis"])
def live_log(request, app, monkeypatch):
    """The session's events in this process's memory, or on a real Redis."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    monkeypatch.setitem(app.config, "REDIS_URL", url)
    return url


def test_each_action_publishes_one_event_once_committed(app, make, session, world, live_log):
    from consult import live

    assembly = started(session, world)
    channel = f"assembly:{assembly.id}"
    if live_log:  # what an earlier run left on this channel is not this test's
        Redis.from_url(live_log).delete(f"live:{channel}")
    with app.app_context():
        start = live.last_id(channel)
    delegate = client_of(app, world.delegates[0])
    post(delegate, url(assembly, "/check-in"), {"back": "phone"})
    post(delegate, url(assembly, "/speakers/ask"), {"side": "for", "back": "phone"})
    post(delegate, url(assembly, "/move-on"), {"back": "console"}, status=403)
    chair = client_of(app, world.chair)
    post(chair, url(assembly, "/speakers/next"), {"back": "console"})
    post(chair, url(assembly, "/move-on"), {"back": "console"})
    post(chair, url(assembly, "/move-on"), {"back": "console"})  # refused: the agenda is done
    assert events_after(app, channel, start) == ["presence", "speakers", "speakers", "point"]
    assert page(delegate, url(assembly, "/phone/live")).count("No point is on the floor.") == 1


def test_anyone_follows_a_public_forums_session(app, client, make, session):
    from consult.assembly import sessions as assembly_sessions

    forum = make.forum(public=True)
    facilitator = make.facilitator(forum, locale="en")
    make.delegate(forum, locale="en")
    plan = make.plan(forum, sessions_tests.PLAN)
    consultation = make.consultation(plan)
    assembly = assembly_sessions.create_session(
        facilitator,
        consultation,
        assembly_sessions.SessionInput(title="Open session", starts_at=utcnow()),
    )
    session.commit()
    for tail in ("", "/projector", "/projector/live", "/phone", "/phone/live"):
        shown = page(client, url(assembly, tail))
        assert "Check in" not in shown and "Open the session" not in shown
    assert client.get(url(assembly, "/console")).status_code == 302  # to the sign-in page
    assert client.post(url(assembly, "/check-in")).status_code == 302
