"""The test kit itself: each factory makes, through the services, an object
the application accepts; the shared fixtures are what their names say; and
each test's writes are rolled back before the next one."""

from sqlalchemy import select

from consult.accounts import services as accounts
from consult.accounts.models import User
from consult.consultations import services as consultations
from consult.extensions import db
from consult.plans import services as plans
from consult.votes import casting as votes_casting
from tests.factories import SHORT_PLAN, STRUCTURED

ROLLBACK_PROBE = "rollback-probe@example.org"


def test_a_test_writes_a_user(make, session):
    make.user(ROLLBACK_PROBE)
    assert session.scalar(select(User).where(User.email == ROLLBACK_PROBE)) is not None


def test_the_next_test_does_not_see_it(session):
    """Run after the test above (pytest keeps a module's order unless randomised;
    either way, no test may find the other's user)."""
    assert session.scalar(select(User).where(User.email == ROLLBACK_PROBE)) is None


def test_the_shared_fixtures(forum, facilitator, member, plan):
    assert forums_role(forum, facilitator) == "facilitator"
    assert forums_role(forum, member) == "member"
    assert member.locale == facilitator.locale == "en"
    assert plan.forum_id == forum.id and plan.open_for_input
    assert plans.get_version(plan).number == 1
    assert plans.find_node(plan.current_version, "1.1").text  # the structured plan


def forums_role(forum, user):
    from consult.forums.models import Membership

    return db.session.scalar(
        select(Membership.role).where(
            Membership.forum_id == forum.id, Membership.user_id == user.id
        )
    )


def test_password_hashing_is_cheap_unless_asked(make):
    user = make.user()
    assert user.password_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert accounts.password_matches(user, "correct horse battery staple")


def test_production_password_hashing_is_the_applications(make, production_password_hashing):
    params = accounts.PASSWORD_HASH_PARAMETERS
    prefix = f"$argon2id$v=19$m={params['memory_cost']},t={params['time_cost']},"
    assert make.user().password_hash.startswith(prefix)


def test_plan_and_version(make, forum):
    plan = make.plan(forum, SHORT_PLAN, open_for_input=False)
    assert not plan.open_for_input
    version = make.version(plan, ref="2", text="The second item, revised.")
    assert plans.get_version(plan).number == version.number == 2
    assert plans.find_node(version, "2").text == "The second item, revised."
    assert plans.find_node(plans.get_version(plan, 1), "2").text == "Second item."


def test_amendment_submitted_or_admitted(make, forum, facilitator, member):
    plan = make.plan(forum, STRUCTURED)
    draft = make.amendment(plan, member, ref="1.1", submit=False)
    admitted = make.amendment(plan, member, ref="1.1", admitted_by=facilitator)
    assert (draft.status, admitted.status) == ("draft", "admitted")
    assert admitted.target_ref == "1.1"


def test_consultation_with_phases(make, plan):
    consultation = make.consultation(plan, advance=True)
    assert consultations.consultation_of(plan).id == consultation.id
    assert [phase.kind for phase in consultation.phases] == ["amendments"]


def test_polls_on_the_plan_and_on_an_amendment(make, forum, facilitator, member):
    plan = make.plan(forum, SHORT_PLAN)
    delegate = make.delegate(forum, "2", locale="en")
    on_plan = make.poll(plan, facilitator)
    assert (on_plan.subject, on_plan.scope, on_plan.state) == ("plan", "assembly", "open")
    group = make.group(forum)
    make.member(forum, groups=[group], locale="en")
    amendment = make.amendment(plan, member, ref="1", admitted_by=facilitator)
    on_amendment = make.poll(plan, facilitator, amendment=amendment, group=group, opened=False)
    assert (on_amendment.subject, on_amendment.scope, on_amendment.state) == (
        "amendment",
        "group",
        "draft",
    )
    votes_casting.cast(delegate, on_plan, "yes")


def test_a_thread_of_replies(make, forum, facilitator, member, plan):
    first, reply, answer = make.thread(plan, [member, facilitator, member], ref="1.1")
    assert first.parent_id is None
    assert (reply.parent_id, answer.parent_id) == (first.id, reply.id)
    assert {c.target_key for c in (first, reply, answer)} == {
        plans.find_node(plan.current_version, "1.1").key
    }
