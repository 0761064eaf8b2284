"""A facilitator's consultation, in Portuguese: open it with a dated phase,
triage the amendments, run a working group's vote on one of them (members
vote in their own browsers), close it, and prepare the consolidated draft."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from consult.amendments.models import Amendment
from consult.extensions import db
from consult.forums import groups as forum_groups
from consult.forums import services as forums
from consult.plans import services as plans
from consult.plans.models import Plan

from . import world as w

ZONE = "America/Bogota"  # what the consultation form proposes


def local(moment: datetime, zone: str = ZONE) -> str:
    """A datetime-local field's value."""
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M")


def test_a_facilitator_runs_a_consultation_a_group_vote_and_a_consolidated_draft_in_portuguese(
    journey,
):
    journey.name = "facilitator-pt"
    with journey.app_context():
        place, forum, plan, facilitator = w.forum_with_plan("rede-fac", "pt")
        facilitator.locale = "pt"
        group = forum_groups.save_group(None, forum, "Energia")
        coalition = forums.save_coalition(None, forum, "Coalizão Brasileira", "BR")
        voters = []
        for name in ("Ana Souza", "Bruno Lima", "Carla Dias"):
            voter = w.person(forum, name=name, locale="pt", country="BR", coalition=coalition)
            forum_groups.add_group_member(None, group, voter)
            voters.append(voter)
        texts = {
            "to_vote": (place.items[0], "Promover a cooperação regional em energias limpas."),
            "to_accept": (place.items[1], "Intercambiar experiências sobre eficiência energética."),
            "to_reject": (place.items[3], "Suprimir a referência à Convenção."),
        }
        for (name, (key, text)), author in zip(texts.items(), voters, strict=True):
            place.ids[name] = w.amendment(author, plan, key, text).id
        plans_open = plan.id
        db.session.commit()
        place.ids["group"] = group.id
        place.emails.update({f"voter{i}": v.email for i, v in enumerate(voters)})

    chair = journey.person("pt", "facilitator")
    chair.sign_in(place.emails["facilitator"], w.PASSWORD, "signed-in")
    chair.go(place.plan_path, "plan")

    # A consultation with one phase open now (amendments, in which the working
    # group may also vote: votes open only when the phase allows it), the others
    # left out.
    chair.click(f"a[href='/forums/{place.slug}/plans/{plans_open}/consultation/new']", "new")
    now = datetime.now(UTC)
    page = chair.page
    page.fill("#title", "Consulta sobre o plano de ação 2026")
    page.select_option("#phases-0-kind", "amendments")
    page.fill("#phases-0-starts_at", local(now - timedelta(days=1)))
    page.fill("#phases-0-ends_at", local(now + timedelta(days=14)))
    page.check("#phases-0-allow_vote")
    for index in range(1, 6):
        page.select_option(f"#phases-{index}-kind", "")
    chair.click("form[data-autosave^=consultation] button[type=submit]", "consultation")
    assert "/consultations/" in page.url, chair.flash()
    assert page.locator(".phase-open").count() == 1

    # Triage: admit one, admit and accept another, reject the third.
    chair.click(f"a[href='/forums/{place.slug}/plans/{plans_open}/amendments/']", "amendments")
    chair.click(f"a[href='/forums/{place.slug}/plans/{plans_open}/amendments/triage']", "triage")
    chair.click(f"a[href='{place.amendment_path('to_vote')}']", "to-vote")
    chair.click("form[action$='/decide'] button[value=admitted]", "admitted")
    chair.go(place.amendment_path("to_accept"))
    chair.click("form[action$='/decide'] button[value=admitted]")
    chair.click("form[action$='/decide'] button[value=accepted]", "accepted")
    chair.go(place.amendment_path("to_reject"))
    page.fill("form[action$='/decide'] #reason", "Fora do mandato do grupo.")
    chair.click("form[action$='/decide'] button[value=rejected]", "rejected")

    # The working group votes on the admitted amendment.
    chair.go(place.amendment_path("to_vote"))
    chair.click("a[href*='/polls/new?subject=amendment']", "new-vote")
    page.fill("#title", "Votação da emenda sobre energias limpas")
    page.select_option("#scope", "group")
    page.select_option("#working_group", str(place.ids["group"]))
    page.select_option("#phase", "")
    page.fill("#closes_at", local(now + timedelta(days=2)))
    # Without a phase or an opening time, the vote opens at once.
    chair.click("form[data-autosave^=poll] button[type=submit]", "vote-open")
    assert "/polls/new" not in page.url, chair.flash()
    assert page.locator("form[action$='/close']").count() == 1
    poll_path = page.url.removeprefix(journey.server.url)

    for index, choice in ((0, "yes"), (1, "yes"), (2, "no")):
        voter = journey.person("pt", f"voter {index}")
        voter.sign_in(place.emails[f"voter{index}"], w.PASSWORD)
        voter.go(poll_path, "ballot" if index == 0 else None)
        voter.page.check(f"#own-{choice}")
        voter.click("form.ballot button[type=submit]", "receipt" if index == 0 else None)
        assert voter.page.locator(".receipt-code").inner_text().strip()

    chair.go(poll_path)
    chair.click("form[action$='/close'] button", "vote-closed")
    assert page.locator(".result .outcome").count() == 1
    # The result explains itself: each option's share against the rule's
    # threshold, the base, and the quorum (none was asked for this vote).
    explanation = page.locator(".result .explanation").inner_text()
    assert "66,7" in explanation and "%" in explanation, explanation
    assert "quórum" in explanation, explanation

    # The consolidated draft: prepared by a job, followed on its page.
    chair.go(place.plan_path)
    chair.click(f"a[href='/forums/{place.slug}/plans/{plans_open}/consolidations/']", "drafts")
    chair.click("form[action$='/consolidations/new'] button", "draft-requested")
    page.locator("#outcome-heading").wait_for(timeout=60_000)
    chair.check("draft-ready")
    chair.click(f"a[href*='/plans/{plans_open}/versions/2']", "version-2")

    with journey.app_context():
        statuses = {
            name: db.session.get(Amendment, amendment_id).status
            for name, amendment_id in place.ids.items()
            if name.startswith("to_")
        }
        assert statuses == {"to_vote": "accepted", "to_accept": "accepted", "to_reject": "rejected"}
        plan = db.session.get(Plan, plans_open)
        assert plan.current_version.number == 2
        texts_now = [n.text for n in plans.version_nodes(plan.current_version)]
        assert texts["to_vote"][1] in texts_now
        assert texts["to_accept"][1] in texts_now
        assert db.session.scalar(select(Amendment.id).where(Amendment.status == "voting")) is None
