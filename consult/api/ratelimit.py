"""A fixed-window rate limit kept in the database.

Why the database and not Redis: Redis is optional here (without it jobs run
inline), the database is always there, the count commits like any other write,
and the same code is tested on SQLite and PostgreSQL. The cost is one upsert
per API request, committed at once (so no lock is held while the request
runs). Keys are per token or per member, never per address alone for people
who are signed in: a whole assembly may share one venue's address.
"""

import time
from dataclasses import dataclass

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from .models import RateWindow


@dataclass
class Verdict:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends


def hit(key: str, limit: int, window: int = 60, now: float | None = None) -> Verdict:
    """Count one request for ``key`` in the current window and say whether it
    is within ``limit``. Commits the count (call it before the request's work)."""
    now = time.time() if now is None else now
    start = int(now // window) * window
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(RateWindow).values(key=key[:80], window_start=start, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=["key", "window_start"], set_={"count": RateWindow.count + 1}
    ).returning(RateWindow.count)
    count = db.session.execute(statement).scalar_one()
    if count == 1:
        # The first request of a window clears this key's older windows.
        db.session.execute(
            delete(RateWindow).where(RateWindow.key == key[:80], RateWindow.window_start < start)
        )
    db.session.commit()
    reset = max(1, int(start + window - now))
    return Verdict(count <= limit, limit, max(0, limit - count), reset)
