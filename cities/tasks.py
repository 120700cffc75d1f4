"""Celery tasks of the cities app: e-mail notifications (thin: ids in, cities.emails does the rest).

Each task is safe to run twice: a superseded meeting notice is skipped, and reminders and
digests record what they sent before their transaction commits.
"""

from celery import shared_task

from . import emails

# A mail server that is down or refuses (smtplib's errors are OSErrors) is tried again later.
# A retry is safe: a superseded notice is skipped, reminders and digests already sent are
# recorded, and at worst someone gets one notice twice rather than none.
MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": 60, "max_retries": 5}


@shared_task(**MAIL_RETRY)
def send_meeting_notice(meeting_id: int, event: str, sequence: int) -> int:
    return emails.send_meeting_notice(meeting_id, event, sequence)


@shared_task(**MAIL_RETRY)
def send_membership_decision(application_id: int) -> int:
    return emails.send_membership_decision(application_id)


@shared_task(**MAIL_RETRY)
def send_technician_decision(user_id: int, city_id: int, approved: bool, reason: str) -> int:
    return emails.send_technician_decision(user_id, city_id, approved, reason)


@shared_task(**MAIL_RETRY)
def send_meeting_reminders() -> int:
    """Beat, hourly: remind the invitees of the meetings starting in 24 to 25 hours."""
    return emails.send_meeting_reminders()


@shared_task(**MAIL_RETRY)
def send_weekly_digest() -> int:
    """Beat, Mondays 07:00 Madrid: the week's network news to subscribed technicians."""
    return emails.send_weekly_digest()
