"""Notifications: what they say (:mod:`uptimed.notify.message`, pure: the webhook schema and
the templates) and how one attempt is delivered (:mod:`uptimed.notify.webhook`, a signed JSON
POST; :mod:`uptimed.notify.apprise_sender`, any apprise URL). Each delivery returns an
:class:`~uptimed.notify.webhook.Outcome`: delivered, worth retrying, and a short detail free of
secrets. When to retry is :mod:`uptimed.core.retry`'s business, not this package's.

The package imports nothing on its own (apprise is only imported by its sender module)."""
