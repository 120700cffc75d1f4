"""Working groups and their work plans. Each view checks permission explicitly.

What a group's public page shows to whom (DESIGN.md, "People and roles"): anyone sees the remit,
the counts, the plan and the meetings' dates; the network's members also see who takes part
(names of members and of items' owners; visitors see the owner's city) and get links to the
meetings. A plan's links appear only when the viewer may follow them: a case study while its
page is live, a scenario package if the viewer may see it.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, F, Max, Min, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from twins.permissions import can_view_package

from ..forms.groups import GroupFilterForm, WorkingGroupForm, WorkPlanItemForm
from ..models import GroupMembership, Meeting, Technician, WorkingGroup, WorkPlanItem
from ..permissions import (
    approved_technician,
    can_join_group,
    can_manage_group,
    can_manage_membership,
    can_update_work_item,
    can_view_meeting,
    can_view_technicians,
)
from ..services.participation import join_group, leave_group
from ..submissions import save_once

# An item that is finished or abandoned is never overdue.
CLOSED_STATUSES = [WorkPlanItem.Status.DONE, WorkPlanItem.Status.DROPPED]
PAST_MEETINGS_SHOWN = 20


def groups_with_counts():
    """Groups with their chair city, member and member-city counts and next meeting's start."""
    upcoming = Q(meetings__status=Meeting.Status.SCHEDULED, meetings__starts_at__gte=timezone.now())
    return WorkingGroup.objects.select_related("chair_city").annotate(
        member_count=Count("memberships", distinct=True),
        city_count=Count("memberships__technician__city", distinct=True),
        next_meeting_at=Min("meetings__starts_at", filter=upcoming),
    )


def posted(request):
    """The submitted data, or None for an unbound form (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


def group_url(group: WorkingGroup, anchor: str = "") -> str:
    url = reverse("cities:group-detail", args=[group.slug])
    return f"{url}#{anchor}" if anchor else url


def group_list(request):
    form = GroupFilterForm(request.GET)
    groups = form.filter(groups_with_counts())
    context = {
        "groups": groups,
        "form": form,
        "archived": form.cleaned_data.get("archived", False),
        "can_create": can_manage_membership(request.user),
    }
    return render(request, "cities/groups/group_list.html", context)


def group_detail(request, slug: str):
    group = get_object_or_404(groups_with_counts(), slug=slug)
    user = request.user
    technician = approved_technician(user)
    can_see_people = can_view_technicians(user)
    context = {
        "group": group,
        "members": group_members(group) if can_see_people else None,
        "can_see_people": can_see_people,
        "items": plan_items(request, group),
        "status_choices": WorkPlanItem.Status.choices,
        **group_meetings(user, group),
        "is_group_member": technician is not None
        and GroupMembership.objects.filter(group=group, technician=technician).exists(),
        "can_join": can_join_group(user, group),
        "can_manage": can_manage_group(user, group),
    }
    return render(request, "cities/groups/group_detail.html", context)


def group_members(group: WorkingGroup):
    return Technician.objects.filter(group_memberships__group=group).select_related("user", "city")


def plan_items(request, group: WorkingGroup) -> list[WorkPlanItem]:
    """The plan in order, each item marked with what this viewer may see and do with it."""
    overdue = Q(due_date__lt=timezone.localdate()) & ~Q(status__in=CLOSED_STATUSES)
    items = list(
        group.work_items.select_related(
            "owner__user", "owner__city", "case_study", "scenario_package__owner_city"
        ).annotate(is_overdue=ExpressionWrapper(overdue, output_field=BooleanField()))
    )
    for item in items:
        item.can_update = can_update_work_item(request.user, item)
        page = item.case_study
        item.case_study_url = page.get_url(request) if page is not None and page.live else None
        package = item.scenario_package
        item.package_visible = package is not None and can_view_package(request.user, package)
    return items


def group_meetings(user, group: WorkingGroup) -> dict:
    """Meetings still to come (or still being scheduled), then the latest past ones."""
    now = timezone.now()
    upcoming = group.meetings.filter(Q(starts_at__gte=now) | Q(starts_at__isnull=True)).order_by(
        F("starts_at").asc(nulls_last=True), "id"
    )
    past = (
        group.meetings.filter(starts_at__lt=now)
        .exclude(status=Meeting.Status.CANCELLED)
        .order_by("-starts_at", "-id")[:PAST_MEETINGS_SHOWN]
    )
    upcoming, past = list(upcoming), list(past)
    for meeting in upcoming + past:
        meeting.viewable = can_view_meeting(user, meeting)
    return {"upcoming_meetings": upcoming, "past_meetings": past}


@require_POST
def group_join(request, slug: str):
    group = get_object_or_404(WorkingGroup, slug=slug)
    if not request.user.is_authenticated:
        return redirect_to_login(group_url(group))
    if not can_join_group(request.user, group):
        if not group.is_active:
            raise PermissionDenied(_("This working group is no longer active."))
        raise PermissionDenied(_("Only approved technicians of member cities join working groups."))
    join_group(group, approved_technician(request.user))
    messages.success(request, _("You have joined %(group)s.") % {"group": group})
    return redirect(group_url(group))


@require_POST
def group_leave(request, slug: str):
    group = get_object_or_404(WorkingGroup, slug=slug)
    if not request.user.is_authenticated:
        return redirect_to_login(group_url(group))
    technician = approved_technician(request.user)
    if technician is None:
        raise PermissionDenied(_("Only approved technicians of member cities join working groups."))
    if leave_group(group, technician):
        messages.success(request, _("You have left %(group)s.") % {"group": group})
    else:
        messages.info(request, _("You were not a member of %(group)s.") % {"group": group})
    return redirect(group_url(group))


@login_required
def group_create(request):
    if not can_manage_membership(request.user):
        raise PermissionDenied(_("Only the network's coordinators create working groups."))
    form = WorkingGroupForm(posted(request))
    if request.method == "POST" and form.is_valid():

        def create() -> str:
            with transaction.atomic():
                group = form.save()
            messages.success(request, _("Working group %(group)s created.") % {"group": group})
            return group_url(group)

        return save_once(request, form, create, while_pending=reverse("cities:group-list"))
    return render(request, "cities/groups/group_form.html", {"form": form, "group": None})


@login_required
def group_edit(request, slug: str):
    group = get_object_or_404(WorkingGroup, slug=slug)
    if not can_manage_group(request.user, group):
        raise PermissionDenied(_("Only the network's coordinators manage working groups."))
    form = WorkingGroupForm(posted(request), instance=group)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            group = form.save()
        messages.success(request, _("Working group %(group)s saved.") % {"group": group})
        return redirect(group_url(group))
    return render(request, "cities/groups/group_form.html", {"form": form, "group": group})


def get_group_and_item(slug: str, pk: int) -> tuple[WorkingGroup, WorkPlanItem]:
    group = get_object_or_404(WorkingGroup, slug=slug)
    item = get_object_or_404(WorkPlanItem, pk=pk, group=group)
    return group, item


def next_position(group: WorkingGroup) -> int:
    last = group.work_items.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


@login_required
def workitem_create(request, slug: str):
    group = get_object_or_404(WorkingGroup, slug=slug)
    if not can_manage_group(request.user, group):
        raise PermissionDenied(_("Only the network's coordinators manage work plans."))
    form = WorkPlanItemForm(posted(request), group=group, user=request.user)
    if request.method == "POST" and form.is_valid():

        def add() -> str:
            with transaction.atomic():
                # Lock the group so that two items added at once do not take the same position.
                WorkingGroup.objects.select_for_update().filter(pk=group.pk).get()
                item = form.save(commit=False)
                item.position = next_position(group)
                item.updated_by = request.user
                item.save()
            messages.success(request, _("Work plan item %(item)s added.") % {"item": item})
            return group_url(group, "plan")

        return save_once(request, form, add, while_pending=group_url(group, "plan"))
    context = {"form": form, "group": group, "item": None}
    return render(request, "cities/groups/workitem_form.html", context)


@login_required
def workitem_edit(request, slug: str, pk: int):
    group, item = get_group_and_item(slug, pk)
    if not can_manage_group(request.user, group):
        raise PermissionDenied(_("Only the network's coordinators manage work plans."))
    form = WorkPlanItemForm(posted(request), instance=item, group=group, user=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            item = form.save(commit=False)
            item.updated_by = request.user
            item.save()
        messages.success(request, _("Work plan item %(item)s saved.") % {"item": item})
        return redirect(group_url(group, "plan"))
    context = {"form": form, "group": group, "item": item}
    return render(request, "cities/groups/workitem_form.html", context)


@require_POST
def workitem_delete(request, slug: str, pk: int):
    group, item = get_group_and_item(slug, pk)
    if not request.user.is_authenticated:
        return redirect_to_login(group_url(group))
    if not can_manage_group(request.user, group):
        raise PermissionDenied(_("Only the network's coordinators manage work plans."))
    item.delete()
    messages.success(request, _("Work plan item %(item)s deleted.") % {"item": item})
    return redirect(group_url(group, "plan"))


@require_POST
def workitem_move(request, slug: str, pk: int):
    group, item = get_group_and_item(slug, pk)
    if not request.user.is_authenticated:
        return redirect_to_login(group_url(group))
    if not can_manage_group(request.user, group):
        raise PermissionDenied(_("Only the network's coordinators manage work plans."))
    direction = request.POST.get("direction", "")
    if direction not in ("up", "down"):
        message = _("Unknown direction %(direction)s; expected up or down.")
        return bad_request(request, group, message % {"direction": repr(direction)})
    if not move_work_item(item, direction):
        messages.info(request, _("%(item)s is already at that end of the plan.") % {"item": item})
    return redirect(group_url(group, "plan"))


@transaction.atomic
def move_work_item(item: WorkPlanItem, direction: str) -> bool:
    """Swap the item with its neighbour above or below; False at the end of the plan.

    The plan is renumbered 0..n-1 on the way, so that items with equal positions
    (added by other means) still move.
    """
    plan = list(
        WorkPlanItem.objects.select_for_update()
        .filter(group_id=item.group_id)
        .order_by("position", "id")
    )
    index = next(i for i, other in enumerate(plan) if other.pk == item.pk)
    neighbour = index - 1 if direction == "up" else index + 1
    if not 0 <= neighbour < len(plan):
        return False
    plan[index], plan[neighbour] = plan[neighbour], plan[index]
    for position, other in enumerate(plan):
        other.position = position
    WorkPlanItem.objects.bulk_update(plan, ["position"])
    return True


@require_POST
def workitem_status(request, slug: str, pk: int):
    group, item = get_group_and_item(slug, pk)
    if not request.user.is_authenticated:
        return redirect_to_login(group_url(group))
    if not can_update_work_item(request.user, item):
        raise PermissionDenied(_("Only the item's owner and the coordinators change its status."))
    status = request.POST.get("status", "")
    if status not in WorkPlanItem.Status.values:
        message = _("Unknown status %(status)s; expected one of: %(choices)s.")
        choices = ", ".join(WorkPlanItem.Status.values)
        return bad_request(request, group, message % {"status": repr(status), "choices": choices})
    item.status = status
    item.updated_by = request.user
    item.save(update_fields=["status", "updated_by", "updated_at"])
    messages.success(
        request,
        _("%(item)s is now %(status)s.") % {"item": item, "status": item.get_status_display()},
    )
    return redirect(group_url(group, "plan"))


def bad_request(request, group: WorkingGroup, message: str):
    context = {"group": group, "message": message}
    return render(request, "cities/groups/bad_request.html", context, status=400)
