"""Hostile text in a real browser: the XSS corpus in comments, an amendment and
a member's name runs no script (no alert, no page error) on the pages that
show them."""

from consult.amendments import lifecycle, proposing
from consult.extensions import db
from tests.test_richtext import XSS_PAYLOADS

from . import world as w

XSS_NAME = '"><svg onload=alert(1)>'


def test_the_xss_corpus_runs_no_script_in_the_browser(journey):
    journey.name = "hostile-en"
    with journey.app_context():
        place, forum, plan, _facilitator = w.forum_with_plan("hostile", "en")
        hostile = w.person(forum, name=XSS_NAME, locale="en")
        key = place.items[0]
        for payload in XSS_PAYLOADS:
            w.comment(hostile, forum, plan, key, payload)
        corpus = "\n".join(XSS_PAYLOADS)
        amendment = proposing.propose(
            hostile, plan, target=key, operation="replace", text=corpus, justification=corpus
        )
        lifecycle.submit_amendment(hostile, amendment)
        reader = w.person(forum, name="Careful Reader", locale="en")
        db.session.commit()
        place.ids["amendment"] = amendment.id
        email = reader.email

    member = journey.person("en", "reader")
    member.sign_in(email, w.PASSWORD)
    member.go(place.item_path(key), "thread")
    member.go(place.amendment_path("amendment"), "amendment")
    member.go(f"/forums/{place.slug}/plans/{place.plan_id}/amendments/", "list")
    member.page.wait_for_timeout(300)  # give any injected handler its chance
    assert not journey.problems, journey.problems
