"""Where the features above accounts plug in their part of an account's life.

Accounts sits below every feature that keeps rows about a member (forums,
votes, amendments, the API's tokens): it may not import them. Each feature
registers its step here instead, when the app is made (``consult/app.py``),
and accounts runs the steps without knowing whose they are:

- ``on_closing``: the account stops being usable (closed by an administrator,
  or deleted): ``step(user)``;
- ``on_deletion``: the member deleted their account, before their personal
  data is wiped: ``step(user)``;
- ``on_runs_something``: whether the member runs something besides the
  platform (a forum they facilitate): ``check(user) -> bool``;
- ``on_email_settings``: the member chose how often notifications are emailed
  (``preference``), or their time zone or digest hour changed (``moved``):
  ``step(user, preference, moved)`` applies it (the digests' schedule).

Registering the same function again does nothing (an app is made per test).
"""

from collections.abc import Callable

ClosingStep = Callable[[object], None]
DeletionStep = Callable[[object], None]
RunsSomething = Callable[[object], bool]
EmailSettingsStep = Callable[[object, str, bool], None]

_closing: list[ClosingStep] = []
_deletion: list[DeletionStep] = []
_runs_something: list[RunsSomething] = []
_email_settings: list[EmailSettingsStep] = []


def _add(steps: list, step: Callable) -> Callable:
    if step not in steps:
        steps.append(step)
    return step


def on_closing(step: ClosingStep) -> ClosingStep:
    return _add(_closing, step)


def on_deletion(step: DeletionStep) -> DeletionStep:
    return _add(_deletion, step)


def on_runs_something(check: RunsSomething) -> RunsSomething:
    return _add(_runs_something, check)


def on_email_settings(step: EmailSettingsStep) -> EmailSettingsStep:
    return _add(_email_settings, step)


def run_closing(user) -> None:
    for step in _closing:
        step(user)


def run_deletion(user) -> None:
    for step in _deletion:
        step(user)


def runs_something(user) -> bool:
    return any(check(user) for check in _runs_something)


def run_email_settings(user, preference: str, moved: bool) -> None:
    for step in _email_settings:
        step(user, preference, moved)
    # Kept on the account even before the digests' step is registered.
    user.notification_preference = preference
