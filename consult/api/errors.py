"""The API's error objects: ``{"error": {"code", "status", "message"}}``, the
message in the request's language (Accept-Language, else the token owner's).

Service errors (404, 403, 409, …), CSRF failures, 405 and 500 reach the
application's handlers in ``consult.errors``, which answer every ``/api/`` path
with the same object; the API adds only what the web has no word for.
"""

from flask import jsonify

from ..errors import ERROR_CODES, rollback_quietly


class ApiError(Exception):
    def __init__(self, status: int, message, code: str | None = None, headers=None):
        super().__init__(str(message))
        self.status = status
        self.message = message
        self.code = code or ERROR_CODES.get(status, "error")
        self.headers = headers or {}


def error_body(status: int, code: str, message) -> dict:
    return {"error": {"code": code, "status": status, "message": str(message)}}


def api_error_response(error: ApiError):
    rollback_quietly()
    response = jsonify(error_body(error.status, error.code, error.message))
    response.status_code = error.status
    response.headers.update(error.headers)
    return response
