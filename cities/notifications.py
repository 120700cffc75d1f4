"""E-mail notifications about the network's meetings and membership, sent by Celery.

Views and services call these functions inside their transaction; the e-mails
are queued only once it commits (ids, never objects, are passed to the tasks).
"""

from django.db import transaction

MEETING_EVENTS = ("scheduling", "invitation", "confirmed", "changed", "cancelled", "minutes")


def meeting_event(meeting, event: str) -> None:
    """Tell a meeting's invitees that `event` happened to it (see MEETING_EVENTS)."""
    if event not in MEETING_EVENTS:
        raise ValueError(f"unknown meeting event {event!r}; expected one of {MEETING_EVENTS}")
    from .tasks import send_meeting_notice

    meeting_id, sequence = meeting.pk, meeting.sequence
    transaction.on_commit(lambda: send_meeting_notice.delay(meeting_id, event, sequence))


def membership_decided(application) -> None:
    """Tell a city's applicant that their membership application was approved or declined."""
    from .tasks import send_membership_decision

    application_id = application.pk
    transaction.on_commit(lambda: send_membership_decision.delay(application_id))


def technician_request_decided(
    user_id: int, city_id: int, approved: bool, reason: str = ""
) -> None:
    """Tell a user that their request to join a city was approved or declined.

    Ids of the user and the city, not of the request: a declined request is deleted (so
    that the user may ask another city), and the notice must still find its addressee.
    """
    from .tasks import send_technician_decision

    transaction.on_commit(
        lambda: send_technician_decision.delay(user_id, city_id, approved, reason)
    )
