"""Celery tasks of the cities app: e-mail notifications (thin: load, render, send)."""

from celery import shared_task


@shared_task
def send_meeting_notice(meeting_id: int, event: str, sequence: int) -> int:
    raise NotImplementedError("built by the calendars and notifications work")


@shared_task
def send_membership_decision(application_id: int) -> int:
    raise NotImplementedError("built by the calendars and notifications work")


@shared_task
def send_technician_decision(user_id: int, city_id: int, approved: bool, reason: str) -> int:
    raise NotImplementedError("built by the calendars and notifications work")
