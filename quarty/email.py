"""Email: the public face of quarty.mail (render, queue in the outbox, deliver)."""

from quarty.mail import (
    get_sender,
    notify_sender,
    queue_email,
    queue_new_user_mail,
    send_email,
)

__all__ = [
    "get_sender",
    "notify_sender",
    "queue_email",
    "queue_new_user_mail",
    "send_email",
]
