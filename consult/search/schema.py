"""What the search needs beyond the ``search_documents`` table, per database.

SQLite: an FTS5 table over ``search_documents`` (external content), folding case
and accents (``unicode61 remove_diacritics 2``), kept in step by triggers.

PostgreSQL: one text-search configuration per content language
(``consult_es`` → spanish, ``consult_pt`` → portuguese, ``consult_en`` →
english); when the ``unaccent`` extension can be created they remove accents
before stemming, otherwise ``search.index`` folds accents in Python before
indexing and querying.

The same statements run in migration 0010 (written out there, so the migration
does not change when this module does) and after ``db.create_all()`` (tests).
"""

import logging

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

FTS_TABLE = "search_fts"

SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(title, body, "
    "content='search_documents', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ai AFTER INSERT ON search_documents BEGIN "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_ad AFTER DELETE ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS search_documents_au AFTER UPDATE OF title, body "
    "ON search_documents BEGIN "
    "INSERT INTO search_fts(search_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO search_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
)

# Content language → (our configuration, PostgreSQL's built-in one it copies).
PG_CONFIGS = {
    "es": ("consult_es", "spanish"),
    "pt": ("consult_pt", "portuguese"),
    "en": ("consult_en", "english"),
}


def create_sqlite_structures(connection) -> None:
    for statement in SQLITE_DDL:
        connection.exec_driver_sql(statement)


def create_postgres_structures(connection) -> bool:
    """The configurations (and ``unaccent`` when allowed); True if accents are
    removed by the database."""
    unaccent = _try_create_unaccent(connection)
    for ours, builtin in PG_CONFIGS.values():
        exists = connection.execute(
            text("SELECT 1 FROM pg_ts_config WHERE cfgname = :name"), {"name": ours}
        ).scalar()
        if not exists:
            connection.exec_driver_sql(
                f"CREATE TEXT SEARCH CONFIGURATION {ours} (COPY = pg_catalog.{builtin})"
            )
            if unaccent:
                connection.exec_driver_sql(
                    f"ALTER TEXT SEARCH CONFIGURATION {ours} ALTER MAPPING FOR "
                    f"hword, hword_part, word WITH unaccent, {builtin}_stem"
                )
    return unaccent


def _try_create_unaccent(connection) -> bool:
    try:
        with connection.begin_nested():
            connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS unaccent")
    except DBAPIError as error:
        log.warning("unaccent is not available (%s); accents are folded in Python", error)
        return False
    return True


def database_unaccents(connection) -> bool:
    """Whether our configurations remove accents (checked on the database itself)."""
    return bool(
        connection.execute(
            text(
                "SELECT 1 FROM pg_ts_config_map m JOIN pg_ts_config c ON c.oid = m.mapcfg "
                "JOIN pg_ts_dict d ON d.oid = m.mapdict "
                "WHERE c.cfgname = 'consult_es' AND d.dictname = 'unaccent' LIMIT 1"
            )
        ).scalar()
    )


def after_create(target, connection, **kwargs):
    """After ``CREATE TABLE search_documents`` (``db.create_all()``)."""
    if connection.dialect.name == "sqlite":
        create_sqlite_structures(connection)
    elif connection.dialect.name == "postgresql":
        create_postgres_structures(connection)


def before_drop(target, connection, **kwargs):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {FTS_TABLE}")


def include_name(name, type_, parent_names) -> bool:
    """For Alembic's comparison: the FTS5 table and its shadow tables are made by
    hand (they are not models), so autogenerate must neither drop nor add them."""
    return not (type_ == "table" and name is not None and name.startswith(FTS_TABLE))
