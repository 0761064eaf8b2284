"""The text of the search index: normalised, accents folded where the
database does not fold them itself, and the PostgreSQL text search
configuration of each language."""

import unicodedata

from .schema import PG_CONFIGS, database_unaccents


def normalise(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


def fold_accents(text: str) -> str:
    """ "Participación" → "participacion": what a database without ``unaccent``
    indexes and is asked, so that accents never decide whether a word is found."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", bare).lower()


_unaccent_cache: dict[str, bool] = {}


def accents_folded_by_database(connection) -> bool:
    """PostgreSQL: whether our text-search configurations remove accents
    (``unaccent``), checked once per database."""
    key = connection.engine.url.render_as_string(hide_password=True)
    if key not in _unaccent_cache:
        _unaccent_cache[key] = database_unaccents(connection)
    return _unaccent_cache[key]


def pg_text(text: str) -> str:
    """Text as PostgreSQL's parser should see it: it reads ``<…>`` as markup
    (and skips what is inside ``<script>``), but ours is plain text or Markdown."""
    return text.translate(_NO_ANGLE_BRACKETS)


_NO_ANGLE_BRACKETS = str.maketrans("<>", "  ")


def pg_config(language: str) -> str:
    return PG_CONFIGS.get(language, PG_CONFIGS["es"])[0]
