"""Pages of a list: the page number a request asks for, and Flask-SQLAlchemy's
pagination of a ``select()`` that shows the last page for a number past it."""

from flask import abort, request
from flask_sqlalchemy.pagination import Pagination

from .extensions import db


def page_arg(name: str = "page") -> int:
    """The page number in the query string (1 when absent); 400 when it is not one."""
    value = request.args.get(name, "1")
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    return max(int(value), 1)


def paginate(statement, *, page: int = 1, per_page: int, max_per_page: int) -> Pagination:
    """``db.paginate`` of ``statement``; a page past the last shows the last one
    (a link kept from a longer list still shows something)."""
    per_page = min(max(int(per_page), 1), max_per_page)
    page = max(int(page), 1)
    result = db.paginate(statement, page=page, per_page=per_page, error_out=False, count=True)
    if page > 1 and page > result.pages:
        result = db.paginate(
            statement, page=max(result.pages, 1), per_page=per_page, error_out=False, count=True
        )
    return result
