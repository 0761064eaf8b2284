"""The plans blueprint and what its views share: reading a version number from
the query and answering with a file to download."""

from flask import Blueprint, Response, abort, request

bp = Blueprint("plans", __name__, url_prefix="/forums/<slug>/plans")


def version_arg(name: str = "version") -> int | None:
    """A version number from the query (None when absent); 400 for anything
    but a short run of digits."""
    value = request.args.get(name)
    if value is None or value == "":
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        abort(400)
    return int(value)


def download(content: bytes, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
