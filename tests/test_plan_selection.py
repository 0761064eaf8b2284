"""Words selected in an item (issue 14): "Comment on this" starts the item's
comment with the quote and its lines, "Amend this" opens the amendment form
with the words highlighted; bad parameters never break a form, and the
toolbar is offered only to whoever may comment or amend."""

import html
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from consult.database import utcnow
from consult.plans import layout
from consult.plans import services as plans
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")

LONG = (
    "Promote regional cooperation between the coalitions of the network, sharing "
    "methods, data and training materials, and meeting twice a year to review the "
    "progress of each national plan against the commitments made together."
)


@pytest.fixture
def plan_text():
    return f"Plan\n\n1. {LONG}\n\n2. Second item.\n"


def first_item(plan):
    ordered = plans.version_nodes(plan.current_version)
    numbered = layout.number_lines(ordered, layout.line_length(plan.forum))
    entry = next(e for e in numbered if e.node.kind != "section" and LONG[:20] in e.node.text)
    return entry.node, entry.first_line, entry.last_line


def item_url(forum, plan, key, **args):
    query = f"?{urlencode(args)}" if args else ""
    return f"/forums/{forum.slug}/plans/{plan.id}/items/{key}/{query}"


def amend_url(forum, plan, key, **args):
    query = f"?{urlencode(args)}" if args else ""
    return f"/forums/{forum.slug}/plans/{plan.id}/items/{key}/amend{query}"


def new_comment_text(page: str) -> str:
    found = re.search(r'<textarea id="comment-body-new"[^>]*>(.*?)</textarea>', page, re.S)
    return html.unescape(found.group(1)) if found else ""


def test_the_comment_form_starts_with_the_quote_and_its_lines(client, forum, member, plan):
    node, first, last = first_item(plan)
    assert last > first  # the item takes several lines
    sign_in(client, member)
    words = "sharing methods, data and training materials"
    page = client.get(item_url(forum, plan, node.key, quote=words, lines=f"{first}-{last}"))
    assert page.status_code == 200
    text = new_comment_text(page.get_data(as_text=True))
    assert text.startswith(f"> {words}\n")
    assert f"(lines {first}\u2013{last})" in text

    # The member adds a word and publishes it: the comment shows the quote.
    body = text + "We can share ours."
    token = re.search(r'name="form_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    sent = client.post(
        f"/forums/{forum.slug}/comments/",
        data={
            "target_type": "node",
            "plan_id": plan.id,
            "target_key": node.key,
            "form_token": token,
            "body": body,
            "alignment": "neutral",
            "next": item_url(forum, plan, node.key),
        },
        follow_redirects=True,
    )
    shown = sent.get_data(as_text=True)
    assert re.search(r"<blockquote>\s*<p>sharing methods, data and training materials</p>", shown)
    assert "We can share ours." in shown


def test_one_line_is_quoted_as_one_line(client, forum, member, plan):
    node, first, _last = first_item(plan)
    sign_in(client, member)
    page = client.get(item_url(forum, plan, node.key, quote="Promote regional", lines=str(first)))
    assert f"(line {first})" in new_comment_text(page.get_data(as_text=True))


def test_words_across_line_breaks_are_found(client, forum, member, plan):
    """The plan page's lines are separate: the script joins them with one space."""
    node, *_ = first_item(plan)
    sign_in(client, member)
    spaced = "  meeting   twice\n a year  "
    page = client.get(item_url(forum, plan, node.key, quote=spaced))
    assert new_comment_text(page.get_data(as_text=True)).startswith("> meeting twice a year\n")


def test_the_amendment_form_highlights_the_words(client, forum, member, plan):
    node, *_ = first_item(plan)
    sign_in(client, member)
    words = "meeting twice a year"
    page = client.get(amend_url(forum, plan, node.key, quote=words)).get_data(as_text=True)
    assert f"<mark>{words}</mark>" in page
    start = node.text.index(words)
    assert f'data-select-start="{start}" data-select-end="{start + len(words)}"' in page
    # The whole text stays in the form to edit.
    assert html.escape(node.text, quote=False) in html.unescape(page.split("<textarea")[1])
    assert "js/selection.js" in page


@pytest.mark.parametrize(
    "args, notice",
    [
        ({"quote": "x" * 601}, "too long"),
        ({"quote": "words that are nowhere"}, "not in this item"),
        ({"quote": "Promote regional", "lines": "9999-10000"}, "lines are not in this item"),
        ({"quote": "Promote regional", "lines": "3-1"}, "lines are not in this item"),
        ({"quote": "Promote regional", "lines": "<script>"}, "lines are not in this item"),
        ({"lines": "1-2"}, None),
        ({"quote": "   "}, None),
    ],
)
def test_bad_parameters_are_left_out_with_a_notice(client, forum, member, plan, args, notice):
    node, *_ = first_item(plan)
    sign_in(client, member)
    item = client.get(item_url(forum, plan, node.key, **args))
    amend = client.get(amend_url(forum, plan, node.key, **args))
    assert item.status_code == 200 and amend.status_code == 200
    item_page, amend_page = item.get_data(as_text=True), amend.get_data(as_text=True)
    if notice:
        assert notice in item_page
    if notice and "lines" not in notice:
        assert notice in amend_page
        assert new_comment_text(item_page) == ""
        assert "<mark>" not in amend_page
    if notice and "lines" in notice:  # the words are quoted, without the lines
        assert new_comment_text(item_page).startswith("> Promote regional")
        assert "(line" not in new_comment_text(item_page)


def test_a_nul_in_the_quote_is_refused_with_a_message(client, forum, member, plan):
    """Every request with a NUL byte is refused before the view (consult/inputs.py)."""
    node, *_ = first_item(plan)
    sign_in(client, member)
    for url in (item_url, amend_url):
        answer = client.get(url(forum, plan, node.key, quote="sharing\x00methods"))
        assert answer.status_code == 400
        assert "NUL character" in answer.get_data(as_text=True)


def toolbar(page: str) -> str:
    found = re.search(r'<div class="selection-toolbar".*?</div>', page, re.S)
    return found.group(0) if found else ""


def test_a_member_is_offered_both(client, forum, member, plan):
    node, *_ = first_item(plan)
    sign_in(client, member)
    for url in (f"/forums/{forum.slug}/plans/{plan.id}/", item_url(forum, plan, node.key)):
        offered = toolbar(client.get(url).get_data(as_text=True))
        assert "Comment on this" in offered and "Amend this" in offered, url
        assert 'role="toolbar"' in offered and 'aria-label="Selected words"' in offered


def test_an_observer_is_offered_nothing(client, make, forum, plan):
    node, *_ = first_item(plan)
    make.consultation(plan, advance=True)
    observer = make.member(forum, role="observer", locale="en").user
    sign_in(client, observer)
    for url in (f"/forums/{forum.slug}/plans/{plan.id}/", item_url(forum, plan, node.key)):
        page = client.get(url).get_data(as_text=True)
        assert toolbar(page) == "", url
        assert "selection-toolbar" not in page  # the script, loaded, finds nothing to do


def test_in_a_review_phase_only_commenting_is_offered(client, make, forum, member, plan):
    now = utcnow()
    make.consultation(
        plan, [("review", now - timedelta(days=1), now + timedelta(days=9))], advance=True
    )
    node, *_ = first_item(plan)
    sign_in(client, member)
    for url in (f"/forums/{forum.slug}/plans/{plan.id}/", item_url(forum, plan, node.key)):
        offered = toolbar(client.get(url).get_data(as_text=True))
        assert "Comment on this" in offered, url
        assert "Amend this" not in offered, url


def test_the_readings_with_amendments_offer_no_toolbar(client, forum, member, plan):
    """There the text is not the item's as it stands: no words to quote from it."""
    sign_in(client, member)
    for show in ("amendments", "accepted"):
        page = client.get(f"/forums/{forum.slug}/plans/{plan.id}/?show={show}")
        assert page.status_code == 200
        assert toolbar(page.get_data(as_text=True)) == "", show


def test_items_of_a_working_groups_section_are_not_offered_for_amending_to_others(
    client, make, forum, member
):
    from consult.amendments import plan_settings
    from tests.factories import STRUCTURED

    plan = make.plan(forum, STRUCTURED)
    group = make.group(forum, "Energy")
    in_group = make.member(forum, groups=[group], locale="en").user
    section = plans.find_node(plan.current_version, "1")
    plan_settings.assign_section(None, plan, section.key, group.id)
    make.session.commit()
    held = [n.key for n in plans.version_nodes(plan.current_version) if n.parent_key == section.key]
    assert held
    outside = plans.find_node(plan.current_version, "2.A.1").key
    sign_in(client, member)
    offered = toolbar(client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True))
    refused = re.search(r'data-refused="([^"]*)"', offered).group(1).split()
    assert section.key in refused and set(held) <= set(refused)
    assert outside not in refused
    sign_in(client, in_group)
    offered = toolbar(client.get(f"/forums/{forum.slug}/plans/{plan.id}/").get_data(as_text=True))
    assert "Amend this" in offered and "data-refused" not in offered
