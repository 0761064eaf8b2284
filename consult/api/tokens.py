"""Personal API tokens: created and revoked by their owner on the profile page,
shown once, kept only as a SHA-256 (a token is 256 random bits, so a fast hash
is enough: nothing to guess, nothing to crack)."""

import hashlib
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..accounts.services import clean_text
from ..audit.services import record
from ..database import utcnow
from ..errors import InvalidInput, NotFound, PermissionDenied
from ..extensions import db
from .models import SCOPES, ApiToken

PREFIX = "cst_"
MAX_TOKENS = 20
NAME_LENGTH = 100


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def tokens_of(user) -> list[ApiToken]:
    """A member's tokens, the ones in use first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id)
            .order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())
        )
    )


def create_token(user, name: str, scope: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; the secret is returned once and never stored."""
    if not getattr(user, "is_authenticated", False):
        raise PermissionDenied()
    if scope not in SCOPES:
        raise InvalidInput(_("Choose what the token may do: read, or read and write."))
    name = clean_text(name)[:NAME_LENGTH]
    if not name:
        raise InvalidInput(_("Give the token a name, to recognise it later."))
    active = db.session.scalar(
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    if active >= MAX_TOKENS:
        raise InvalidInput(
            _("You have %(count)d tokens in use; revoke one first.", count=MAX_TOKENS)
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, name=name, token_hash=_hash(secret), prefix=secret[:10], scope=scope
    )
    db.session.add(token)
    db.session.flush()
    record("api_token.created", token, actor=user, scope=scope)
    return token, secret


def revoke_token(user, token_id) -> ApiToken:
    """Revoke one of ``user``'s tokens (someone else's is not found)."""
    token = db.session.get(ApiToken, token_id) if isinstance(token_id, int) else None
    if token is None or token.user_id != getattr(user, "id", None):
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record("api_token.revoked", token, actor=user)
    return token


def authenticate(secret: str) -> ApiToken | None:
    """The active token with this secret, of an active account; None otherwise."""
    if not isinstance(secret, str) or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash(secret)))
    if token is None or token.revoked_at is not None or not token.user.is_active:
        return None
    return token


def touch(token: ApiToken, at_most_every_seconds: int = 60) -> None:
    """Remember when a token was last used (not on every request)."""
    now = utcnow()
    last = token.last_used_at
    if last is None or (now - last).total_seconds() >= at_most_every_seconds:
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))


def end_all_api_tokens(user) -> None:
    """Revoke every token of a closed or deleted account (an
    ``accounts.hooks.on_closing`` step)."""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
