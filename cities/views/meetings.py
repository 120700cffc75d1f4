"""Meeting pages: list, detail, scheduling, answers, agenda, attachments, attendance, minutes.

Meetings are for the network's members (permissions.can_view_meeting); coordinators manage
them (permissions.can_manage_meeting). Anonymous visitors are sent to sign in.
"""

import os

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ..forms.meetings import (
    AgendaFormSet,
    AttachmentForm,
    AttendanceForm,
    AvailabilityForm,
    CancelForm,
    ConfirmSlotForm,
    MeetingForm,
    MinutesForm,
    RSVPForm,
    SlotFormSet,
    check_time_or_slots,
)
from ..models import (
    RSVP,
    Attendance,
    Meeting,
    MeetingAttachment,
    MeetingSlot,
    SlotAvailability,
    WorkingGroup,
)
from ..models.meetings import MEETING_TZ
from ..permissions import (
    can_manage_meeting,
    can_respond_to_meeting,
    can_view_meeting,
    is_member,
)
from ..services import meetings as workflow
from ..services.participation import check_poll_open, mark_availability, respond_to_meeting
from ..submissions import save_once

PAGE_SIZE = 20


def get_meeting(request, pk: int, *, manage: bool = False, queryset=None) -> Meeting:
    """The meeting, or 404; 403 unless the user may see it (or, with `manage`, manage it)."""
    if queryset is None:
        queryset = Meeting.objects.select_related("group")
    meeting = get_object_or_404(queryset, pk=pk)
    if not can_view_meeting(request.user, meeting):
        raise PermissionDenied(_("Meetings are for the network's members."))
    if manage and not can_manage_meeting(request.user, meeting):
        raise PermissionDenied(_("Only the network's coordinators manage meetings."))
    return meeting


def page(request, template: str, context: dict):
    """Render a meeting page; its times are shown on Madrid time (MEETING_TZ)."""
    return render(request, f"cities/meetings/{template}", {"meeting_tz": MEETING_TZ, **context})


def posted(request):
    """The POST data, or None for a GET: an empty POST (no box ticked) is still a submission."""
    return request.POST if request.method == "POST" else None


def error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
def meeting_list(request):
    if not is_member(request.user):
        raise PermissionDenied(_("Meetings are for the network's members."))
    past = request.GET.get("when") == "past"
    meetings = upcoming_or_past(Meeting.objects.select_related("group"), past=past)
    group = None
    if request.GET.get("group"):
        group = get_object_or_404(WorkingGroup, slug=request.GET["group"])
        meetings = meetings.filter(group=group)
    kind = request.GET.get("kind", "")
    if kind in Meeting.Kind.values:
        meetings = meetings.filter(kind=kind)
    context = {
        "page": Paginator(meetings, PAGE_SIZE).get_page(request.GET.get("page")),
        "past": past,
        "group": group,
        "kind": kind,
        "kinds": Meeting.Kind.choices,
        "can_manage": can_manage_meeting(request.user),
    }
    return page(request, "list.html", context)


def upcoming_or_past(meetings, *, past: bool):
    """Upcoming: looking for a date, or not over yet. Past: over, or cancelled before a date."""
    now = timezone.now()
    upcoming = (
        Q(status=Meeting.Status.SCHEDULING)
        | Q(ends_at__gte=now)
        | Q(ends_at__isnull=True, starts_at__gte=now)
    )
    if past:
        return meetings.exclude(upcoming).order_by(F("starts_at").desc(nulls_last=True), "-id")
    # Meetings still looking for a date (no time yet) first, then the soonest.
    return meetings.filter(upcoming).order_by(F("starts_at").asc(nulls_first=True), "id")


def detail_queryset():
    return Meeting.objects.select_related("group").prefetch_related(
        "agenda_items",
        "attachments",
        Prefetch(
            "slots",
            queryset=MeetingSlot.objects.prefetch_related(
                Prefetch("availabilities", queryset=SlotAvailability.objects.select_related("user"))
            ),
        ),
        Prefetch("attendance", queryset=Attendance.objects.select_related("user")),
    )


@login_required
def meeting_detail(request, pk: int):
    meeting = get_meeting(request, pk, queryset=detail_queryset())
    user = request.user
    own_rsvp = RSVP.objects.filter(meeting=meeting, user=user).first()
    grid = workflow.availability_grid(meeting)
    counts = workflow.rsvp_counts(meeting)
    can_manage = can_manage_meeting(user, meeting)
    can_respond = can_respond_to_meeting(user, meeting)
    context = {
        "meeting": meeting,
        "can_manage": can_manage,
        "can_respond": can_respond,
        "rsvp_counts": [(label, counts[value]) for value, label in RSVP.Response.choices],
        "rsvp_form": RSVPForm(initial={"response": own_rsvp.response if own_rsvp else None}),
        "grid": grid,
        "availability_form": AvailabilityForm(
            slots=meeting.slots.all(), answers=grid.answers_of(user)
        ),
        "started": workflow.has_started(meeting),
        "show_minutes": meeting.minutes_published or (can_manage and meeting.minutes),
    }
    return page(request, "detail.html", context)


@login_required
def meeting_create(request):
    if not can_manage_meeting(request.user):
        raise PermissionDenied(_("Only the network's coordinators manage meetings."))
    group = WorkingGroup.objects.filter(slug=request.GET.get("group", ""), is_active=True).first()
    initial = {"kind": Meeting.Kind.GROUP, "group": group} if group else {}
    form = MeetingForm(posted(request), initial=initial)
    slot_formset = SlotFormSet(posted(request), prefix="slots")
    if request.method == "POST" and check_time_or_slots(form, slot_formset):

        def create() -> str:
            meeting = workflow.create_meeting(
                created_by=request.user, slots=slot_formset.slots(), **form.details()
            )
            messages.success(request, _("The meeting was created and the invitees notified."))
            return meeting.get_absolute_url()

        try:
            return save_once(request, form, create, while_pending=reverse("cities:meeting-list"))
        except ValidationError as exc:
            form.add_error(None, exc)
    context = {"form": form, "slot_formset": slot_formset}
    return page(request, "form.html", context)


@login_required
def meeting_edit(request, pk: int):
    meeting = get_meeting(request, pk, manage=True)
    if meeting.is_cancelled:
        messages.error(request, _("A cancelled meeting cannot be changed."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    with_time = meeting.status == Meeting.Status.SCHEDULED
    form = MeetingForm(posted(request), instance=meeting, with_time=with_time)
    if request.method == "POST" and form.is_valid():
        try:
            workflow.update_meeting(meeting, **form.details())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The meeting was saved."))
            return redirect("cities:meeting-detail", pk=meeting.pk)
    return page(request, "form.html", {"form": form, "meeting": meeting})


@login_required
def meeting_cancel(request, pk: int):
    """GET asks for the reason; POST cancels."""
    meeting = get_meeting(request, pk, manage=True)
    form = CancelForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            workflow.cancel_meeting(meeting, form.cleaned_data["reason"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The meeting was cancelled and the invitees notified."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    return page(request, "cancel.html", {"meeting": meeting, "form": form})


@login_required
def meeting_agenda(request, pk: int):
    meeting = get_meeting(request, pk, manage=True)
    if meeting.is_cancelled:
        messages.error(request, _("The agenda of a cancelled meeting cannot be changed."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    formset = AgendaFormSet(posted(request), instance=meeting, prefix="agenda")
    if request.method == "POST" and formset.is_valid():
        try:
            workflow.save_agenda(meeting, formset)
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The agenda was saved."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    return page(request, "agenda.html", {"meeting": meeting, "formset": formset})


@login_required
def meeting_attachment_add(request, pk: int):
    meeting = get_meeting(request, pk, manage=True)
    if meeting.is_cancelled:
        messages.error(request, _("Files cannot be attached to a cancelled meeting."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    form = AttachmentForm(posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():

        def attach() -> str:
            workflow.add_attachment(
                meeting,
                title=form.cleaned_data["title"],
                file=form.cleaned_data["file"],
                uploaded_by=request.user,
            )
            messages.success(request, _("The file was attached."))
            return meeting.get_absolute_url()

        try:
            return save_once(request, form, attach, while_pending=meeting.get_absolute_url())
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        return redirect(meeting)
    return page(request, "attachment.html", {"meeting": meeting, "form": form})


@login_required
def meeting_attachment(request, pk: int, att_pk: int):
    """The file itself, to members only: never served from MEDIA_URL."""
    meeting = get_meeting(request, pk)
    attachment = get_object_or_404(MeetingAttachment, pk=att_pk, meeting=meeting)
    filename = os.path.basename(attachment.file.name)
    return FileResponse(attachment.file.open("rb"), as_attachment=True, filename=filename)


@require_POST
@login_required
def meeting_rsvp(request, pk: int):
    meeting = get_meeting(request, pk)
    form = RSVPForm(request.POST)
    if not can_respond_to_meeting(request.user, meeting):
        messages.error(request, _("This meeting is cancelled."))
    elif not form.is_valid():
        messages.error(request, _("Choose going, maybe or not going."))
    else:
        try:
            respond_to_meeting(meeting, request.user, form.cleaned_data["response"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Your answer was saved."))
    return redirect("cities:meeting-detail", pk=meeting.pk)


@require_POST
@login_required
def meeting_availability(request, pk: int):
    meeting = get_meeting(request, pk)
    form = AvailabilityForm(request.POST, slots=meeting.slots.all())
    try:
        # Before the answers: a poll closed since the page was loaded is what to say.
        check_poll_open(meeting)
    except ValidationError as exc:
        messages.error(request, error_text(exc))
        return redirect(reverse("cities:meeting-detail", args=[meeting.pk]) + "#availability")
    if not can_respond_to_meeting(request.user, meeting):
        messages.error(request, _("This meeting is cancelled."))
    elif not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    else:
        try:
            mark_availability(meeting, request.user, form.answers())
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("Your availability was saved."))
    return redirect(reverse("cities:meeting-detail", args=[meeting.pk]) + "#availability")


@require_POST
@login_required
def meeting_confirm(request, pk: int):
    meeting = get_meeting(request, pk, manage=True)
    form = ConfirmSlotForm(request.POST, meeting=meeting)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["slot"]))
    else:
        try:
            workflow.confirm_slot(meeting, form.cleaned_data["slot"])
        except ValidationError as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The date was confirmed and the invitees notified."))
    return redirect("cities:meeting-detail", pk=meeting.pk)


@login_required
def meeting_attendance(request, pk: int):
    meeting = get_meeting(request, pk, manage=True)
    if meeting.is_cancelled or not workflow.has_started(meeting):
        messages.error(request, _("Attendance is recorded once the meeting has started."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    present = Attendance.objects.filter(meeting=meeting).values_list("user_id", flat=True)
    form = AttendanceForm(
        posted(request),
        invitees=workflow.invitees(meeting),
        initial={"attendees": list(present)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            workflow.record_attendance(meeting, form.cleaned_data["attendees"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("The attendance was saved."))
            return redirect("cities:meeting-detail", pk=meeting.pk)
    return page(request, "attendance.html", {"meeting": meeting, "form": form})


@login_required
def meeting_minutes(request, pk: int):
    meeting = get_meeting(request, pk, manage=True)
    if meeting.is_cancelled:
        messages.error(request, _("A cancelled meeting has no minutes."))
        return redirect("cities:meeting-detail", pk=meeting.pk)
    form = MinutesForm(posted(request), initial={"minutes": meeting.minutes})
    if request.method == "POST" and form.is_valid():
        publish = "publish" in request.POST
        try:
            workflow.save_minutes(meeting, form.cleaned_data["minutes"], publish=publish)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if publish:
                messages.success(request, _("The minutes were published."))
            else:
                messages.success(request, _("The minutes were saved."))
            return redirect("cities:meeting-detail", pk=meeting.pk)
    context = {"meeting": meeting, "form": form, "can_publish": workflow.has_taken_place(meeting)}
    return page(request, "minutes.html", context)
