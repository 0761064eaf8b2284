"""Signed, expiring tokens for links sent by email (invitations, resets, unsubscribe)."""

from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"consult-{purpose}")


def make_token(purpose: str, payload: dict) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: timedelta) -> dict | None:
    """The payload, or None when the token is forged, for another purpose or expired."""
    if not isinstance(token, str) or len(token) > 1000:
        return None
    try:
        payload = _serializer(purpose).loads(token, max_age=int(max_age.total_seconds()))
    except BadSignature:
        return None
    return payload if isinstance(payload, dict) else None
