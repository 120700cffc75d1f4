"""iCalendar (RFC 5545) files of the network's meetings, and the private feed tokens.

Everything is built with the `icalendar` library, never by formatting strings: it escapes
TEXT values, folds lines at 75 octets without splitting a UTF-8 character, and generates the
Europe/Madrid VTIMEZONE from zoneinfo.

A meeting's UID is `<meeting.uid>@<host>`, where the host comes from the site's base URL
(WAGTAILADMIN_BASE_URL, the setting Wagtail also uses for links in e-mails), so the feed, the
downloaded file and the e-mail attachment all name the same event and a calendar client
updates it in place when the SEQUENCE grows.
"""

from datetime import date, datetime, timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from icalendar import Calendar, Event, vCalAddress

from .models import RSVP, AgendaItem, CalendarFeedToken, Meeting, WorkingGroup, is_coordinator
from .models.meetings import MEETING_TZ
from .permissions import approved_technician, is_member

PRODID = "-//RECI//Smart cities network portal//ES"
# A private feed shows this much of the past, so that last month's meetings stay visible.
FEED_PAST_DAYS = 90


# --- Building calendars ------------------------------------------------------------------


def site_url(path: str = "") -> str:
    """An absolute URL on the portal, for places with no request at hand (files, e-mails)."""
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def meeting_uid(meeting: Meeting) -> str:
    host = urlsplit(settings.WAGTAILADMIN_BASE_URL).hostname or "reci"
    return f"{meeting.uid}@{host}"


def meeting_page_url(meeting: Meeting) -> str:
    # The meeting page (cities:meeting-detail) belongs to the meetings pages; its path is
    # part of their contract, as /meetings/<pk>/meeting.ics is part of ours.
    return site_url(meeting.get_absolute_url())


def meeting_location(meeting: Meeting) -> str:
    if meeting.location and meeting.online_url:
        return f"{meeting.location} ({meeting.online_url})"
    return meeting.location or meeting.online_url


def meeting_description(meeting: Meeting) -> str:
    """The meeting's description, the agenda as a numbered list, and the cancellation reason.

    Reads `meeting.agenda_items.all()`: prefetch it when describing many meetings.
    """
    parts = []
    if meeting.is_cancelled:
        reason = meeting.cancellation_reason or _("No reason given.")
        parts.append(_("Cancelled: %(reason)s") % {"reason": reason})
    if meeting.description:
        parts.append(meeting.description)
    items = list(meeting.agenda_items.all())
    if items:
        lines = [_("Agenda:")]
        lines += [f"{n}. {agenda_item_line(item)}" for n, item in enumerate(items, start=1)]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


def agenda_item_line(item: AgendaItem) -> str:
    details = []
    if item.presenter:
        details.append(item.presenter)
    if item.duration_minutes:
        details.append(
            ngettext("%(minutes)d minute", "%(minutes)d minutes", item.duration_minutes)
            % {"minutes": item.duration_minutes}
        )
    return f"{item.title} ({', '.join(details)})" if details else item.title


def organizer() -> vCalAddress:
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return vCalAddress.new(address, cn=name or None)


def meeting_event(meeting: Meeting, *, now: datetime) -> Event:
    """The VEVENT of a meeting that has a time (a meeting still being scheduled has none)."""
    return Event.new(
        uid=meeting_uid(meeting),
        stamp=now,
        last_modified=meeting.updated_at,
        sequence=meeting.sequence,
        status="CANCELLED" if meeting.is_cancelled else "CONFIRMED",
        start=timezone.localtime(meeting.starts_at, MEETING_TZ),
        end=timezone.localtime(meeting.ends_at, MEETING_TZ) if meeting.ends_at else None,
        summary=meeting.title,
        description=meeting_description(meeting) or None,
        location=meeting_location(meeting) or None,
        url=meeting_page_url(meeting),
        organizer=organizer(),
    )


def new_calendar(method: str, events: list[Event], name: str | None = None) -> Calendar:
    calendar = Calendar.new(prodid=PRODID, method=method, name=name, uid=None)
    # Calendar.new gives the calendar a random UID (RFC 7986); a file that is the same for the
    # same meetings is easier on caches and tests, and nothing needs that UID.
    calendar.pop("UID")
    for event in events:
        calendar.add_component(event)
    if events:
        years = [e.start.year for e in events] + [e.end.year for e in events if e.end]
        # Whole years, so the VTIMEZONE carries both its STANDARD and DAYLIGHT rules.
        calendar.add_missing_timezones(
            first_date=date(min(years), 1, 1), last_date=date(min(max(years) + 1, 9999), 1, 1)
        )
    return calendar


# An invitee's answer on the portal as their participation status (RFC 5545 PARTSTAT).
PARTSTAT = {
    RSVP.Response.GOING: "ACCEPTED",
    RSVP.Response.MAYBE: "TENTATIVE",
    RSVP.Response.NOT_GOING: "DECLINED",
}


def response_of(meeting: Meeting, user) -> str | None:
    """The user's RSVP to the meeting; reads `meeting.rsvps.all()` (prefetch it for many users)."""
    return next((r.response for r in meeting.rsvps.all() if r.user_id == user.pk), None)


def meeting_attendee(meeting: Meeting, user) -> vCalAddress:
    """The invitee a file is addressed to, with their answer so far.

    RSVP=FALSE: members answer on the portal, and the organizer's address takes no replies.
    """
    return vCalAddress.new(
        user.email,
        cn=user.get_full_name() or None,
        role="REQ-PARTICIPANT",
        partstat=PARTSTAT.get(response_of(meeting, user), "NEEDS-ACTION"),
        rsvp=False,
    )


def meeting_calendar(meeting: Meeting, *, attendee=None, now: datetime | None = None) -> Calendar:
    """The file for one meeting.

    Addressed to an invitee (`attendee`, a user): an invitation (REQUEST) or, once cancelled, a
    CANCEL, with them as its ATTENDEE, which RFC 5546 (3.2.2, 3.2.5) requires of both. For
    anyone else, a copy to file (PUBLISH), whose STATUS says when it is cancelled.
    """
    event = meeting_event(meeting, now=now or timezone.now())
    if attendee is None:
        return new_calendar("PUBLISH", [event])
    event.add("attendee", meeting_attendee(meeting, attendee))
    return new_calendar("CANCEL" if meeting.is_cancelled else "REQUEST", [event])


def feed_calendar(meetings, name: str, *, now: datetime | None = None) -> Calendar:
    """A subscription feed (PUBLISH) of the meetings that have a time."""
    now = now or timezone.now()
    events = [meeting_event(m, now=now) for m in meetings if m.starts_at]
    return new_calendar("PUBLISH", events, name=name)


# --- What a feed holds -------------------------------------------------------------------


def calendar_meetings() -> QuerySet[Meeting]:
    """Meetings with a time, with what their VEVENTs read, in two queries."""
    return (
        Meeting.objects.filter(starts_at__isnull=False)
        .exclude(status=Meeting.Status.SCHEDULING)
        .select_related("group")
        .prefetch_related(Prefetch("agenda_items", queryset=AgendaItem.objects.all()))
    )


def personal_feed_meetings(user, *, now: datetime | None = None) -> QuerySet[Meeting]:
    """The user's meetings from FEED_PAST_DAYS ago on, cancelled ones included.

    Those of the user's working groups and every network-wide meeting; a coordinator, who is
    invited to every meeting, gets them all.
    """
    since = (now or timezone.now()) - timedelta(days=FEED_PAST_DAYS)
    meetings = calendar_meetings().filter(starts_at__gte=since)
    if is_coordinator(user):
        return meetings
    technician = approved_technician(user)
    mine = Q(group__memberships__technician=technician) if technician else Q(pk__in=[])
    return meetings.filter(~Q(kind=Meeting.Kind.GROUP) | mine).distinct()


def group_feed_meetings(group: WorkingGroup, *, now: datetime | None = None) -> QuerySet[Meeting]:
    since = (now or timezone.now()) - timedelta(days=FEED_PAST_DAYS)
    return calendar_meetings().filter(group=group, starts_at__gte=since)


# --- Private feed tokens -----------------------------------------------------------------


def active_feed_token(user) -> CalendarFeedToken | None:
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).first()


@transaction.atomic
def revoke_feed_tokens(user) -> int:
    """Kill every private feed URL of the user; returns how many were live."""
    return CalendarFeedToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def regenerate_feed_token(user) -> CalendarFeedToken:
    """A new secret for the user's feed URLs; the old URLs stop working at once."""
    revoke_feed_tokens(user)
    return CalendarFeedToken.objects.create(user=user)


def feed_owner(token: str):
    """The member a live token belongs to, or None (unknown, revoked, or no longer a member)."""
    found = (
        CalendarFeedToken.objects.select_related("user__technician__city")
        .filter(token=token, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if found is None or not is_member(found.user):
        return None
    return found.user
