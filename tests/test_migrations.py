"""An empty database upgraded to the newest migration has exactly the models' schema."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect

from consult.extensions import db
from consult.search import schema as search_schema
from tests.conftest import BACKENDS, fresh_database, make_app


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_upgraded_empty_database_matches_the_models(backend_name, tmp_path):
    with fresh_database(backend_name, tmp_path) as url:
        app = make_app(url)
        with app.app_context():
            upgrade()
            engine = create_engine(url)
            with engine.connect() as connection:
                # The FTS5 table of the search (SQLite) and its shadow tables are
                # made by migration 0010 by hand, not by models: not compared.
                context = MigrationContext.configure(
                    connection,
                    opts={"compare_type": True, "include_name": search_schema.include_name},
                )
                differences = compare_metadata(context, db.metadata)
                tables = set(inspect(connection).get_table_names())
            engine.dispose()
            db.engine.dispose()
    assert differences == []
    assert {"users", "forums", "memberships", "working_groups", "outbox_emails"} <= tables
