"""Meetings: scheduling polls, agendas, RSVPs, attendance, minutes and calendar feeds."""

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .groups import WorkingGroup

# Every meeting of the network is held on Madrid time (DESIGN.md, "Language").
MEETING_TZ = ZoneInfo("Europe/Madrid")


# A meeting is planned at most this far ahead, and lasts at most this long: beyond, a date is
# a typing slip (and a year 9999 broke every calendar feed that held the meeting).
MAX_AHEAD = timedelta(days=5 * 366)
MAX_DURATION = timedelta(days=7)
# Nor does one start before this: the network's meetings are all of this century, so an earlier
# date is a slip (a year typed as 0001). Before 1901 Madrid's time is its local mean time
# (-00:14:44 in zoneinfo), which calendar files then carried and clients misread.
EARLIEST = datetime(2000, 1, 1, tzinfo=MEETING_TZ)


def in_utc(moment: datetime | None) -> datetime | None:
    """The same instant in UTC, to compare or subtract times as instants.

    Python compares and subtracts two datetimes that share a tzinfo by their wall clocks: on
    Madrid time, 02:30 on the night the clocks go forward (a time that does not exist, read
    as +01:00) looks an hour before 03:30 (+02:00), yet both are the same instant.
    """
    return moment.astimezone(UTC) if moment else moment


def span_errors(starts_at, ends_at) -> dict[str, str]:
    """What is wrong with a meeting's (or a proposed date's) start and end, by field.

    One rule for the meeting forms, the API and the proposed dates, which are saved in bulk.
    Times are compared as instants (in_utc), not as the wall-clock times they were given in.
    """
    starts_at, ends_at = in_utc(starts_at), in_utc(ends_at)
    if starts_at and starts_at < EARLIEST:
        return {
            "starts_at": _("A meeting cannot start before the year %(year)d.")
            % {"year": EARLIEST.year}
        }
    if not (starts_at and ends_at):
        return {}
    if ends_at <= starts_at:
        return {"ends_at": _("The meeting must end after it starts.")}
    if starts_at > timezone.now() + MAX_AHEAD:
        return {
            "starts_at": _("A meeting is planned at most %(years)d years ahead.") % {"years": 5}
        }
    if ends_at - starts_at > MAX_DURATION:
        return {
            "ends_at": _("A meeting lasts at most %(days)d days.") % {"days": MAX_DURATION.days}
        }
    return {}


class Meeting(models.Model):
    """A meeting of one working group or of the whole network.

    `uid` never changes, and `sequence` goes up with every change that calendar
    clients must apply (time, place, cancellation): RFC 5545 UID and SEQUENCE.
    """

    class Kind(models.TextChoices):
        GROUP = "group", _("Working group meeting")
        TECHNICAL_COMMITTEE = "technical_committee", _("Technical committee")
        ASSEMBLY = "assembly", _("General assembly")

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        ONLINE = "online", _("Online")
        HYBRID = "hybrid", _("Hybrid")

    class Status(models.TextChoices):
        SCHEDULING = "scheduling", _("Finding a date")
        SCHEDULED = "scheduled", _("Scheduled")
        CANCELLED = "cancelled", _("Cancelled")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind, default=Kind.GROUP)
    group = models.ForeignKey(
        WorkingGroup,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="meetings",
        verbose_name=_("working group"),
    )
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    mode = models.CharField(_("format"), max_length=20, choices=Mode, default=Mode.ONLINE)
    location = models.CharField(_("place"), max_length=300, blank=True)
    online_url = models.URLField(_("online meeting link"), blank=True)
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True, db_index=True)
    ends_at = models.DateTimeField(_("ends at"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.SCHEDULING, db_index=True
    )
    sequence = models.PositiveIntegerField(default=0, editable=False)
    cancellation_reason = models.TextField(_("reason for cancelling"), blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    minutes_published_at = models.DateTimeField(_("minutes published at"), null=True, blank=True)
    reminder_sent_for = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="meeting_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="group", group__isnull=False)
                | (~models.Q(kind="group") & models.Q(group__isnull=True)),
                name="group_meetings_have_a_group",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("cities:meeting-detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.kind == self.Kind.GROUP and not self.group_id:
            errors["group"] = _("A working group meeting needs its group.")
        if self.kind != self.Kind.GROUP and self.group_id:
            errors["group"] = _("Network meetings do not belong to a working group.")
        errors.update(span_errors(self.starts_at, self.ends_at))
        if self.mode in (self.Mode.IN_PERSON, self.Mode.HYBRID) and not self.location:
            errors["location"] = _("An in-person or hybrid meeting needs a place.")
        if self.mode in (self.Mode.ONLINE, self.Mode.HYBRID) and not self.online_url:
            errors["online_url"] = _("An online or hybrid meeting needs a link.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_cancelled(self) -> bool:
        return self.status == self.Status.CANCELLED

    @property
    def minutes_published(self) -> bool:
        return self.minutes_published_at is not None


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveIntegerField(_("position"), default=0)
    title = models.CharField(_("title"), max_length=300)
    presenter = models.CharField(_("presenter"), max_length=200, blank=True)
    duration_minutes = models.PositiveIntegerField(_("minutes allotted"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["meeting", "position", "id"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")

    def __str__(self) -> str:
        return self.title


def attachment_path(instance, filename: str) -> str:
    return f"meetings/{instance.meeting.uid}/{filename}"


class MeetingAttachment(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    title = models.CharField(_("title"), max_length=300)
    file = models.FileField(_("file"), upload_to=attachment_path)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.title


class MeetingSlot(models.Model):
    """A candidate date and time proposed by a coordinator while the meeting is being scheduled."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="slots")
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("proposed slot")
        verbose_name_plural = _("proposed slots")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="slot_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["meeting", "starts_at", "ends_at"], name="unique_meeting_slot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting}: {self.starts_at:%Y-%m-%d %H:%M}"


class SlotAvailability(models.Model):
    class Answer(models.TextChoices):
        YES = "yes", _("Available")
        IF_NEED_BE = "if_need_be", _("If need be")
        NO = "no", _("Not available")

    slot = models.ForeignKey(MeetingSlot, on_delete=models.CASCADE, related_name="availabilities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    answer = models.CharField(_("answer"), max_length=20, choices=Answer)
    answered_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slot", "user"], name="unique_slot_availability")
        ]
        verbose_name = _("availability")
        verbose_name_plural = _("availabilities")

    def __str__(self) -> str:
        return f"{self.user} {self.answer} {self.slot}"


class RSVP(models.Model):
    class Response(models.TextChoices):
        GOING = "going", _("Going")
        MAYBE = "maybe", _("Maybe")
        NOT_GOING = "not_going", _("Not going")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="rsvps")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rsvps"
    )
    response = models.CharField(_("response"), max_length=20, choices=Response)
    responded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="unique_rsvp")]
        verbose_name = _("RSVP")
        verbose_name_plural = _("RSVPs")

    def __str__(self) -> str:
        return f"{self.user}: {self.response}"


class Attendance(models.Model):
    """Who actually attended, recorded by a coordinator after the meeting."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], name="unique_attendance")
        ]
        verbose_name = _("attendance")
        verbose_name_plural = _("attendance")

    def __str__(self) -> str:
        return f"{self.user} at {self.meeting}"


def new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class CalendarFeedToken(models.Model):
    """The secret in a person's private calendar feed URL. Revoking it kills the URL."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_tokens"
    )
    token = models.CharField(max_length=64, unique=True, default=new_feed_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("calendar feed token")
        verbose_name_plural = _("calendar feed tokens")

    def __str__(self) -> str:
        return f"{self.user}: {'revoked' if self.revoked_at else 'active'}"
