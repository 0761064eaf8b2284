"""Build once, serve many times: the plan page's text is rendered once per
version and language and kept, the per-reader parts are overlays; validators
(ETag, 304), compression and cacheable static files."""

import gzip
import re

import pytest
from sqlalchemy import func, select, update

from consult import pagecache
from consult.accounts import services as accounts
from consult.amendments import proposing
from consult.comments import moderation
from consult.comments import services as comments
from consult.comments import threads as comment_threads
from consult.plan_pages.activity import ActivityStamp
from consult.plan_translations import services as translations
from consult.plans import services as plans
from consult.plans.models import PlanNode
from tests.factories import sign_in

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def member(make, forum):
    return make.member(forum, locale="en", name="Ana Silva").user


@pytest.fixture
def facilitator(make, forum):
    return make.member(forum, role="facilitator", locale="en", name="Flor Díaz").user


def page_of(client, plan, **query):
    response = client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def activity_of(html: str, ref: str) -> str:
    """The counts shown for item ``ref`` ("1 amendment · 0 comments")."""
    block = html.split(f'id="ref-{ref}"', 1)[1].split('class="node-activity"', 1)[1]
    link = block.split("</a>", 1)[0]
    return re.sub(r"<[^>]+>", "", link.split(">", 1)[1].split('<span class="visually-hidden">')[0])


def languages_nav(html: str) -> str:
    return html.split('class="reading-languages"', 1)[1].split("</nav>", 1)[0]


def text_of(html: str) -> str:
    return html[html.index('<div class="plan-layout') :]


def fragments(session) -> int:
    return session.scalar(select(func.count()).select_from(pagecache.PageFragment))


# --- the rendered text is kept and reused ---------------------------------------------


def test_the_text_is_rendered_once_then_served_from_the_cache(
    client, session, plan, member, monkeypatch
):
    from consult.plan_translations import rendering

    sign_in(client, member)
    built = []
    original = rendering._build
    monkeypatch.setattr(rendering, "_build", lambda *args: built.append(args) or original(*args))
    first = page_of(client, plan)
    assert len(built) == 1
    assert fragments(session) >= 1  # shared with the other processes
    pagecache.clear_memory()  # another process: it reads the database, builds nothing
    second = page_of(client, plan)
    assert len(built) == 1
    assert text_of(first) == text_of(second)
    assert "Promover la cooperación regional" in second


def test_a_new_amendment_and_comment_show_at_once_on_a_cached_page(client, session, plan, member):
    key = plans.find_node(plan.current_version, "1.1").key
    sign_in(client, member)
    assert activity_of(page_of(client, plan), "1.1") == "0 amendments · 0 comments"
    proposing.propose(
        member, plan, target=key, operation="replace", text="Un texto nuevo.", submit=True
    )
    session.commit()
    assert activity_of(page_of(client, plan), "1.1") == "1 amendment · 0 comments"
    comment = comments.post_comment(
        member, plan.forum, plan=plan, target_type="node", target_key=key, body="De acuerdo."
    )
    session.commit()
    assert activity_of(page_of(client, plan), "1.1") == "1 amendment · 1 comment"
    comments.delete_comment(member, comment)
    session.commit()
    assert activity_of(page_of(client, plan), "1.1") == "1 amendment · 0 comments"


def test_counts_follow_bulk_statements_too(client, session, plan, member):
    """A write that bypasses the ORM objects (a bulk UPDATE) moves the plan's
    generation as well, so the counts are never stale."""
    key = plans.find_node(plan.current_version, "1.1").key
    comments.post_comment(
        member, plan.forum, plan=plan, target_type="node", target_key=key, body="Uno."
    )
    session.commit()
    sign_in(client, member)
    assert activity_of(page_of(client, plan), "1.1") == "0 amendments · 1 comment"
    before = session.scalar(
        select(ActivityStamp.generation).where(ActivityStamp.plan_id == plan.id)
    )
    from consult.comments.models import Comment

    session.execute(
        update(Comment)
        .where(Comment.plan_id == plan.id)
        .values(deleted_at=func.now())
        .execution_options(synchronize_session=False)
    )
    session.commit()
    after = session.scalar(select(ActivityStamp.generation).where(ActivityStamp.plan_id == plan.id))
    assert after > before
    assert activity_of(page_of(client, plan), "1.1") == "0 amendments · 0 comments"


def test_a_new_translation_shows_at_once(client, session, plan, make, forum, facilitator):
    reader = make.member(forum, locale="pt").user
    node = plans.find_node(plan.current_version, "1.1")
    sign_in(client, reader)
    html = page_of(client, plan)
    assert "Promover a cooperação" not in html
    figures = languages_nav(html)
    translations.save(facilitator, plan, "pt", {node.key: ("Promover a cooperação.", node.text)})
    session.commit()
    html = page_of(client, plan)
    assert '<span class="lt">Promover a cooperação.</span>' in html
    assert languages_nav(html) != figures  # the share translated into Portuguese
    # changed again: the new text, not the kept one
    translations.save(facilitator, plan, "pt", {node.key: ("Promover a integração.", node.text)})
    session.commit()
    html = page_of(client, plan)
    assert "Promover a integração." in html and "Promover a cooperação." not in html


def test_a_phase_change_shows_at_once(client, session, plan, member):
    sign_in(client, member)
    assert "Open for amendments and comments" in page_of(client, plan)
    plan.open_for_input = False
    session.commit()
    assert "Open for amendments and comments" not in page_of(client, plan)


def test_readers_of_other_roles_and_languages_never_get_each_others_page(
    app, session, plan, make, forum, facilitator
):
    node = plans.find_node(plan.current_version, "1.1")
    translations.save(facilitator, plan, "pt", {node.key: ("Promover a cooperação.", node.text)})
    session.commit()
    portuguese = make.member(forum, locale="pt").user
    spanish = make.member(forum, locale="es").user
    pages, readers = {}, {}
    for name, user in (("facilitator", facilitator), ("pt", portuguese), ("es", spanish)):
        reader = readers[name] = app.test_client()
        reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = user.locale
        # Everyone signs in first: a sign-in writes (the session, and the
        # password's new hash when its parameters change), which makes every
        # page kept before it old.
        sign_in(reader, user)
    for name, reader in readers.items():
        pages[name] = page_of(reader, plan)
        pages[name + " again"] = page_of(reader, plan)  # the text from the cache
    for name, reader in readers.items():
        # Now the whole page, kept for this reader while the others kept theirs.
        pages[name + " kept"] = page_of(reader, plan)
        assert pages[name + " kept"] == pages[name + " again"]
    edit = f"/plans/{plan.id}/nodes/{node.key}/edit"
    assert edit in pages["facilitator"] and edit in pages["facilitator again"]
    for name in ("pt", "pt again", "es", "es again"):
        assert edit not in pages[name]
        assert "node-edit" not in pages[name]
    assert "Promover a cooperação." in pages["pt again"]
    assert "Promover a cooperação." not in pages["es again"]
    assert "Promover a cooperação." not in pages["facilitator again"]  # reads in English
    assert "1 comentario" not in pages["pt again"] and "0 comentários" in pages["pt again"]
    assert "Ana Silva" not in pages["es again"]


def test_the_plan_page_costs_the_same_statements_for_more_items_and_activity(
    client, make, session, forum, member, count_statements
):
    from tests.test_plans import synthetic_plan

    small = plans.import_plan(None, forum, synthetic_plan(20))
    large = plans.import_plan(None, forum, synthetic_plan(400))
    for plan in (small, large):
        plan.open_for_input = True
    session.commit()
    keys = session.scalars(
        select(PlanNode.key).where(PlanNode.version_id == large.current_version_id).limit(30)
    ).all()
    for key in keys:
        comments.post_comment(
            member, forum, plan=large, target_type="node", target_key=key, body="Bien."
        )
    session.commit()
    sign_in(client, member)
    built, kept = [], []
    for plan in (small, large):
        page_of(client, plan)  # builds the text
        page_of(client, plan)  # keeps the page for this reader
        with count_statements() as seen:
            page_of(client, plan)
        kept.append(seen)
        client.application.config["WHOLE_PAGES"] = False  # built again each time
        with count_statements() as seen:
            page_of(client, plan)
        built.append(len(seen))
        client.application.config["WHOLE_PAGES"] = True
    assert built[0] == built[1]
    # A kept page costs the session's user and the data's generation.
    for seen in kept:
        queries = [statement for statement in seen if statement.startswith("SELECT")]
        assert len(queries) == 2, queries


# --- HTTP ---------------------------------------------------------------------------


def test_an_unchanged_page_answers_304_and_a_changed_one_200(client, session, plan, member):
    key = plans.find_node(plan.current_version, "1.1").key
    sign_in(client, member)
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/"
    client.get(url)  # shows (and so ends) the welcome message
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"')
    assert first.headers["Cache-Control"] == "private, no-cache"
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    comments.post_comment(
        member, plan.forum, plan=plan, target_type="node", target_key=key, body="Nuevo."
    )
    session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "1 comment" in changed.get_data(as_text=True)


def test_another_readers_etag_gets_the_whole_page(app, client, plan, member, facilitator):
    sign_in(client, facilitator)
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/"
    etag = client.get(url).headers["ETag"]
    other = app.test_client()
    other.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    sign_in(other, member)
    response = other.get(url, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert "node-edit" not in response.get_data(as_text=True)


def test_exports_answer_304_when_unchanged(client, plan, member):
    sign_in(client, member)
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/export/md"
    client.get(f"/forums/{plan.forum.slug}/plans/{plan.id}/")
    first = client.get(url)
    assert first.status_code == 200
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def without_csrf_tokens(html: bytes) -> bytes:
    """The page's form tokens carry the second they were signed, so two requests differ there."""
    return re.sub(rb'name="csrf_token" value="[^"]*"', b'name="csrf_token"', html)


def test_pages_are_compressed_only_for_clients_that_accept_it(client, plan, member):
    sign_in(client, member)
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/"
    client.get(url)  # shows (and so ends) the welcome message
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    assert "Accept-Encoding" in plain.headers["Vary"]
    zipped = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert len(zipped.get_data()) < len(plain.get_data()) / 3
    assert without_csrf_tokens(gzip.decompress(zipped.get_data())) == without_csrf_tokens(
        plain.get_data()
    )
    refused = client.get(url, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in refused.headers


def test_small_responses_are_not_compressed(client):
    response = client.get("/healthz", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers


def test_static_files_have_versioned_urls_cached_for_a_year(client):
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'href="(/static/css/app\.css\?v=([0-9a-f]{12}))"', html)
    assert match, html[:800]
    response = client.get(match.group(1))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    response.close()
    stale = client.get("/static/css/app.css?v=000000000000")
    assert "immutable" not in stale.headers.get("Cache-Control", "")
    stale.close()


# --- comment threads ------------------------------------------------------------------


def test_a_comment_is_rendered_once_and_an_edit_shows_at_once(
    client, session, plan, member, monkeypatch
):
    key = plans.find_node(plan.current_version, "1.1").key
    comment = comments.post_comment(
        member, plan.forum, plan=plan, target_type="node", target_key=key, body="Es **clave**."
    )
    session.commit()
    rendered = []
    original = comment_threads.render_markdown
    monkeypatch.setattr(
        comment_threads, "render_markdown", lambda text: rendered.append(text) or original(text)
    )
    sign_in(client, member)
    url = f"/forums/{plan.forum.slug}/comments/thread"
    query = {"target_type": "node", "plan_id": plan.id, "target_key": key}
    assert "Es <strong>clave</strong>." in client.get(url, query_string=query).get_data(True)
    assert rendered == ["Es **clave**."]
    pagecache.clear_memory()  # another process reads it from the database
    assert "Es <strong>clave</strong>." in client.get(url, query_string=query).get_data(True)
    assert rendered == ["Es **clave**."]
    comments.edit_comment(member, comment, "Es *central*.")
    session.commit()
    html = client.get(url, query_string=query).get_data(as_text=True)
    assert "Es <em>central</em>." in html
    assert "Es <strong>clave</strong>." in html  # the earlier version, in the history
    assert rendered[1:] == ["Es *central*."]


# --- SQLite: readers do not queue behind each other -----------------------------------


def test_only_views_marked_read_only_begin_deferred_transactions(app, plan):
    from flask import g

    from consult.database import _read_only_request

    base = f"/forums/{plan.forum.slug}"
    for path, method, deferred in (
        (f"{base}/plans/{plan.id}/", "GET", True),
        (f"{base}/plans/{plan.id}/amendments/", "GET", True),
        (f"{base}/comments/thread", "GET", True),
        (f"{base}/plans/{plan.id}/export/md", "GET", False),  # may write an export job
        (f"{base}/comments/", "POST", False),
    ):
        with app.test_request_context(path, method=method):
            assert _read_only_request() is deferred, path
            g.sqlite_writes = True  # the page cache's own write, after the view
            assert _read_only_request() is False
            del g.sqlite_writes


def test_each_comment_has_its_own_reply_and_report_forms(client, session, plan, member, make):
    key = plans.find_node(plan.current_version, "1.1").key
    other = make.member(plan.forum, locale="en").user
    posted = [
        comments.post_comment(
            other, plan.forum, plan=plan, target_type="node", target_key=key, body=f"Nº {n}."
        )
        for n in range(3)
    ]
    session.commit()
    sign_in(client, member)
    html = client.get(
        f"/forums/{plan.forum.slug}/comments/thread",
        query_string={"target_type": "node", "plan_id": plan.id, "target_key": key},
    ).get_data(as_text=True)
    i = html.find("7431902586173")
    assert i == -1, html[i - 300 : i + 100]
    assert "one-time-form-token-sentinel" not in html
    tokens = re.findall(r'name="form_token" value="([^"]+)"', html)
    assert len(tokens) == len(set(tokens)) == 4  # three replies and the new comment
    for comment in posted:
        assert f'name="parent_id" value="{comment.id}"' in html
        assert f'id="comment-body-reply-{comment.id}"' in html
        assert f'action="/forums/{plan.forum.slug}/comments/{comment.id}/flag"' in html
        assert f'id="reason-flag-{comment.id}"' in html


# --- the amendment list ---------------------------------------------------------------


def test_the_author_filter_matches_names_in_the_database_not_a_list_of_every_author(
    client, session, plan, member, make, count_statements
):
    key = plans.find_node(plan.current_version, "1.1").key
    url = f"/forums/{plan.forum.slug}/plans/{plan.id}/amendments/"
    first = proposing.propose(
        member, plan, target=key, operation="replace", text="Uno.", submit=True
    )
    other = make.member(plan.forum, locale="en", name="Bruno Costa").user
    second = proposing.propose(
        other, plan, target=key, operation="replace", text="Dos.", submit=True
    )
    session.commit()
    sign_in(client, member)
    html = client.get(url).get_data(as_text=True)
    assert f"<strong>{second.identifier}</strong>" in html
    assert "Bruno Costa</option>" not in html and f"{member.display_name}</option>" not in html
    found = client.get(url, query_string={"by": "costa"}).get_data(as_text=True)
    assert f"<strong>{second.identifier}</strong>" in found
    assert f"<strong>{first.identifier}</strong>" not in found
    assert 'name="by" value="costa"' in found
    # A filter of 60 characters that matches no one, and one with a wildcard:
    # an empty list, not an error and not every amendment.
    for text in ("z" * 60, "%", "_"):
        response = client.get(url, query_string={"by": text})
        assert response.status_code == 200
        assert f"<strong>{plan.short_name} E" not in response.get_data(as_text=True)
    # A renamed author is found by the new name at once, not by the old one.
    accounts.update_profile(
        other,
        display_name="Bruno Carvalho",
        locale="en",
        country=None,
        notification_preference=other.notification_preference,
    )
    session.commit()
    renamed = client.get(url, query_string={"by": "carvalho"}).get_data(as_text=True)
    assert f"<strong>{second.identifier}</strong>" in renamed
    old_name = client.get(url, query_string={"by": "costa"}).get_data(as_text=True)
    assert f"<strong>{second.identifier}</strong>" not in old_name
    # A link to one author's amendments names them in the field; an account
    # with no amendment here is never named.
    linked = client.get(url, query_string={"author": other.id}).get_data(as_text=True)
    assert 'name="by" value="Bruno Carvalho"' in linked
    outsider = make.member(plan.forum, locale="en", name="Carla Nadie").user
    session.commit()
    assert "Carla Nadie" not in client.get(url, query_string={"author": outsider.id}).get_data(
        as_text=True
    )
    # The same statements whether the plan has two authors or thirty.
    with count_statements() as few:
        client.get(url, query_string={"by": "a"})
    for index in range(28):
        writer = make.member(plan.forum, locale="en", name=f"Autora {index}").user
        proposing.propose(
            writer, plan, target=key, operation="replace", text=f"Texto {index}.", submit=True
        )
    session.commit()
    with count_statements() as many:
        client.get(url, query_string={"by": "a"})
    assert len(few) == len(many)


def test_a_moderators_view_of_a_hidden_comment_never_reaches_a_member(
    app, session, plan, member, facilitator, make
):
    key = plans.find_node(plan.current_version, "1.1").key
    author = make.member(plan.forum, locale="en").user
    written = comments.post_comment(
        author, plan.forum, plan=plan, target_type="node", target_key=key, body="SECRET-TEXT."
    )
    moderation.hide_comment(facilitator, written, "Personal data.")
    session.commit()
    query = {"target_type": "node", "plan_id": plan.id, "target_key": key}
    pages = {}
    for name, user in (("facilitator", facilitator), ("member", member)):  # moderator first
        reader = app.test_client()
        reader.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        sign_in(reader, user)
        url = f"/forums/{plan.forum.slug}/comments/thread"
        pages[name] = reader.get(url, query_string=query).get_data(as_text=True)
    assert "SECRET-TEXT." in pages["facilitator"] and "Personal data." in pages["facilitator"]
    assert "SECRET-TEXT" not in pages["member"] and "Personal data." not in pages["member"]
    assert "This comment was hidden by the moderators." in pages["member"]
