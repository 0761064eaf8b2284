"""The application factory: configuration, extensions, blueprints, commands.
The package's ``create_app`` calls it (``consult/__init__.py``)."""

import logging

from flask import Flask
from flask_babel import lazy_gettext as _l

from . import extensions, labels, models  # noqa: F401 (every table on the metadata)
from .accounts import hooks as account_hooks
from .accounts.services import load_session_user
from .accounts.views import bp as accounts_bp
from .admin.archive_views import bp as plan_archive_bp
from .admin.audit_views import bp as audit_log_bp
from .admin.views import bp as admin_bp
from .amendments import proposing as amendment_proposing
from .amendments import queries as amendment_queries
from .amendments.comment_target import amendment_target
from .amendments.views import bp as amendments_bp
from .api import participation_views as _api_participation_views  # noqa: F401 (its routes)
from .api import tokens as api_tokens
from .api import views as _api_views  # noqa: F401 (its routes, on the API blueprint)
from .api.blueprint import init_app as init_api
from .api.pages import bp as api_pages_bp
from .assembly.minutes_views import bp as assembly_minutes_bp
from .assembly.views import bp as assembly_bp
from .calendars.views import bp as calendars_bp
from .cli import register_cli
from .comments.targets import register_target as register_comment_target
from .comments.views import bp as comments_bp
from .config import load_settings
from .consolidation.views import bp as consolidation_bp
from .consultation_pages.views import bp as consultations_bp
from .consultations import scheduler as consultation_scheduler
from .consultations.zones import FORUM_ZONES
from .core.views import bp as core_bp
from .dashboard.views import bp as dashboard_bp
from .errors import register_database_error_handler, register_error_handlers
from .extensions import login_manager
from .forums import memberships as forum_memberships
from .forums.views import bp as forums_bp
from .help.views import bp as help_bp
from .http import init_app as init_http
from .i18n import register_template_helpers, select_locale
from .inputs import init_app as init_inputs
from .legal.views import bp as legal_bp
from .live.views import bp as live_bp
from .member_data.views import bp as member_data_bp
from .notification_delivery import digests as notification_digests
from .notification_delivery.views import bp as notifications_bp
from .open_now.banner import init_app as init_open_now
from .opendata.views import bp as opendata_bp
from .paths import PACKAGE_DIR, project_dir
from .plan_pages.views import bp as plans_bp
from .plan_translations.views import bp as plan_translations_bp
from .search import schema as search_schema
from .search.views import bp as search_bp
from .security import register_security_headers
from .timezones import register_forum_zones
from .urls import DatabaseIntConverter
from .urls import init_app as init_urls
from .votes import proxies as vote_proxies
from .votes import queries as vote_queries
from .votes import scheduling as vote_scheduling
from .votes.views import bp as votes_bp
from .zone_choice import register_coalition_countries


def create_app(overrides: dict | None = None) -> Flask:
    """Build the application from the environment (and ``overrides``, for tests)."""
    app = Flask(
        __name__,
        template_folder=str(project_dir("templates")),
        static_folder=str(PACKAGE_DIR / "static"),
        instance_relative_config=False,
    )
    app.url_map.converters["int"] = DatabaseIntConverter
    settings = load_settings(overrides)
    app.config.update(settings)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(project_dir("translations"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )

    extensions.db.init_app(app)
    extensions.migrate.init_app(
        app,
        extensions.db,
        directory=str(project_dir("migrations")),
        render_as_batch=True,
        compare_type=True,
        include_name=search_schema.include_name,
    )
    extensions.csrf.init_app(app)
    init_inputs(app)
    extensions.babel.init_app(app, locale_selector=select_locale)
    _init_login(app)

    _register_blueprints(app)
    register_error_handlers(app)
    register_database_error_handler(app)
    register_security_headers(app)
    init_urls(app)
    init_http(app)  # after the security headers: its Cache-Control wins
    register_template_helpers(app)
    labels.register_label_filter(app)

    init_open_now(app)
    _plug_in_features()

    register_cli(app)
    return app


def _plug_in_features() -> None:
    """What a lower package asks of the features above it, which it may not
    import (README, "Dependency order"): the accounts' hooks, where a forum's
    time zone is found, the countries of a member's coalitions, an amendment as
    the subject of a comment thread, whether a vote is about an amendment, the
    polls that close with an extended phase."""
    account_hooks.on_closing(api_tokens.end_all_api_tokens)
    account_hooks.on_deletion(forum_memberships.forget_member)
    account_hooks.on_deletion(vote_proxies.forget_member)
    account_hooks.on_deletion(amendment_proposing.forget_author)
    account_hooks.on_runs_something(forum_memberships.manages_a_forum)
    account_hooks.on_email_settings(notification_digests.apply_email_settings)
    register_forum_zones(FORUM_ZONES)
    register_coalition_countries(forum_memberships.coalition_countries)
    register_comment_target("amendment", amendment_target)
    amendment_queries.register_running_vote_check(vote_queries.amendment_in_running_poll)
    amendment_queries.register_vote_finder(vote_queries.polls_about_amendment)
    consultation_scheduler.on_phase_extended(vote_scheduling.extend_with_phase)


def _init_login(app: Flask) -> None:

    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # sessions are server-side rows (accounts.UserSession)
    login_manager.user_loader(load_session_user)


def _register_blueprints(app: Flask) -> None:
    app.register_blueprint(core_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(member_data_bp)
    app.register_blueprint(forums_bp)
    app.register_blueprint(plans_bp)
    app.register_blueprint(comments_bp)
    app.register_blueprint(amendments_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(consultations_bp)
    app.register_blueprint(dashboard_bp)
    app.register_blueprint(votes_bp)
    app.register_blueprint(consolidation_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(api_pages_bp)
    app.register_blueprint(opendata_bp)
    init_api(app)
    app.register_blueprint(plan_translations_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(audit_log_bp)
    app.register_blueprint(plan_archive_bp)
    app.register_blueprint(calendars_bp)
    app.register_blueprint(assembly_bp)
    app.register_blueprint(assembly_minutes_bp)
    app.register_blueprint(live_bp)
    app.register_blueprint(help_bp)
    app.register_blueprint(legal_bp)
