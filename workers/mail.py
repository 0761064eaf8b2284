from . import app_context


def deliver_email(outbox_id: int) -> str:
    from consult.mail.services import deliver

    with app_context():
        return deliver(outbox_id)
