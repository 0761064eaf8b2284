"""How notifications reach members: their notifications page, emails and
digests (``emails``, ``digests``, ``email_rendering``), what each says
(``wording``), and each member's choices (``preferences``, ``settings``).
Above the features whose objects they name; recording a notification is
``consult/notifications``, below them."""
