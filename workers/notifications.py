from . import app_context


def email_notifications(notification_ids: list[int]) -> dict[int, str]:
    from consult.notification_delivery.emails import email_notifications

    with app_context():
        return email_notifications(notification_ids)
