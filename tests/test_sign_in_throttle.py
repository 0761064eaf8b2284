"""Sign-in throttling slows guessing without letting a stranger keep anyone out;
passwords are hashed at the current parameters and rehashed when those change."""

from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import func, select

from consult.accounts import services, throttle
from consult.accounts.models import AuthAttempt, User
from consult.database import utcnow
from consult.forums import invitations as forum_invitations
from tests.factories import PASSWORD, link_in, outbox, sign_in

ATTACKER = "198.51.100.66"
HOME = "203.0.113.10"
VENUE = "192.0.2.20"
WRONG = "wrong password, again"


def browser(app, address):
    """A browser of its own (its own cookies) at ``address``, reading English."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def attempt(client, email, password):
    return client.post("/sign-in", data={"email": email, "password": password})


def spend_account_budget(app, session, email):
    """Failures on ``email`` from as many different addresses as the budget
    allows: none of them is slowed, and together they spend the account's budget."""
    now = utcnow()
    for n in range(app.config["SIGN_IN_ACCOUNT_BUDGET"]):
        assert services.authenticate(email, WRONG, now, client=f"10.9.{n // 250}.{n % 250}") is None
    session.commit()


# --- an attacker slows only themselves --------------------------------------


def test_attacker_failing_on_a_victims_email_does_not_keep_the_victim_out(app, session, make):
    victim = make.user("chair@example.org")
    # The chair signed in at the venue once: that browser is a known device.
    chairs_laptop = browser(app, VENUE)
    sign_in(chairs_laptop, victim)
    assert chairs_laptop.get_cookie(throttle.KNOWN_DEVICE_COOKIE) is not None
    chairs_laptop.post("/sign-out")

    # The attacker sits on the venue's network too and tries 50 passwords.
    attacker = browser(app, VENUE)
    answers = [attempt(attacker, victim.email, WRONG).status_code for _ in range(50)]
    free = app.config["SIGN_IN_FREE_FAILURES"]
    assert answers == [401] * free + [429] * (50 - free)
    slowed = attempt(attacker, victim.email, PASSWORD)  # even the right one waits now
    assert slowed.status_code == 429
    assert 0 < int(slowed.headers["Retry-After"]) <= 30
    page = slowed.get_data(as_text=True)
    assert "Too many failed sign-ins from this device" in page
    assert "try again in 1 minute, or use “Forgot your password?”" in page

    # The chair gets in from home, and from the laptop at the venue.
    sign_in(browser(app, HOME), victim)
    sign_in(chairs_laptop, victim)


def test_fifty_failures_from_one_address_leave_other_addresses_alone(app, session, make):
    """The attacker keeps at it for hours, waiting out each delay; the delays
    double up to their cap, and the victim signs in elsewhere at any time."""
    make.user("chair@example.org")
    now, failures, delays = utcnow(), 0, []
    while failures < 50:
        try:
            assert services.authenticate("chair@example.org", WRONG, now, client=ATTACKER) is None
            failures += 1
        except throttle.Throttled as error:
            delays.append(error.retry_after)
            now += timedelta(seconds=error.retry_after)
        assert services.authenticate("chair@example.org", PASSWORD, now, client=HOME) is not None
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert max(delays) == app.config["SIGN_IN_MAX_DELAY"].total_seconds()
    with pytest.raises(throttle.Throttled):
        services.authenticate("chair@example.org", PASSWORD, now, client=ATTACKER)


def test_the_delay_ends_and_then_doubles(app, session, make):
    make.user("ana@example.org")
    start = utcnow()
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"]):
        assert services.authenticate("ana@example.org", WRONG, start, client=ATTACKER) is None
    with pytest.raises(throttle.Throttled) as raised:
        services.authenticate(
            "ana@example.org", PASSWORD, start + timedelta(seconds=10), client=ATTACKER
        )
    assert raised.value.retry_after == 20
    later = start + app.config["SIGN_IN_DELAY"] + timedelta(seconds=1)
    assert services.authenticate("ana@example.org", WRONG, later, client=ATTACKER) is None
    with pytest.raises(throttle.Throttled) as raised:
        services.authenticate(
            "ana@example.org", PASSWORD, later + timedelta(seconds=59), client=ATTACKER
        )
    assert raised.value.retry_after == 1
    assert services.authenticate(
        "ana@example.org", PASSWORD, later + timedelta(seconds=61), client=ATTACKER
    )
    # Signing in clears this client's failures: the next mistake is free again.
    assert (
        services.authenticate(
            "ana@example.org", WRONG, later + timedelta(seconds=62), client=ATTACKER
        )
        is None
    )
    assert services.authenticate(
        "ana@example.org", PASSWORD, later + timedelta(seconds=63), client=ATTACKER
    )


def test_failures_older_than_the_window_are_forgotten(app, session, make):
    make.user("ana@example.org")
    start = utcnow()
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"]):
        services.authenticate("ana@example.org", WRONG, start, client=ATTACKER)
    later = start + app.config["SIGN_IN_FAILURE_WINDOW"] + timedelta(seconds=1)
    assert services.authenticate("ana@example.org", WRONG, later, client=ATTACKER) is None
    session.flush()
    left = session.scalar(select(func.count()).select_from(AuthAttempt))
    assert left == 1  # the old rows went when the new one was written


def test_forwarded_for_is_ignored_without_trusted_proxies(app, session, make):
    """Without a proxy in front, X-Forwarded-For is the client's own word: an
    attacker who changes it at each try is still one client."""
    make.user("ana@example.org")
    attacker = browser(app, ATTACKER)
    statuses = [
        attacker.post(
            "/sign-in",
            data={"email": "ana@example.org", "password": WRONG},
            headers={"X-Forwarded-For": f"10.0.0.{n}"},
        ).status_code
        for n in range(8)
    ]
    assert statuses[-1] == 429


def test_behind_a_trusted_proxy_each_forwarded_address_is_its_own_client(
    app, session, make, monkeypatch
):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    make.user("ana@example.org")
    proxy = browser(app, "127.0.0.1")
    for _ in range(app.config["SIGN_IN_FREE_FAILURES"] + 1):
        attempt_from_attacker = proxy.post(
            "/sign-in",
            data={"email": "ana@example.org", "password": WRONG},
            headers={"X-Forwarded-For": f"10.0.0.1, {ATTACKER}"},
        )
    assert attempt_from_attacker.status_code == 429
    victim = browser(app, "127.0.0.1")
    response = victim.post(
        "/sign-in",
        data={"email": "ana@example.org", "password": PASSWORD},
        headers={"X-Forwarded-For": HOME},
    )
    assert response.status_code == 302


# --- the account's budget, and what always gets in -------------------------


def test_spent_account_budget_keeps_out_new_clients_but_not_a_known_device(app, session, make):
    victim = make.user("chair@example.org")
    laptop = browser(app, HOME)
    sign_in(laptop, victim)
    laptop.post("/sign-out")
    spend_account_budget(app, session, victim.email)

    stranger = attempt(browser(app, "192.0.2.99"), victim.email, PASSWORD)
    assert stranger.status_code == 429
    assert "sign in from a device you have used before" in stranger.get_data(as_text=True)
    # The chair's laptop gets in, wherever it is now.
    laptop.environ_base["REMOTE_ADDR"] = VENUE
    sign_in(laptop, victim)


def test_spent_account_budget_does_not_stop_an_emailed_reset_link(app, session, make):
    victim = make.user("chair@example.org")
    browser(app, HOME).post("/password-reset", data={"email": victim.email})
    link = link_in(outbox(session, victim.email)[0], "/password-reset/")
    spend_account_budget(app, session, victim.email)

    phone = browser(app, "192.0.2.99")
    assert phone.get(link).status_code == 200
    response = phone.post(
        link, data={"password": "a new passphrase", "confirm": "a new passphrase"}
    )
    assert response.status_code == 302
    assert phone.get("/profile").status_code == 200
    # The phone is now a known device, and the guesses at the old password are gone.
    phone.post("/sign-out")
    sign_in(phone, victim, "a new passphrase")
    sign_in(browser(app, "192.0.2.98"), victim, "a new passphrase")


def test_spent_account_budget_does_not_stop_an_invitation_link(app, session, make):
    forum = make.forum()
    facilitator = make.member(forum, role="facilitator").user
    forum_invitations.invite(
        facilitator, forum, email="new.delegate@example.org", display_name="Nueva"
    )
    session.commit()
    link = link_in(outbox(session, "new.delegate@example.org")[0], "/invitations/")
    spend_account_budget(app, session, "new.delegate@example.org")

    invitee = browser(app, "192.0.2.99")
    response = invitee.post(
        link,
        data={"display_name": "Nueva", "locale": "es", "password": PASSWORD, "confirm": PASSWORD},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    assert invitee.get("/profile").status_code == 200
    invitee.post("/sign-out")
    sign_in(invitee, "new.delegate@example.org")


def test_a_known_device_of_someone_else_or_a_forged_one_does_not_pass(app, session, make):
    ana, beto = make.user("ana@example.org"), make.user("beto@example.org")
    shared = browser(app, VENUE)
    sign_in(shared, ana)
    shared.post("/sign-out")
    spend_account_budget(app, session, beto.email)
    # Ana's device is not Beto's.
    assert attempt(shared, beto.email, PASSWORD).status_code == 429
    # A cookie that was not signed by the server counts for nothing.
    forged = browser(app, HOME)
    forged.set_cookie(throttle.KNOWN_DEVICE_COOKIE, "eyJkIjoieCIsInUiOlsxXX0.forged.sig")
    assert attempt(forged, beto.email, PASSWORD).status_code == 429


def test_a_known_device_guessing_is_slowed_like_any_client(app, session, make):
    """A stolen device cookie bypasses the budget, not the delays."""
    ana = make.user("ana@example.org")
    laptop = browser(app, HOME)
    sign_in(laptop, ana)
    laptop.post("/sign-out")
    free = app.config["SIGN_IN_FREE_FAILURES"]
    answers = [attempt(laptop, ana.email, WRONG).status_code for _ in range(free + 1)]
    assert answers == [401] * free + [429]
    # Its failures were counted for the device, not for the address it is at.
    sign_in(browser(app, HOME), ana)


# --- reset requests ---------------------------------------------------------


def test_reset_request_flood_does_not_break_a_link_already_sent(app, session, make):
    victim = make.user("chair@example.org")
    browser(app, HOME).post("/password-reset", data={"email": victim.email})
    link = link_in(outbox(session, victim.email)[0], "/password-reset/")

    attacker = browser(app, ATTACKER)
    answers = [
        attacker.post("/password-reset", data={"email": victim.email}).status_code
        for _ in range(30)
    ]
    limit = app.config["RESET_REQUESTS_PER_HOUR"]
    assert answers == [302] * (limit - 1) + [429] * (30 - limit + 1)
    # No mail bomb (links asked for within the same second are one email).
    assert 1 <= len(outbox(session, victim.email)) <= limit

    # The victim asking again is told to use the links already sent...
    again = browser(app, HOME).post("/password-reset", data={"email": victim.email})
    assert again.status_code == 429
    assert "use the most recent email: its link stays valid for 2 hours" in again.get_data(
        as_text=True
    )
    # ...and the link from the first email works.
    home = browser(app, HOME)
    assert home.get(link).status_code == 200
    response = home.post(link, data={"password": "a new passphrase", "confirm": "a new passphrase"})
    assert response.status_code == 302
    assert home.get("/profile").status_code == 200


def test_reset_requests_are_limited_per_client_across_addresses(app, session, make):
    limit = app.config["RESET_REQUESTS_PER_CLIENT_PER_HOUR"]
    spammer = browser(app, ATTACKER)
    answers = [
        spammer.post("/password-reset", data={"email": f"person{n}@example.org"}).status_code
        for n in range(limit + 1)
    ]
    assert answers == [302] * limit + [429]
    refused = spammer.post("/password-reset", data={"email": "someone.else@example.org"})
    assert "Too many reset requests from this device" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    # Someone else, elsewhere, still gets their link.
    make.user("ana@example.org")
    assert (
        browser(app, HOME).post("/password-reset", data={"email": "ana@example.org"}).status_code
        == 302
    )
    assert len(outbox(session, "ana@example.org")) == 1


# --- password hashing -------------------------------------------------------


def test_hash_made_with_old_parameters_is_rehashed_at_sign_in(
    app, session, make, production_password_hashing
):
    user = make.user("ana@example.org")
    # What accounts were hashed with before: argon2-cffi's default (RFC 9106 low memory).
    old = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY).hash(PASSWORD)
    user.password_hash = old
    session.commit()

    sign_in(browser(app, HOME), user)
    session.expire_all()
    rehashed = session.get(User, user.id).password_hash
    assert rehashed != old
    assert rehashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    sign_in(browser(app, VENUE), user)
    # A hash at the current parameters is left as it is.
    session.expire_all()
    assert session.get(User, user.id).password_hash == rehashed


def test_a_wrong_password_does_not_rehash(app, session, make, production_password_hashing):
    user = make.user("ana@example.org")
    old = PasswordHasher.from_parameters(RFC_9106_LOW_MEMORY).hash(PASSWORD)
    user.password_hash = old
    session.commit()
    assert attempt(browser(app, HOME), user.email, WRONG).status_code == 401
    session.expire_all()
    assert session.get(User, user.id).password_hash == old


def test_hashing_parameters_meet_an_owasp_argon2id_minimum(production_password_hashing):
    """OWASP's Password Storage Cheat Sheet: Argon2id with one of these
    (memory KiB, passes) pairs at parallelism 1, or more of both."""
    minimums = [(47104, 1), (19456, 2), (12288, 3), (9216, 4), (7168, 5)]
    hasher = services._hasher
    params = services.PASSWORD_HASH_PARAMETERS
    assert hasher.type.name == "ID"
    assert any(
        params["memory_cost"] >= memory and params["time_cost"] >= passes
        for memory, passes in minimums
    )
    assert hasher.hash("x").startswith(
        f"$argon2id$v=19$m={params['memory_cost']},t={params['time_cost']},"
        f"p={params['parallelism']}$"
    )
