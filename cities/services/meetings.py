"""The meeting workflow: create, reschedule, poll for a date, cancel, minutes, attendance.

Every change runs in one transaction and, when invitees must hear about it, calls
cities.notifications.meeting_event, which queues the e-mail once the transaction commits.
`Meeting.sequence` goes up whenever calendar clients must replace their copy of the event
(time, place or link, status): RFC 5545 SEQUENCE.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import (
    RSVP,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingAttachment,
    MeetingSlot,
    SlotAvailability,
)
from ..models.meetings import in_utc, span_errors
from ..notifications import meeting_event

# Fields that calendar clients show: changing one of them is a new revision of the event.
CALENDAR_FIELDS = ("starts_at", "ends_at", "mode", "location", "online_url")
# Who the meeting is for: fixed once it is created, as nobody would invite the new audience or
# tell the old one. An edit may repeat them unchanged (a PUT of the whole meeting does).
AUDIENCE_FIELDS = ("kind", "group")
EDITABLE_FIELDS = (*AUDIENCE_FIELDS, "title", "description", *CALENDAR_FIELDS)

Slot = tuple[datetime, datetime]


def _locked(meeting: Meeting) -> Meeting:
    """The meeting's row, locked until the transaction ends (two coordinators, one meeting)."""
    return Meeting.objects.select_for_update().get(pk=meeting.pk)


@transaction.atomic
def create_meeting(*, created_by, slots: list[Slot] | None = None, **fields) -> Meeting:
    """Create a meeting with a fixed time (an invitation) or with proposed slots (a poll).

    With `slots`, the meeting is scheduling and has no time until a slot is confirmed.
    """
    meeting = Meeting(created_by=created_by, **as_instants(fields))
    check_cancellation_reason(meeting, None, meeting.cancellation_reason)
    if slots:
        if meeting.starts_at or meeting.ends_at:
            field = "starts_at" if meeting.starts_at else "ends_at"
            raise ValidationError(
                {field: _("Give either a fixed time or dates to choose from, not both.")}
            )
        meeting.status = Meeting.Status.SCHEDULING
    else:
        meeting.status = Meeting.Status.SCHEDULED
        if not (meeting.starts_at and meeting.ends_at):
            raise ValidationError(
                {"starts_at": _("Give the start and end, or propose dates to choose from.")}
            )
    meeting.full_clean(exclude=["created_by"])
    meeting.save()
    if slots:
        propose_slots(meeting, slots)
    elif meeting.ends_at > timezone.now():
        meeting_event(meeting, "invitation")
    # else: a meeting recorded after it happened (to attach its minutes) invites nobody.
    return meeting


@transaction.atomic
def propose_slots(meeting: Meeting, slots: list[Slot]) -> list[MeetingSlot]:
    """Offer dates to choose from for a meeting that is looking for a date."""
    meeting = _locked(meeting)
    if meeting.status != Meeting.Status.SCHEDULING:
        raise ValidationError(_("Only a meeting that is looking for a date takes proposals."))
    # As instants: two spellings of one time are the same date (and the same row).
    slots = [(in_utc(starts_at), in_utc(ends_at)) for starts_at, ends_at in slots]
    if len(set(slots)) != len(slots):
        raise ValidationError(_("The same date is proposed twice."))
    now = timezone.now()
    for starts_at, ends_at in slots:
        if ends_at <= starts_at:
            raise ValidationError(_("Every proposed date must end after it starts."))
        if starts_at < now:
            raise ValidationError(_("A proposed date cannot be in the past."))
        if errors := span_errors(starts_at, ends_at):
            raise ValidationError(list(errors.values()))
    if meeting.slots.count() + len(slots) < 2:
        raise ValidationError(_("Propose at least two dates to choose from."))
    taken = set(meeting.slots.values_list("starts_at", "ends_at"))
    if taken & set(slots):
        raise ValidationError(_("The same date is proposed twice."))
    created = MeetingSlot.objects.bulk_create(
        MeetingSlot(meeting=meeting, starts_at=start, ends_at=end) for start, end in slots
    )
    meeting_event(meeting, "scheduling")
    return created


@transaction.atomic
def update_meeting(meeting: Meeting, **changes) -> Meeting:
    """Change a meeting's details; a new time, place or link is a new calendar revision."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    meeting = _locked(meeting)
    if meeting.is_cancelled:
        raise ValidationError(_("A cancelled meeting cannot be changed."))
    if errors := audience_errors(meeting, changes):
        raise ValidationError(errors)
    if meeting.status == Meeting.Status.SCHEDULING:
        for name in ("starts_at", "ends_at"):
            if changes.get(name):
                raise ValidationError(
                    {
                        name: _(
                            "This meeting is looking for a date: it gets its time when one of "
                            "its proposed dates is confirmed."
                        )
                    }
                )
    # As instants, so that the same time given on Madrid time is no move.
    changes = as_instants(changes)
    before = {name: getattr(meeting, name) for name in CALENDAR_FIELDS}
    for name, value in changes.items():
        setattr(meeting, name, value)
    now = timezone.now()
    if errors := move_errors(before["starts_at"], before["ends_at"], meeting, now):
        raise ValidationError(errors)
    if meeting.status == Meeting.Status.SCHEDULED and not (meeting.starts_at and meeting.ends_at):
        raise ValidationError({"starts_at": _("A scheduled meeting needs its start and end.")})
    meeting.full_clean(exclude=["created_by"])
    moved = any(getattr(meeting, name) != value for name, value in before.items())
    if moved:
        meeting.sequence += 1
    meeting.save()
    # While the date is still being chosen, the "confirmed" notice carries the new details.
    # Correcting the record of a meeting already held (it was and stays past) tells nobody,
    # just as recording it after the fact invited nobody.
    held = (
        bool(before["ends_at"] and meeting.ends_at)
        and max(before["ends_at"], meeting.ends_at) < now
    )
    if moved and meeting.status == Meeting.Status.SCHEDULED and not held:
        meeting_event(meeting, "changed")
    return meeting


def as_instants(fields: dict) -> dict:
    """`fields` with its start and end (if any) in UTC (see models.meetings.in_utc)."""
    times = {name: in_utc(fields[name]) for name in ("starts_at", "ends_at") if name in fields}
    return {**fields, **times}


def move_errors(old_start, old_end, meeting: Meeting, now: datetime) -> dict[str, str]:
    """What is wrong with the meeting's new time, by field: a meeting stays on its side of now.

    An upcoming meeting cannot be given a start that has gone by; a meeting under way or held
    cannot be given a start still to come (its attendance and minutes would sit on a meeting
    that has not happened), nor can a held one end in the future. A meeting under way may end
    later (it runs late), and a held one may be corrected within the past.
    """
    new_start, new_end = meeting.starts_at, meeting.ends_at
    if old_start and new_start and old_start > now > new_start:
        return {"starts_at": _("An upcoming meeting cannot be moved into the past.")}
    if old_end and new_end and old_end < now < new_end:
        field = "starts_at" if new_start != old_start else "ends_at"
        return {field: _("A meeting already held cannot be moved into the future.")}
    if old_start and new_start and old_start <= now < new_start:
        return {"starts_at": _("A meeting that has started cannot be moved into the future.")}
    return {}


def audience_errors(meeting: Meeting, changes: dict) -> dict[str, str]:
    """The audience fields (kind, group) that `changes` would change, by field: none may."""
    message = _(
        "Who a meeting is for (its kind and working group) is fixed when it is created: "
        "cancel it and create a new one."
    )
    return {
        name: message
        for name in AUDIENCE_FIELDS
        if name in changes and changes[name] != getattr(meeting, name)
    }


@transaction.atomic
def confirm_slot(meeting: Meeting, slot: MeetingSlot) -> Meeting:
    """Fix the meeting at one of its proposed slots."""
    meeting = _locked(meeting)
    if meeting.status != Meeting.Status.SCHEDULING:
        raise ValidationError(_("This meeting is not looking for a date any more."))
    if slot.meeting_id != meeting.pk:
        raise ValidationError(_("This date was not proposed for this meeting."))
    meeting.starts_at, meeting.ends_at = slot.starts_at, slot.ends_at
    meeting.status = Meeting.Status.SCHEDULED
    meeting.sequence += 1
    meeting.full_clean(exclude=["created_by"])
    meeting.save()
    meeting_event(meeting, "confirmed")
    return meeting


@transaction.atomic
def cancel_meeting(meeting: Meeting, reason: str) -> Meeting:
    """Cancel the meeting; the row stays (calendars need the cancelled revision)."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the meeting is cancelled.")})
    meeting = _locked(meeting)
    if meeting.is_cancelled:
        raise ValidationError(_("This meeting is already cancelled."))
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancellation_reason = reason
    meeting.sequence += 1
    meeting.save(update_fields=["status", "cancellation_reason", "sequence", "updated_at"])
    meeting_event(meeting, "cancelled")
    return meeting


@transaction.atomic
def change_meeting(
    meeting: Meeting, *, status: str | None = None, cancellation_reason: str = "", **changes
) -> Meeting:
    """Apply an edit that may also move the meeting on in its life (the API's PATCH).

    The status moves only the ways the pages move it: a meeting looking for a date is
    confirmed at one of its proposed dates; any meeting that is not cancelled can be
    cancelled with a reason; a cancelled meeting stays cancelled. Each step is the same
    service the pages call, so sequence numbers and notices do not depend on the client.
    """
    meeting = _locked(meeting)
    check_cancellation_reason(meeting, status, cancellation_reason)
    if status is None or status == meeting.status:
        return update_meeting(meeting, **changes) if changes else meeting
    if status == Meeting.Status.CANCELLED:
        if changes:
            meeting = update_meeting(meeting, **changes)
        return cancel_meeting(meeting, cancellation_reason)
    if status == Meeting.Status.SCHEDULED and meeting.status == Meeting.Status.SCHEDULING:
        starts_at, ends_at = changes.pop("starts_at", None), changes.pop("ends_at", None)
        slot = meeting.slots.filter(starts_at=starts_at, ends_at=ends_at).first()
        if slot is None:
            raise ValidationError(
                {"starts_at": _("Confirm the meeting at the start and end of a proposed date.")}
            )
        if changes:
            meeting = update_meeting(meeting, **changes)
        return confirm_slot(meeting, slot)
    raise ValidationError(
        {
            "status": _("A meeting cannot go from “%(old)s” to “%(new)s”.")
            % {"old": meeting.get_status_display(), "new": Meeting.Status(status).label}
        }
    )


def check_cancellation_reason(meeting: Meeting, status: str | None, reason: str) -> None:
    """A reason goes only with the change that cancels the meeting; it is never dropped silently."""
    if not reason:
        return
    if meeting.is_cancelled:
        raise ValidationError({"cancellation_reason": _("This meeting is already cancelled.")})
    if status != Meeting.Status.CANCELLED:
        raise ValidationError(
            {
                "cancellation_reason": _(
                    "A reason for cancelling is given only with the status “cancelled”, which "
                    "cancels the meeting."
                )
            }
        )


@transaction.atomic
def save_minutes(meeting: Meeting, text: str, *, publish: bool = False) -> Meeting:
    """Save the minutes; publishing them shows them to members and tells the invitees.

    Corrections to minutes already published are saved without a second notice; they are
    what members read, so they are never blank.
    """
    meeting = _locked(meeting)
    if meeting.is_cancelled:
        raise ValidationError(_("A cancelled meeting has no minutes."))
    if publish and not has_taken_place(meeting):
        raise ValidationError(_("Minutes are published once the meeting has taken place."))
    meeting.minutes = text.strip()
    if (publish or meeting.minutes_published) and not meeting.minutes:
        raise ValidationError({"minutes": _("Write the minutes before publishing them.")})
    fields = ["minutes", "updated_at"]
    first_publication = publish and not meeting.minutes_published
    if first_publication:
        meeting.minutes_published_at = timezone.now()
        fields.append("minutes_published_at")
    meeting.save(update_fields=fields)
    if first_publication:
        meeting_event(meeting, "minutes")
    return meeting


def has_started(meeting: Meeting) -> bool:
    return meeting.starts_at is not None and meeting.starts_at <= timezone.now()


def has_taken_place(meeting: Meeting) -> bool:
    """Held, as far as the portal knows: at a confirmed time that has come, not cancelled."""
    return meeting.status == Meeting.Status.SCHEDULED and has_started(meeting)


def invitees(meeting: Meeting):
    """The users a meeting is for: its group's approved technicians (or, for a network
    meeting, every approved technician), plus anyone else who answered the invitation."""
    people = Q(technician__approved=True)
    if meeting.group_id:
        people &= Q(technician__group_memberships__group_id=meeting.group_id)
    return (
        get_user_model()
        .objects.filter(people | Q(rsvps__meeting=meeting))
        .distinct()
        .order_by("last_name", "first_name", "email")
    )


@transaction.atomic
def record_attendance(meeting: Meeting, users) -> list[Attendance]:
    """Replace the meeting's attendance list with `users` (who must be among its invitees)."""
    meeting = _locked(meeting)
    if meeting.is_cancelled:
        raise ValidationError(_("A cancelled meeting has no attendance."))
    if not has_started(meeting):
        raise ValidationError(_("Attendance is recorded once the meeting has started."))
    wanted = {user.pk for user in users}
    strangers = wanted - set(invitees(meeting).filter(pk__in=wanted).values_list("pk", flat=True))
    if strangers:
        raise ValidationError(_("Only the meeting's invitees can be marked as attending."))
    Attendance.objects.filter(meeting=meeting).exclude(user_id__in=wanted).delete()
    present = set(Attendance.objects.filter(meeting=meeting).values_list("user_id", flat=True))
    Attendance.objects.bulk_create(
        Attendance(meeting=meeting, user_id=pk) for pk in sorted(wanted - present)
    )
    return list(Attendance.objects.filter(meeting=meeting))


@transaction.atomic
def renumber_agenda(meeting: Meeting) -> None:
    """Number the agenda items 1, 2, 3... in their current order (after an edit)."""
    items = list(AgendaItem.objects.filter(meeting=meeting).order_by("position", "id"))
    for number, item in enumerate(items, start=1):
        item.position = number
    AgendaItem.objects.bulk_update(items, ["position"])


@transaction.atomic
def save_agenda(meeting: Meeting, formset) -> None:
    """Save an edit of the agenda (a valid AgendaFormSet of the meeting) and renumber it."""
    if _locked(meeting).is_cancelled:
        raise ValidationError(_("The agenda of a cancelled meeting cannot be changed."))
    formset.save()
    renumber_agenda(meeting)


@transaction.atomic
def add_attachment(meeting: Meeting, *, title: str, file, uploaded_by) -> MeetingAttachment:
    """Attach a file; a meeting already held still takes them (slides, minutes' annexes)."""
    if _locked(meeting).is_cancelled:
        raise ValidationError(_("Files cannot be attached to a cancelled meeting."))
    return MeetingAttachment.objects.create(
        meeting=meeting, title=title, file=file, uploaded_by=uploaded_by
    )


def rsvp_counts(meeting: Meeting) -> dict[str, int]:
    """How many members answered going, maybe and not going (every response, even 0)."""
    counts = Counter(RSVP.objects.filter(meeting=meeting).values_list("response", flat=True))
    return {response: counts[response] for response in RSVP.Response.values}


@dataclass
class SlotColumn:
    slot: MeetingSlot
    counts: dict[str, int] = field(default_factory=dict)


@dataclass
class AvailabilityGrid:
    """Proposed slots as columns, members who answered as rows, one answer (or None) per cell."""

    columns: list[SlotColumn]
    rows: list[tuple[object, list[SlotAvailability | None]]]

    def totals(self) -> list[tuple[str, list[int]]]:
        """Per answer (its label), how many members gave it for each slot."""
        return [
            (label, [column.counts[value] for column in self.columns])
            for value, label in SlotAvailability.Answer.choices
        ]

    def answers_of(self, user) -> dict[int, str]:
        """One member's answers, by slot id."""
        for person, cells in self.rows:
            if person.pk == user.pk:
                return {cell.slot_id: cell.answer for cell in cells if cell}
        return {}

    def best(self) -> SlotColumn | None:
        """The slot most members can make (yes first, then if need be); ties to the earliest."""
        if not self.columns:
            return None
        answers = SlotAvailability.Answer
        return max(
            self.columns,
            key=lambda c: (c.counts[answers.YES], c.counts[answers.IF_NEED_BE]),
        )


def availability_grid(meeting: Meeting) -> AvailabilityGrid:
    """The availability poll of a meeting, built from its prefetched slots when present."""
    slots = list(meeting.slots.all())
    answers = [a for slot in slots for a in slot.availabilities.all()]
    users = {a.user_id: a.user for a in answers}
    by_cell = {(a.slot_id, a.user_id): a for a in answers}
    columns = []
    for slot in slots:
        counted = Counter(a.answer for a in slot.availabilities.all())
        columns.append(
            SlotColumn(slot, {value: counted[value] for value in SlotAvailability.Answer.values})
        )
    people = sorted(users.values(), key=lambda u: (u.get_full_name() or u.email).casefold())
    rows = [(user, [by_cell.get((slot.pk, user.pk)) for slot in slots]) for user in people]
    return AvailabilityGrid(columns, rows)
