"""Amendments people can name (issue 15): a plan's short name, unique in its
forum, makes an amendment's identifier across the forum ("PA-2026 E2 · 4.1"),
used wherever an amendment is named to people; lists show the change."""

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from flask_migrate import upgrade
from sqlalchemy import select

from consult.amendments import excerpts, lifecycle, plan_settings, supports
from consult.comments import services as comments
from consult.errors import InvalidInput
from consult.notification_delivery.wording import describe
from consult.notifications.models import Notification
from consult.plans import services as plans
from consult.plans import short_names
from tests.conftest import fresh_database, make_app
from tests.factories import outbox, sign_in

pytestmark = pytest.mark.usefixtures("english")

PLAN_2026 = "Plan de Acción 2026\n\n1. Primer punto.\n\n2. Segundo punto.\n"
PLAN_2030 = "Agenda Cultural 2030\n\n1. Primer punto.\n\n2. Segundo punto.\n"


@pytest.fixture
def two_plans(make, forum):
    """Two plans of one forum, each with an E1 to its item 1."""
    first = make.plan(forum, PLAN_2026)
    second = make.plan(forum, PLAN_2030)
    return first, second


def settings_url(forum, plan):
    return f"/forums/{forum.slug}/plans/{plan.id}/settings"


SETTINGS = {"open_for_input": "y", "support_threshold": "0", "support_threshold_kind": "members"}


# --- the short name ------------------------------------------------------------------


def test_an_imported_plan_is_given_a_short_name_from_its_title_free_in_its_forum(make, forum):
    first = make.plan(forum, PLAN_2026)
    again = make.plan(forum, PLAN_2026)
    elsewhere = make.plan(make.forum(), PLAN_2026)
    assert (first.short_name, again.short_name, elsewhere.short_name) == (
        "PA-2026",
        "PA-2026-2",
        "PA-2026",
    )


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Plan de Acción 2026-2030", "PA-2026"),
        ("Plano de Ação para a Diversidade Cultural", "PADC"),
        ("Plan", "PLAN"),
        ("", "PLAN"),
        ("Plan de trabajo de las coaliciones para la diversidad cultural (2007)", "PTCD-2007"),
    ],
)
def test_the_suggestion_is_the_titles_initials_and_its_year(title, expected):
    assert short_names.suggest(title) == expected


def test_a_facilitator_sets_the_short_name_in_the_plans_settings(
    client, session, forum, plan, facilitator
):
    sign_in(client, facilitator)
    response = client.post(settings_url(forum, plan), data={**SETTINGS, "short_name": "pa-2027"})
    assert response.status_code == 302
    session.expire_all()
    assert plan.short_name == "PA-2027"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Give the plan a short name"),
        ("P", "between 2 and 16 characters"),
        ("PLAN-DE-ACCION-2026", "between 2 and 16 characters"),
        ("PA 2026", "only have letters without accents, digits and hyphens"),
        ("AÇÃO", "only have letters without accents, digits and hyphens"),
        ("-PA", "only have letters without accents, digits and hyphens"),
        ("PA--1", "only have letters without accents, digits and hyphens"),
    ],
)
def test_a_bad_short_name_is_refused_with_a_message_and_the_input_kept(
    client, session, forum, plan, facilitator, typed, message
):
    before = plan.short_name
    sign_in(client, facilitator)
    response = client.post(settings_url(forum, plan), data={**SETTINGS, "short_name": typed})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert re.search(r'<input[^>]*name="short_name"[^>]*value="' + re.escape(typed) + '"', page)
    session.expire_all()
    assert plan.short_name == before


def test_a_short_name_another_plan_of_the_forum_has_is_refused(
    client, session, forum, two_plans, facilitator
):
    first, second = two_plans
    sign_in(client, facilitator)
    response = client.post(
        settings_url(forum, second), data={**SETTINGS, "short_name": first.short_name.lower()}
    )
    assert response.status_code == 400
    assert f"Another plan of this forum is already called {first.short_name}" in (
        response.get_data(as_text=True)
    )
    session.expire_all()
    assert second.short_name == "AC-2030"


def test_the_short_name_is_shown_in_the_settings_and_kept_when_the_form_lacks_it(
    client, session, forum, plan, facilitator
):
    before = plan.short_name
    sign_in(client, facilitator)
    page = client.get(settings_url(forum, plan)).get_data(as_text=True)
    assert f'value="{before}"' in page
    response = client.post(settings_url(forum, plan), data=SETTINGS)
    assert response.status_code == 302
    session.expire_all()
    assert plan.short_name == before


def test_the_service_refuses_a_bad_short_name():
    with pytest.raises(InvalidInput):
        short_names.normalised("P/A")


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_the_migration_gives_existing_plans_unique_short_names(backend_name, tmp_path):
    """Plans made before revision 0018 get the name their title suggests, the
    older first, unique within each forum."""
    with fresh_database(backend_name, tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            upgrade(revision="0017_notification_preferences")
            engine = sa.create_engine(url)
            now = datetime.now(UTC)
            with engine.begin() as connection:
                for forum_id in (1, 2):
                    connection.execute(
                        sa.text(
                            "INSERT INTO forums (id, slug, name, description, default_locale,"
                            " is_public, created_at)"
                            " VALUES (:id, :slug, 'F', '', 'es', false, :now)"
                        ),
                        {"id": forum_id, "slug": f"f{forum_id}", "now": now},
                    )
                for plan_id, forum_id, title in (
                    (1, 1, "Plan de Acción 2026"),
                    (2, 1, "Plan de Acción 2026"),
                    (3, 2, "Plan de Acción 2026"),
                    (4, 1, "Agenda"),
                ):
                    connection.execute(
                        sa.text(
                            "INSERT INTO plans (id, forum_id, title, status, language, created_at,"
                            " open_for_input, support_threshold, support_threshold_kind)"
                            " VALUES (:id, :forum, :title, 'draft', 'es', :now, false, 0,"
                            " 'members')"
                        ),
                        {"id": plan_id, "forum": forum_id, "title": title, "now": now},
                    )
            upgrade(revision="0018_amendment_identifiers")
            with engine.connect() as connection:
                names = dict(connection.execute(sa.text("SELECT id, short_name FROM plans")).all())
            engine.dispose()
            from consult.extensions import db

            db.engine.dispose()
    assert names == {1: "PA-2026", 2: "PA-2026-2", 3: "PA-2026", 4: "AGEN"}


# --- the identifier in notifications and emails --------------------------------------


def test_the_identifier_names_the_plan_the_number_and_the_item(make, forum, two_plans, member):
    first, second = two_plans
    one = make.amendment(first, member, ref="1")
    other = make.amendment(second, member, ref="2")
    assert (one.label, other.label) == ("E1", "E1")
    assert (one.identifier, other.identifier) == ("PA-2026 E1 · 1", "AC-2030 E1 · 2")


def test_notification_emails_tell_apart_the_e1_of_two_plans(
    session, make, forum, two_plans, member
):
    author = make.member(forum, locale="en").user
    for plan in two_plans:
        amendment = make.amendment(plan, author, ref="1")
        supports.support(member, amendment)
        session.commit()
    subjects = [message.subject for message in outbox(session, author.email)]
    assert len(subjects) == 2
    assert any("your amendment PA-2026 E1 · 1." in subject for subject in subjects)
    assert any("your amendment AC-2030 E1 · 1." in subject for subject in subjects)
    bodies = [message.body_text for message in outbox(session, author.email)]
    assert any("PA-2026 E1 · 1" in body for body in bodies)


def test_a_notification_of_an_amendment_names_its_plan(session, make, forum, plan, member):
    facilitator = make.facilitator(forum)
    amendment = make.amendment(plan, member)
    lifecycle.decide(facilitator, amendment, "admitted")
    session.commit()
    notification = session.scalars(
        select(Notification).where(
            Notification.user_id == member.id, Notification.kind == "amendment_status"
        )
    ).one()
    assert describe(notification) == (
        f"{facilitator.display_name} changed the status of your amendment "
        f"{plan.short_name} E1 · 1: Admitted."
    )


def test_a_submitted_amendment_is_named_once_with_its_item(session, make, forum, plan):
    group = make.group(forum)
    author = make.member(forum, groups=[group]).user
    colleague = make.member(forum, groups=[group], locale="en").user
    section = plans.find_node(plan.current_version, "1")
    plan_settings.assign_section(None, plan, section.key, group.id)
    session.commit()
    make.amendment(plan, author, ref="1")
    notification = session.scalars(
        select(Notification).where(Notification.user_id == colleague.id)
    ).one()
    assert describe(notification) == (
        f"{author.display_name} submitted amendment {plan.short_name} E1 · 1 in your group."
    )


def test_notifications_written_before_the_identifiers_keep_their_wording(
    session, make, forum, plan, member
):
    amendment = make.amendment(plan, member)
    old = [
        Notification(
            user_id=member.id,
            forum_id=forum.id,
            kind=kind,
            object_type="Amendment",
            object_id=amendment.id,
            data=data,
        )
        for kind, data in (
            ("amendment_supported", {"label": "E1"}),
            ("amendment_submitted", {"label": "E1", "ref": "1"}),
            ("amendment_rebased", {"label": "E1", "number": 2}),
        )
    ]
    assert [describe(notification) for notification in old] == [
        "Consult supports your amendment E1.",
        "Consult submitted amendment E1 to item 1 in your group.",
        "Your amendment E1 was carried over to version 2 of the plan, whose text had changed.",
    ]


# --- lists: the identifier and the change --------------------------------------------


def list_url(forum, plan):
    return f"/forums/{forum.slug}/plans/{plan.id}/amendments/"


def test_the_lists_of_two_plans_tell_their_e1_apart(client, make, forum, two_plans, member):
    first, second = two_plans
    for plan in two_plans:
        make.amendment(plan, member, ref="1")
    sign_in(client, member)
    first_list = client.get(list_url(forum, first)).get_data(as_text=True)
    second_list = client.get(list_url(forum, second)).get_data(as_text=True)
    assert "<strong>PA-2026 E1 · 1</strong>" in first_list
    assert "<strong>AC-2030 E1 · 1</strong>" in second_list
    assert "AC-2030" not in first_list


def test_the_list_shows_the_change_in_a_few_words(client, make, forum, member):
    plan = make.plan(forum, PLAN_2026)
    make.amendment(plan, member, ref="1", text="Primer punto, y sostenible.")
    make.amendment(plan, member, ref="2", operation="delete")
    sign_in(client, member)
    page = client.get(list_url(forum, plan)).get_data(as_text=True)
    found = re.findall(r'<p class="excerpt diff"[^>]*>(.*?)</p>', page, re.S)
    assert sorted(found) == ["<del>Segundo punto.</del>", "Primer punto<ins>, y sostenible</ins>."]


def test_an_excerpt_keeps_only_a_few_words_around_a_change():
    old = " ".join(f"palabra{n}" for n in range(40))
    new = old.replace("palabra20", "cambio")
    excerpt = str(excerpts.diff_excerpt(old, new))
    assert excerpt.startswith("… palabra14")
    assert "<del>palabra20</del><ins>cambio</ins>" in excerpt
    assert excerpt.endswith("palabra26 …")
    assert "palabra3 " not in excerpt and "palabra35" not in excerpt


def test_an_excerpt_is_escaped():
    assert str(excerpts.diff_excerpt("<b>uno</b>", "<b>dos</b>")) == (
        "&lt;b&gt;<del>uno</del><ins>dos</ins>&lt;/b&gt;"
    )


def test_the_item_page_lists_its_amendments_with_identifier_and_change(
    client, make, forum, plan, member
):
    make.amendment(plan, member, ref="1", text="Un texto del todo nuevo.")
    sign_in(client, member)
    key = plans.find_node(plan.current_version, "1").key
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/items/{key}/").get_data(as_text=True)
    assert f"<strong>{plan.short_name} E1 · 1</strong>" in page
    assert "<ins>Un texto del todo nuevo.</ins>" in page or "Un texto del todo nuevo" in page


def test_the_triage_desk_names_amendments_and_shows_their_change(
    client, make, forum, plan, member, facilitator
):
    make.amendment(plan, member, ref="1", text="Un texto del todo nuevo.")
    sign_in(client, facilitator)
    page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/amendments/triage")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f"{plan.short_name} E1 · 1</a>" in text
    assert '<td class="excerpt diff"' in text and "<ins>" in text


def test_the_amendment_page_is_titled_with_its_identifier(client, make, forum, plan, member):
    amendment = make.amendment(plan, member)
    sign_in(client, member)
    page = client.get(f"/forums/{forum.slug}/amendments/{amendment.id}").get_data(as_text=True)
    assert f"<title>{plan.short_name} E1 · 1 · {plan.title}" in page
    assert f"<h1>Amendment {plan.short_name} E1 · 1</h1>" in page


def test_the_list_with_excerpts_issues_the_same_statements_for_5_and_40(
    client, session, make, forum, plan, member, count_statements, pages_built_each_time
):
    for index in range(5):
        make.amendment(plan, member, ref="1", text=f"Texto {index}.")
    sign_in(client, make.member(forum, locale="en").user)
    url = list_url(forum, plan)
    with count_statements() as few:
        assert client.get(url).status_code == 200
    for index in range(35):
        make.amendment(plan, member, ref="2", text=f"Más texto {index}.")
    with count_statements() as many:
        page = client.get(url).get_data(as_text=True)
    assert page.count('class="excerpt diff"') == 25
    assert len(few) == len(many)


# --- exports -------------------------------------------------------------------------


def test_the_open_data_of_two_plans_tell_their_e1_apart(
    client, session, make, forum, two_plans, member
):
    """Put together, the data sets of two consultations still say which E1 is which."""
    rows = []
    for plan in two_plans:
        consultation = make.consultation(plan, advance=True)
        first = make.amendment(plan, member, ref="1")
        make.amendment(plan, member, ref="2")
        comments.post_comment(
            member,
            forum,
            plan=plan,
            target_type="amendment",
            target_key=str(first.id),
            body="De acuerdo.",
        )
        session.commit()
        url = f"/forums/{forum.slug}/consultations/{consultation.id}/open-data"
        sign_in(client, member)
        response = client.get(f"{url}/amendments.csv")
        assert response.status_code == 200
        rows += list(csv.DictReader(io.StringIO(response.get_data(as_text=True)[1:])))
        data = json.loads(client.get(f"{url}/amendments.json").get_data(as_text=True))
        assert [row["identifier"] for row in data["rows"]] == [
            f"{plan.short_name} E1 · 1",
            f"{plan.short_name} E2 · 2",
        ]
        commented = client.get(f"{url}/comments.csv").get_data(as_text=True)
        assert f"{plan.short_name} E1 · 1" in commented
    assert [(row["identifier"], row["label"]) for row in rows] == [
        ("PA-2026 E1 · 1", "E1"),
        ("PA-2026 E2 · 2", "E2"),
        ("AC-2030 E1 · 1", "E1"),
        ("AC-2030 E2 · 2", "E2"),
    ]


# --- search --------------------------------------------------------------------------


def test_search_results_name_amendments_with_their_plan(client, session, make, forum, member):
    first = make.plan(forum, PLAN_2026)
    second = make.plan(forum, PLAN_2030)
    for plan in (first, second):
        amendment = make.amendment(
            plan, member, ref="1", text="Bibliotecas populares en cada barrio."
        )
        comments.post_comment(
            member,
            forum,
            plan=plan,
            target_type="amendment",
            target_key=str(amendment.id),
            body="Las bibliotecas importan.",
        )
        session.commit()
    sign_in(client, member)
    html = client.get(f"/search?q=bibliotecas&forum={forum.slug}").get_data(as_text=True)
    for short_name in ("PA-2026", "AC-2030"):
        assert f"Amendment {short_name} E1 · 1</a>" in html
        assert f"Comment on amendment {short_name} E1 · 1</a>" in html
    # A renamed plan is named anew at once (the index keeps only the number).
    first.short_name = "PA-27"
    session.commit()
    html = client.get(f"/search?q=bibliotecas&forum={forum.slug}").get_data(as_text=True)
    assert "Amendment PA-27 E1 · 1</a>" in html and "PA-2026" not in html


# --- the assembly's agenda -----------------------------------------------------------


def test_the_agenda_names_the_amendments_with_their_plan(make, forum, member):
    from consult.assembly import wording

    def point_title(amendments):
        return wording.title("", wording.parts(amendments=amendments))

    plan = make.plan(forum, PLAN_2026)
    first = make.amendment(plan, member, ref="1")
    second = make.amendment(plan, member, ref="1")
    assert point_title([first]) == "Amendment PA-2026 E1 · 1"
    assert point_title([first, second]) == "Competing amendments PA-2026 E1, E2 to item 1"
    with force_locale("pt"):  # in the reader's language, whoever called the session
        assert point_title([first, second]) == "Emendas concorrentes PA-2026 E1, E2 ao item 1"


def test_a_vote_on_an_amendment_is_titled_with_its_identifier(make, forum, member, facilitator):
    plan = make.plan(forum, PLAN_2026)
    make.delegate(forum)
    amendment = make.amendment(plan, member, ref="1", admitted_by=facilitator)
    poll = make.poll(plan, facilitator, amendment=amendment, opened=False)
    assert poll.title == "Vote on amendment PA-2026 E1 · 1"


def test_the_forums_audit_log_names_amendments_with_their_plan(
    client, session, make, forum, two_plans, member
):
    admin = make.member(forum, role="admin", locale="en").user
    for plan in two_plans:
        amendment = make.amendment(plan, member, ref="1")
        lifecycle.decide(admin, amendment, "admitted")
        session.commit()
    sign_in(client, admin)
    page = client.get(f"/forums/{forum.slug}/manage/audit").get_data(as_text=True)
    assert "PA-2026 E1 · 1</a>" in page and "AC-2030 E1 · 1</a>" in page


def test_the_api_gives_each_amendment_its_identifier(
    client, session, make, forum, two_plans, member
):
    from consult.api import tokens

    _token, secret = tokens.create_token(member, "read token", "read")
    session.commit()
    headers = {"Authorization": f"Bearer {secret}", "Accept-Language": "en"}
    for plan in two_plans:
        make.amendment(plan, member, ref="1")
        url = f"/api/v1/forums/{forum.slug}/plans/{plan.id}/amendments"
        listed = client.get(url, headers=headers).get_json()
        assert [item["identifier"] for item in listed["items"]] == [f"{plan.short_name} E1 · 1"]
