"""The network's e-mails: who gets each one, in which language, what it says, and sending it.

The Celery tasks (cities/tasks.py) only pass ids in and call these functions. Every message
is rendered in its recipient's language and on Madrid time, from the templates in
cities/templates/cities/email/.
"""

from contextlib import contextmanager
from datetime import datetime, timedelta
from email.mime.text import MIMEText

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from twins.models import ScenarioPackage
from twins.permissions import can_view_package

from .calendar import meeting_calendar, meeting_page_url, site_url
from .models import (
    COORDINATORS_GROUP,
    City,
    Meeting,
    MembershipApplication,
    Technician,
)
from .models.meetings import MEETING_TZ

MEETING_SUBJECTS = {
    "scheduling": _("Help us find a date: %(title)s"),
    "invitation": _("Invitation: %(title)s"),
    "confirmed": _("Date confirmed: %(title)s"),
    "changed": _("Meeting changed: %(title)s"),
    "cancelled": _("Meeting cancelled: %(title)s"),
    "minutes": _("Minutes published: %(title)s"),
    "reminder": _("Reminder, tomorrow: %(title)s"),
}
# The notices that change what a calendar holds carry the meeting's .ics file.
ICS_EVENTS = frozenset({"invitation", "confirmed", "changed", "cancelled"})
REMINDER_WINDOW = (timedelta(hours=24), timedelta(hours=25))
DIGEST_INTERVAL = timedelta(days=6)  # the digest goes out weekly; this guards double sending
DIGEST_NEWS_DAYS = 7
DIGEST_MEETING_DAYS = 14


# --- Language and composing --------------------------------------------------------------


def preferred_language(user) -> str:
    """The technician's first language if the portal speaks it, else the network's default."""
    technician = getattr(user, "technician", None)
    codes = technician.language_codes() if technician is not None else []
    available = {code for code, _name in settings.LANGUAGES}
    return codes[0] if codes and codes[0] in available else settings.LANGUAGE_CODE


@contextmanager
def recipient_locale(user):
    with translation.override(preferred_language(user)), timezone.override(MEETING_TZ):
        yield


def compose(user, template: str, subject: str, context: dict) -> EmailMessage:
    """A plain-text message to `user`; call it inside recipient_locale(user)."""
    context = {"user": user, "site_url": site_url(), **context}
    body = render_to_string(f"cities/email/{template}.txt", context)
    return EmailMessage(subject=" ".join(str(subject).split()), body=body, to=[user.email])


def ics_attachment(meeting: Meeting, user) -> MIMEText:
    """The meeting's file addressed to the recipient (their ATTENDEE line)."""
    cal = meeting_calendar(meeting, attendee=user)
    part = MIMEText(cal.to_ical().decode("utf-8"), "calendar", "utf-8")
    # Mail clients show an invitation (with its update or cancellation) only for this method.
    part.set_param("method", str(cal["METHOD"]))
    part.add_header("Content-Disposition", "attachment", filename="meeting.ics")
    return part


def send_all(messages: list[EmailMessage]) -> int:
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def name_of(user) -> str:
    return user.get_full_name() or user.email


# --- Meetings ----------------------------------------------------------------------------


def meeting_invitees(meeting: Meeting):
    """Group members (or, for network-wide meetings, every approved technician) and coordinators."""
    coordinators = Q(groups__name=COORDINATORS_GROUP) | Q(is_superuser=True)
    technicians = Q(technician__approved=True)
    if meeting.kind == Meeting.Kind.GROUP:
        technicians &= Q(technician__group_memberships__group=meeting.group_id)
    users = get_user_model().objects.filter(coordinators | technicians, is_active=True)
    return users.exclude(email="").select_related("technician").distinct().order_by("pk")


def is_invitee(meeting: Meeting, user) -> bool:
    """Whether the meeting's notices go to `user` (see meeting_invitees)."""
    return user.is_authenticated and meeting_invitees(meeting).filter(pk=user.pk).exists()


def load_meeting(meeting_id: int) -> Meeting | None:
    return (
        Meeting.objects.select_related("group")
        .prefetch_related("agenda_items", "rsvps")  # the rsvps: each recipient's PARTSTAT
        .filter(pk=meeting_id)
        .first()
    )


def meeting_message(meeting: Meeting, event: str, user) -> EmailMessage:
    with recipient_locale(user):
        context = {
            "meeting": meeting,
            "meeting_url": meeting_page_url(meeting),
            "agenda": meeting.agenda_items.all(),
            "calendar_url": site_url(reverse("cities:calendar-settings")),
            "name": name_of(user),
        }
        subject = MEETING_SUBJECTS[event] % {"title": meeting.title}
        message = compose(user, f"meeting_{event}", subject, context)
        if event in ICS_EVENTS and meeting.starts_at:
            message.attach(ics_attachment(meeting, user))
    return message


def send_meeting_notice(meeting_id: int, event: str, sequence: int) -> int:
    """Tell every invitee; a notice older than the meeting's last change is left unsent."""
    if event not in MEETING_SUBJECTS:
        raise ValueError(f"unknown meeting event {event!r}")
    meeting = load_meeting(meeting_id)
    if meeting is None or sequence < meeting.sequence:
        return 0
    return send_all([meeting_message(meeting, event, u) for u in meeting_invitees(meeting)])


def reminders_due(now: datetime):
    soonest, latest = now + REMINDER_WINDOW[0], now + REMINDER_WINDOW[1]
    return Meeting.objects.filter(
        status=Meeting.Status.SCHEDULED, starts_at__gte=soonest, starts_at__lt=latest
    ).exclude(reminder_sent_for=F("starts_at"))


def send_meeting_reminders(now: datetime | None = None) -> int:
    """Remind the invitees of meetings starting in 24 to 25 hours, once per start time."""
    now = now or timezone.now()
    return sum(send_reminder(pk, now) for pk in reminders_due(now).values_list("pk", flat=True))


@transaction.atomic
def send_reminder(meeting_id: int, now: datetime) -> int:
    # The row lock makes a concurrent run wait, then find the reminder already recorded; a
    # failure to send rolls the record back, so the next hourly run tries again.
    if reminders_due(now).select_for_update().filter(pk=meeting_id).first() is None:
        return 0
    meeting = load_meeting(meeting_id)
    sent = send_all([meeting_message(meeting, "reminder", u) for u in meeting_invitees(meeting)])
    Meeting.objects.filter(pk=meeting_id).update(reminder_sent_for=meeting.starts_at)
    return sent


# --- Weekly digest -----------------------------------------------------------------------


def network_news(now: datetime) -> dict:
    """What happened in the network over the last week, and the meetings of the next two."""
    since = now - timedelta(days=DIGEST_NEWS_DAYS)
    meetings = (
        Meeting.objects.filter(
            starts_at__gte=now,
            starts_at__lt=now + timedelta(days=DIGEST_MEETING_DAYS),
            updated_at__gte=since,
        )
        .exclude(status=Meeting.Status.SCHEDULING)
        .select_related("group")
    )
    return {
        "meetings": list(meetings),
        "cities": list(
            City.objects.filter(
                joined_on__gte=timezone.localdate(since), joined_on__lte=timezone.localdate(now)
            )
        ),
        "technicians": list(
            Technician.objects.filter(approved=True, approved_at__gte=since).select_related(
                "user", "city"
            )
        ),
        "packages": list(
            ScenarioPackage.objects.filter(created_at__gte=since).select_related("owner_city")
        ),
    }


def digest_for(technician: Technician, news: dict) -> dict | None:
    """The part of the news this technician is shown, or None if there is nothing for them."""
    groups = {m.group_id for m in technician.group_memberships.all()}
    user = technician.user
    content = {
        "meetings": [m for m in news["meetings"] if m.group_id is None or m.group_id in groups],
        "cities": news["cities"],
        "technicians": [t for t in news["technicians"] if t.pk != technician.pk],
        "packages": [p for p in news["packages"] if can_view_package(user, p)],
    }
    return content if any(content.values()) else None


def digest_due(now: datetime):
    return (
        Technician.objects.filter(approved=True, weekly_digest=True, user__is_active=True)
        .exclude(user__email="")
        .filter(Q(digest_sent_at__isnull=True) | Q(digest_sent_at__lte=now - DIGEST_INTERVAL))
    )


def send_weekly_digest(now: datetime | None = None) -> int:
    """Send each subscribed technician the week's news, unless they got it within 6 days."""
    now = now or timezone.now()
    news = network_news(now)
    recipients = (
        digest_due(now).select_related("user", "city").prefetch_related("group_memberships")
    )
    return sum(send_digest(t, digest_for(t, news), now) for t in recipients)


@transaction.atomic
def send_digest(technician: Technician, content: dict | None, now: datetime) -> int:
    if content is None:
        return 0  # nobody gets an empty digest
    claimed = digest_due(now).filter(pk=technician.pk).update(digest_sent_at=now)
    if not claimed:
        return 0  # another run sent it meanwhile
    user = technician.user
    with recipient_locale(user):
        context = {
            **content,
            "name": name_of(user),
            "since": now - timedelta(days=DIGEST_NEWS_DAYS),
        }
        context["meetings"] = [(m, meeting_page_url(m)) for m in content["meetings"]]
        message = compose(user, "weekly_digest", _("This week in the RECI network"), context)
    return send_all([message])


# --- Membership decisions ----------------------------------------------------------------


def send_membership_decision(application_id: int) -> int:
    """Tell a city's applicant the coordinators' decision (with the reason, if declined)."""
    application = (
        MembershipApplication.objects.select_related("applicant__technician", "municipality")
        .exclude(status=MembershipApplication.Status.PENDING)
        .filter(pk=application_id)
        .first()
    )
    if application is None or not application.applicant.email:
        return 0
    user = application.applicant
    approved = application.status == MembershipApplication.Status.APPROVED
    with recipient_locale(user):
        subject = (
            _("%(city)s is now a member of the RECI network")
            if approved
            else _("Your application for %(city)s to join the RECI network")
        ) % {"city": application.municipality.name}
        context = {"application": application, "approved": approved, "name": name_of(user)}
        return send_all([compose(user, "membership_decision", subject, context)])


def send_technician_decision(user_id: int, city_id: int, approved: bool, reason: str) -> int:
    """Tell a user whether they may now act for the city they asked to join."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    city = City.objects.filter(pk=city_id).first()
    if user is None or city is None or not user.email:
        return 0
    with recipient_locale(user):
        subject = (
            _("You are now a technician of %(city)s in RECI")
            if approved
            else _("Your request to join %(city)s in RECI")
        ) % {"city": city.name}
        context = {"city": city, "approved": approved, "reason": reason, "name": name_of(user)}
        return send_all([compose(user, "technician_decision", subject, context)])
