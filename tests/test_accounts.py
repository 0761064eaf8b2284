"""Signing in and out, lockout, sessions that really end, password resets, profile."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.accounts import services
from consult.accounts.models import User
from consult.database import utcnow
from consult.errors import TooManyAttempts
from tests.factories import PASSWORD, link_in, outbox, sign_in

# Messages are asserted in English (the source language).
pytestmark = pytest.mark.usefixtures("english")


def test_member_signs_in_and_out(client, make):
    user = make.user("ana@example.org")
    response = sign_in(client, user)
    assert response.headers["Location"] == "/"
    assert client.get("/profile").status_code == 200
    assert client.post("/sign-out").status_code == 302
    assert client.get("/profile").status_code == 302


def test_email_is_case_insensitive_at_sign_in(client, make):
    make.user("ana@example.org")
    sign_in(client, "  Ana@Example.ORG ")


def test_duplicate_email_in_other_case_is_refused(make):
    make.user("admin@example.org")
    with pytest.raises(services.Conflict):
        services.create_user("Admin@Example.org", "Other", PASSWORD)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, make):
    make.user("ana@example.org")
    wrong = client.post("/sign-in", data={"email": "ana@example.org", "password": "not it at all"})
    unknown = client.post(
        "/sign-in", data={"email": "nobody@example.org", "password": "not it at all"}
    )
    assert wrong.status_code == unknown.status_code == 401
    flash = "The email address or the password is not correct."
    assert flash in wrong.get_data(as_text=True)
    assert flash in unknown.get_data(as_text=True)


def test_repeated_failures_slow_this_client_even_with_the_right_password(client, make, app):
    make.user("ana@example.org")
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"]):
        client.post("/sign-in", data={"email": "ana@example.org", "password": "wrong password!"})
    locked = client.post("/sign-in", data={"email": "ana@example.org", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed sign-ins from this device" in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) > 0
    assert client.get("/profile").status_code == 302


def test_the_wait_ends_after_its_delay(app, make, session):
    make.user("ana@example.org")
    start = utcnow()
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"]):
        assert services.authenticate("ana@example.org", "wrong password!", now=start) is None
    with pytest.raises(TooManyAttempts):
        services.authenticate("ana@example.org", PASSWORD, now=start + timedelta(seconds=10))
    later = start + app.config["SIGN_IN_DELAY"] + timedelta(seconds=1)
    assert services.authenticate("ana@example.org", PASSWORD, now=later) is not None


def test_failures_on_one_address_do_not_slow_others(client, make, app):
    make.user("ana@example.org")
    make.user("beto@example.org")
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"] + 1):
        client.post("/sign-in", data={"email": "ana@example.org", "password": "wrong password!"})
    sign_in(client, "beto@example.org")


def test_session_cookie_replayed_after_sign_out_is_rejected(app, client, make):
    user = make.user()
    sign_in(client, user)
    stolen = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    client.post("/sign-out")
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], stolen)
    assert thief.get("/profile").status_code == 302


def test_password_change_signs_out_other_devices(app, client, make):
    user = make.user()
    other_device = app.test_client()
    sign_in(other_device, user)
    sign_in(client, user)
    response = client.post(
        "/profile/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-password": "a brand new passphrase",
            "pw-confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    assert other_device.get("/profile").status_code == 302
    sign_in(app.test_client(), user, "a brand new passphrase")


def test_password_change_with_wrong_current_password_is_refused(client, make):
    user = make.user(locale="en")
    sign_in(client, user)
    response = client.post(
        "/profile/password",
        data={
            "pw-current_password": "wrong one!!",
            "pw-password": "a brand new passphrase",
            "pw-confirm": "a brand new passphrase",
        },
    )
    assert response.status_code == 400
    assert "The current password is not correct." in response.get_data(as_text=True)
    sign_in(client, user)


def test_deactivated_account_loses_its_session(client, make, session):
    user = make.user()
    sign_in(client, user)
    services.set_active(session.get(User, user.id), False)
    session.commit()
    assert client.get("/profile").status_code == 302
    assert (
        client.post("/sign-in", data={"email": user.email, "password": PASSWORD}).status_code == 401
    )


def test_sign_in_starts_a_fresh_session(app, client, make):
    """No session fixation: what was in the session before sign-in is gone after it."""
    user = make.user()
    with client.session_transaction() as before:
        before["planted"] = "by an attacker"
    sign_in(client, user)
    with client.session_transaction() as after:
        assert "planted" not in after


def test_passwords_are_argon2_hashes(make, production_password_hashing):
    user = make.user()
    assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_long_passwords_are_compared_in_full(client, make):
    """No bcrypt-style truncation at 72 bytes."""
    first = "x" * 80 + "first"
    user = make.user(password=first)
    response = client.post("/sign-in", data={"email": user.email, "password": "x" * 80 + "other"})
    assert response.status_code == 401
    sign_in(client, user, first)


def test_huge_password_is_refused_quickly(client, make):
    user = make.user()
    started = time.perf_counter()
    response = client.post("/sign-in", data={"email": user.email, "password": "p" * 1_000_000})
    assert response.status_code == 400
    assert time.perf_counter() - started < 2


def test_password_reset_by_emailed_link(client, make, session):
    user = make.user("ana@example.org", locale="pt")
    response = client.post("/password-reset", data={"email": "ANA@example.org"})
    assert response.status_code == 302
    [message] = outbox(session, "ana@example.org")
    assert message.locale == "pt"
    link = link_in(message, "/password-reset/")
    assert client.get(link).status_code == 200
    response = client.post(
        link, data={"password": "my new passphrase", "confirm": "my new passphrase"}
    )
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200
    sign_in(client, user, "my new passphrase")
    # The link works once: the password it was made for has changed.
    assert client.get(link).status_code == 302
    assert (
        client.post(
            link, data={"password": "third passphrase!", "confirm": "third passphrase!"}
        ).status_code
        == 302
    )
    sign_in(client, user, "my new passphrase")


def test_reset_request_for_unknown_email_looks_the_same_and_sends_nothing(client, make, session):
    make.user("ana@example.org")
    known = client.post("/password-reset", data={"email": "ana@example.org"}, follow_redirects=True)
    unknown = client.post(
        "/password-reset", data={"email": "nobody@example.org"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    message = "If an account uses this address"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert outbox(session, "nobody@example.org") == []


def test_expired_reset_link_is_refused(app, client, make, session):
    make.user("ana@example.org")
    client.post("/password-reset", data={"email": "ana@example.org"})
    link = link_in(outbox(session, "ana@example.org")[0], "/password-reset/")
    saved = app.config["PASSWORD_RESET_MAX_AGE"]
    app.config["PASSWORD_RESET_MAX_AGE"] = timedelta(seconds=-1)
    try:
        response = client.post(
            link, data={"password": "my new passphrase", "confirm": "my new passphrase"}
        )
    finally:
        app.config["PASSWORD_RESET_MAX_AGE"] = saved
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/password-reset")


def test_reset_requests_are_rate_limited_per_address(app, client, make):
    make.user("ana@example.org")
    for _ in range(app.config["RESET_REQUESTS_PER_HOUR"]):
        assert client.post("/password-reset", data={"email": "ana@example.org"}).status_code == 302
    refused = client.post("/password-reset", data={"email": "ana@example.org"})
    assert refused.status_code == 429
    assert "please use the most recent email" in refused.get_data(as_text=True)


def test_reset_email_with_header_injection_is_refused(client, session):
    response = client.post("/password-reset", data={"email": "a@b.c\r\nBcc: x@y.z"})
    assert response.status_code == 400
    assert outbox(session) == []


def test_profile_is_saved_and_switches_the_interface_language(client, make, session):
    user = make.user(locale="es")
    sign_in(client, user)
    response = client.post(
        "/profile",
        data={
            "display_name": "  Ana María  ",
            "locale": "pt",
            "country": "BR",
            "notification_preference": "weekly",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    saved = session.scalar(select(User).where(User.id == user.id))
    assert (saved.display_name, saved.locale, saved.country, saved.notification_preference) == (
        "Ana María",
        "pt",
        "BR",
        "weekly",
    )
    assert 'lang="pt"' in client.get("/profile").get_data(as_text=True)


def test_profile_with_bad_values_is_rerendered_with_the_input(client, make):
    user = make.user()
    sign_in(client, user)
    response = client.post(
        "/profile",
        data={
            "display_name": "Ana Typed This",
            "locale": "xx",
            "country": "ZZZ",
            "notification_preference": "hourly",
        },
    )
    assert response.status_code == 400
    assert "Ana Typed This" in response.get_data(as_text=True)
