"""The assembly, in English: the facilitator puts the plan to the delegates,
they approve it in their own browsers, and a member downloads the final
plan as a PDF."""

from datetime import UTC, datetime, timedelta

from consult.extensions import db
from consult.plans.models import Plan

from . import world as w
from .support import ARTIFACTS


def test_delegates_approve_the_plan_and_a_member_downloads_the_pdf_in_english(journey):
    journey.name = "assembly-en"
    with journey.app_context():
        place, forum, _plan, facilitator = w.forum_with_plan("forum-en", "en")
        facilitator.locale = "en"
        for index, name in enumerate(("Amara Joseph", "Kevin Baptiste", "Sonia Ramdin")):
            delegate = w.person(forum, name=name, locale="en", country="TT", delegate=True)
            place.emails[f"delegate{index}"] = delegate.email
        reader = w.person(forum, name="Grace Alleyne", locale="en", country="BB")
        place.emails["reader"] = reader.email
        db.session.commit()

    chair = journey.person("en", "facilitator")
    chair.sign_in(place.emails["facilitator"], w.PASSWORD)
    chair.go(place.plan_path, "plan")
    chair.click("a[href*='/polls/new?subject=plan']", "new-approval")
    page = chair.page
    assert page.locator("#scope").input_value() == "assembly"
    page.fill("#title", "Approval of the plan of action 2026")
    closes = datetime.now(UTC) + timedelta(days=1)
    page.fill("#closes_at", closes.strftime("%Y-%m-%dT%H:%M"))  # the poll's zone is UTC here
    chair.click("form[data-autosave^=poll] button[type=submit]", "approval-open")
    assert "/polls/new" not in page.url, chair.flash()
    poll_path = page.url.removeprefix(journey.server.url)

    for index, choice in ((0, "yes"), (1, "yes"), (2, "abstain")):
        first = index == 0
        delegate = journey.person("en", f"delegate {index}")
        delegate.sign_in(place.emails[f"delegate{index}"], w.PASSWORD)
        delegate.go(poll_path, "delegate-ballot" if first else None)
        delegate.page.check(f"#own-{choice}")
        delegate.click("form.ballot button[type=submit]", "delegate-receipt" if first else None)

    chair.go(poll_path)
    chair.click("form[action$='/close'] button", "approval-closed")
    chair.go(place.plan_path, "plan-approved")
    assert page.locator(".badge").filter(has_text="Approved by the assembly").count() == 1

    member = journey.person("en", "member")
    member.sign_in(place.emails["reader"], w.PASSWORD)
    member.go(place.plan_path, "member-plan")
    with member.page.expect_download() as download:
        member.page.locator("a[href*='/export/pdf']").first.click()
    saved = ARTIFACTS / f"{journey.name}-plan.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes()[:5] == b"%PDF-"
    assert download.value.suggested_filename.endswith(".pdf")

    with journey.app_context():
        plan = db.session.get(Plan, place.plan_id)
        assert plan.status == "approved"
        assert plan.current_version.is_final
