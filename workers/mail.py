from . import app_context


def deliver_email(outbox_id: int) -> str:
    from consult.mail.delivery import deliver

    with app_context():
        return deliver(outbox_id)


def deliver_batch(outbox_ids: list[int]) -> dict[int, str]:
    from consult.mail.delivery import deliver_many

    with app_context():
        return deliver_many(outbox_ids)
