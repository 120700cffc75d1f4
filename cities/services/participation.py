"""A member's own participation: joining working groups and answering meetings."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import (
    RSVP,
    GroupMembership,
    Meeting,
    MeetingSlot,
    SlotAvailability,
    Technician,
    WorkingGroup,
)
from .meetings import has_started


def join_group(group: WorkingGroup, technician: Technician) -> GroupMembership:
    """Add an approved technician to an active group (joining twice is harmless)."""
    if not technician.approved:
        raise PermissionDenied(_("Only approved technicians can join working groups."))
    if not group.is_active:
        raise ValidationError(_("This working group is no longer active."))
    membership, _created = GroupMembership.objects.get_or_create(group=group, technician=technician)
    return membership


def leave_group(group: WorkingGroup, technician: Technician) -> bool:
    """Remove the technician from the group; False if they were not a member."""
    deleted, _details = GroupMembership.objects.filter(group=group, technician=technician).delete()
    return deleted > 0


def respond_to_meeting(meeting: Meeting, user, response: str) -> RSVP:
    """Record (or change) a member's RSVP: going, maybe or not going."""
    if response not in RSVP.Response.values:
        raise ValidationError(
            _("Unknown response %(response)s; expected one of: %(choices)s.")
            % {"response": response, "choices": ", ".join(RSVP.Response.values)}
        )
    if meeting.status != Meeting.Status.SCHEDULED:
        raise ValidationError(_("Only a scheduled meeting takes RSVPs."))
    if has_started(meeting):
        raise ValidationError(
            _("Answers close when the meeting starts; the coordinators then record who attended.")
        )
    rsvp, _created = RSVP.objects.update_or_create(
        meeting=meeting, user=user, defaults={"response": response}
    )
    return rsvp


def check_poll_open(meeting: Meeting) -> None:
    """Refuse, saying why, answers to a meeting that is no longer looking for a date."""
    if meeting.status == Meeting.Status.CANCELLED:
        raise ValidationError(_("The poll is closed: the meeting was cancelled."))
    if meeting.status != Meeting.Status.SCHEDULING:
        raise ValidationError(_("The poll is closed: the meeting’s time was confirmed."))


@transaction.atomic
def mark_availability(meeting: Meeting, user, answers: dict[int, str]) -> list[SlotAvailability]:
    """Record a member's availability for some of a meeting's proposed slots.

    `answers` maps slot id to an answer (yes, if_need_be, no). Nothing is saved if any
    slot or answer is wrong.
    """
    check_poll_open(meeting)
    slots = {slot.pk: slot for slot in MeetingSlot.objects.filter(meeting=meeting)}
    unknown = sorted(set(answers) - set(slots))
    if unknown:
        raise ValidationError(
            _("These slots are not proposed for this meeting: %s")
            % ", ".join(str(pk) for pk in unknown)
        )
    bad = sorted(a for a in answers.values() if a not in SlotAvailability.Answer.values)
    if bad:
        raise ValidationError(
            _("Unknown availability answers: %(answers)s; expected one of: %(choices)s.")
            % {"answers": ", ".join(bad), "choices": ", ".join(SlotAvailability.Answer.values)}
        )
    return [
        SlotAvailability.objects.update_or_create(
            slot=slots[pk], user=user, defaults={"answer": answer}
        )[0]
        for pk, answer in answers.items()
    ]
