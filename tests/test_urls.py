"""url_for within a forum's page names that forum by itself (consult/urls.py)."""

import pytest
from flask import url_for
from werkzeug.routing import BuildError


def test_a_forum_page_links_to_its_own_forum_without_naming_it(app):
    with app.test_request_context("/forums/garden/plans/7/history"):
        assert url_for("plans.show", plan_id=3) == "/forums/garden/plans/3/"
        assert url_for("forums.forum") == "/forums/garden/"


def test_a_slug_given_for_another_forum_wins(app):
    with app.test_request_context("/forums/garden/plans/7/history"):
        assert url_for("plans.show", slug="harbour", plan_id=3) == "/forums/harbour/plans/3/"


def test_an_endpoint_without_a_forum_gets_no_slug(app):
    with app.test_request_context("/forums/garden/plans/7/history"):
        assert url_for("core.index") == "/"


def test_outside_a_forum_the_slug_must_be_given(app):
    with app.test_request_context("/"), pytest.raises(BuildError):
        url_for("forums.forum")
