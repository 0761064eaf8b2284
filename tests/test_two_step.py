"""Two-step sign-in: setting it up, the code after the password, recovery
codes, turning it off, and the platform's setting that requires it."""

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from consult.accounts import two_step
from consult.accounts.models import RecoveryCode, User
from consult.database import utcnow
from tests.factories import PASSWORD, link_in, outbox, sign_in

pytestmark = pytest.mark.usefixtures("english")


def set_up(client, session, user) -> tuple[str, list[str]]:
    """Two-step sign-in turned on through the profile: its secret and recovery codes."""
    sign_in(client, user)
    assert client.post("/profile/two-step/start").status_code == 302
    page = client.get("/profile/two-step").get_data(as_text=True)
    session.expire_all()
    secret = session.get(User, user.id).totp_secret
    assert " ".join(re.findall(".{1,4}", secret)) in page
    assert "otpauth://totp/Consult:" in page
    done = client.post("/profile/two-step/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", done.get_data(as_text=True))
    client.post("/sign-out")
    return secret, codes


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted, with a clock a step off):
    the one of this step may have been used to set it up, and is used up."""
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def password_step(client, user):
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return response


def test_setting_it_up_shows_ten_recovery_codes_once_and_keeps_only_their_hashes(
    client, make, session
):
    user = make.user(locale="en")
    _secret, codes = set_up(client, session, user)
    assert len(codes) == len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    stored = list(stored)
    assert len(stored) == 10
    assert not any(code.replace("-", "") in value for code in codes for value in stored)
    password_step(client, user)
    client.post("/sign-in/two-step", data={"code": codes[0]})
    page = client.get("/profile/two-step").get_data(as_text=True)
    assert "You have 9 recovery codes left." in page
    assert not re.search(r"<code>[0-9a-f]{5}-[0-9a-f]{5}</code>", page)


def test_a_wrong_first_code_does_not_turn_it_on(client, make, session):
    user = make.user(locale="en")
    sign_in(client, user)
    client.post("/profile/two-step/start")
    response = client.post("/profile/two-step/confirm", data={"code": "000000"})
    assert response.status_code == 400
    assert "This code is not correct." in response.get_data(as_text=True)
    session.expire_all()
    assert not session.get(User, user.id).has_two_step


def test_the_password_alone_no_longer_signs_in(client, make, session):
    user = make.user(locale="en")
    secret, _codes = set_up(client, session, user)
    response = password_step(client, user)
    assert response.headers["Location"] == "/sign-in/two-step"
    assert client.get("/profile").status_code == 302  # not signed in yet
    wrong = client.post("/sign-in/two-step", data={"code": "123456"})
    assert wrong.status_code == 401
    assert "This code is not correct, or was already used." in wrong.get_data(as_text=True)
    right = client.post("/sign-in/two-step", data={"code": next_code(secret)})
    assert right.status_code == 302
    assert client.get("/profile").status_code == 200


def test_a_code_is_accepted_once(client, make, session):
    user = make.user(locale="en")
    secret, _codes = set_up(client, session, user)
    now = utcnow() + timedelta(minutes=2)  # a step after the one used to set it up
    code = pyotp.TOTP(secret).at(now)
    session.expire_all()
    fresh = session.get(User, user.id)
    assert two_step.verify(fresh, code, now)
    assert not two_step.verify(fresh, code, now)
    session.rollback()


def test_a_recovery_code_works_once(client, make, session):
    user = make.user(locale="en")
    _secret, codes = set_up(client, session, user)
    password_step(client, user)
    assert client.post("/sign-in/two-step", data={"code": codes[3].upper()}).status_code == 302
    client.post("/sign-out")
    password_step(client, user)
    assert client.post("/sign-in/two-step", data={"code": codes[3]}).status_code == 401


def test_the_code_page_needs_the_password_first_and_does_not_wait_forever(
    client, make, session, monkeypatch
):
    assert client.get("/sign-in/two-step").headers["Location"].startswith("/sign-in")
    user = make.user(locale="en")
    secret, _codes = set_up(client, session, user)
    password_step(client, user)
    monkeypatch.setattr("consult.accounts.two_step_views.PENDING_SECONDS", -1)
    late = client.post("/sign-in/two-step", data={"code": next_code(secret)})
    assert late.status_code == 302 and late.headers["Location"].startswith("/sign-in")
    assert client.get("/profile").status_code == 302


def test_guessing_codes_is_slowed_like_guessing_passwords(client, make, session, app):
    user = make.user(locale="en")
    _secret, _codes = set_up(client, session, user)
    password_step(client, user)
    statuses = [
        client.post("/sign-in/two-step", data={"code": f"{n:06d}"}).status_code
        for n in range(app.config["SIGN_IN_FREE_FAILURES"] + 1)
    ]
    assert statuses[-1] == 429


@pytest.mark.parametrize(
    "code", ["", "x" * 41, "12345", "abcdef", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_bad_codes_are_refused_with_a_reason(client, make, session, code):
    user = make.user(locale="en")
    set_up(client, session, user)
    password_step(client, user)
    response = client.post("/sign-in/two-step", data={"code": code})
    assert response.status_code in (400, 401)
    page = response.get_data(as_text=True)
    assert "This field is required." in page or "not correct" in page or "longer than" in page


def test_turning_it_off_needs_the_password(client, make, session):
    user = make.user(locale="en")
    secret, _codes = set_up(client, session, user)
    password_step(client, user)
    client.post("/sign-in/two-step", data={"code": next_code(secret)})
    wrong = client.post("/profile/two-step/off", data={"off-current_password": "nope nope"})
    assert wrong.status_code == 400
    assert "The current password is not correct." in wrong.get_data(as_text=True)
    assert (
        client.post("/profile/two-step/off", data={"off-current_password": PASSWORD}).status_code
        == 302
    )
    session.expire_all()
    assert not session.get(User, user.id).has_two_step
    assert session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []
    client.post("/sign-out")
    assert password_step(client, user).headers["Location"] == "/"


def test_new_recovery_codes_replace_the_old_ones(client, make, session):
    user = make.user(locale="en")
    secret, old = set_up(client, session, user)
    password_step(client, user)
    client.post("/sign-in/two-step", data={"code": next_code(secret)})
    response = client.post(
        "/profile/two-step/recovery-codes", data={"codes-current_password": PASSWORD}
    )
    new = re.findall(r"<code>([0-9a-f]{5}-[0-9a-f]{5})</code>", response.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/sign-out")
    password_step(client, user)
    assert client.post("/sign-in/two-step", data={"code": old[0]}).status_code == 401
    assert client.post("/sign-in/two-step", data={"code": new[0]}).status_code == 302


# --- the platform's setting ---------------------------------------------------------


def require_it(client, make):
    admin = make.user(admin=True, locale="en")
    sign_in(client, admin)
    assert client.post("/admin/two-step", data={"required": "y"}).status_code == 302
    client.post("/sign-out")
    return admin


def test_only_platform_administrators_change_the_setting(client, make, session, member):
    sign_in(client, member)
    assert client.get("/admin/two-step").status_code == 403
    assert client.post("/admin/two-step", data={"required": "y"}).status_code == 403
    assert not two_step.is_required()


def test_a_facilitator_must_set_it_up_when_the_platform_requires_it(
    client, make, session, forum, member
):
    require_it(client, make)
    facilitator = make.facilitator(forum, locale="en")
    sign_in(client, facilitator)
    response = client.get(f"/forums/{forum.slug}/")
    assert response.status_code == 302 and response.headers["Location"] == "/profile/two-step"
    page = client.get("/profile/two-step", follow_redirects=True).get_data(as_text=True)
    assert "required for facilitators and administrators" in page
    client.post("/profile/two-step/start")
    session.expire_all()
    secret = session.get(User, facilitator.id).totp_secret
    client.post("/profile/two-step/confirm", data={"code": pyotp.TOTP(secret).now()})
    assert client.get(f"/forums/{forum.slug}/").status_code == 200
    off = client.post("/profile/two-step/off", data={"off-current_password": PASSWORD})
    assert off.status_code == 409
    # A member who runs nothing is not asked.
    client.post("/sign-out")
    sign_in(client, member)
    assert client.get(f"/forums/{forum.slug}/").status_code == 200


def test_deleting_an_account_removes_its_two_step_secret_and_codes(client, make, session):
    user = make.user(locale="en")
    secret, _codes = set_up(client, session, user)
    password_step(client, user)
    client.post("/sign-in/two-step", data={"code": next_code(secret)})
    assert client.post("/profile/delete", data={"current_password": PASSWORD}).status_code == 302
    session.expire_all()
    gone = session.get(User, user.id)
    assert gone.totp_secret is None and not gone.has_two_step
    assert session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)).all() == []


def test_a_password_reset_still_asks_for_the_code(client, make, session):
    user = make.user(locale="en")
    secret, _codes = set_up(client, session, user)
    client.post("/password-reset", data={"email": user.email})
    link = link_in(outbox(session, user.email)[-1], "/password-reset/")
    new = {"password": "a brand new password", "confirm": "a brand new password"}
    response = client.post(link, data=new)
    assert response.headers["Location"] == "/sign-in/two-step"
    assert client.get("/profile").status_code == 302
    assert client.post("/sign-in/two-step", data={"code": next_code(secret)}).status_code == 302
    assert client.get("/profile").status_code == 200
