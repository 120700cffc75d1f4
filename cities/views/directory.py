"""The city directory, city profiles and membership applications.

Each view checks permission explicitly with cities.permissions.
"""

from collections import Counter

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from twins.permissions import visible_packages

from .. import map as member_map
from ..forms.directory import (
    CityFilterForm,
    CityForm,
    MembershipApplicationForm,
    MembershipDecisionForm,
)
from ..models import City, MembershipApplication, WorkingGroup, is_coordinator
from ..permissions import (
    can_apply_for_membership,
    can_edit_city,
    can_manage_membership,
    can_view_technicians,
    pending_application,
)
from ..services.membership import approve_application, asked_to_join, decline_application
from ..text import fold

CITIES_PER_PAGE = 25
APPLICATIONS_PER_PAGE = 50


def city_list(request):
    """Public: the member cities, filtered, sorted and paginated, with their map."""
    facets = City.objects.values("region", "province").annotate(cities=Count("pk")).order_by()
    per_region = Counter()
    for row in facets:
        per_region[row["region"]] += row["cities"]
    form = CityFilterForm(
        request.GET,
        regions=sorted(filter(None, per_region), key=fold),
        provinces=sorted({row["province"] for row in facets if row["province"]}, key=fold),
    )
    cities = form.filter(City.objects.all())
    sort = form.cleaned_data.get("sort") or "name"
    page = Paginator(cities.select_related("contact__user"), CITIES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "page": page,
        "map": member_map.draw(map_points(cities)),
        "legend": member_map.legend(),
        "sort": sort,
        "next_sort": next_sort(sort),
        "region_counts": sorted(per_region.items(), key=lambda item: fold(item[0])),
        "show_people": can_view_technicians(request.user),
    }
    return render(request, "cities/directory/city_list.html", context)


SORTABLE = {"name": "name", "population": "-population", "joined_on": "-joined_on"}


def next_sort(current: str) -> dict[str, str]:
    """The order a click on each column header asks for: its first order, or the reverse."""
    links = {}
    for column, first in SORTABLE.items():
        reverse_first = first.removeprefix("-") if first.startswith("-") else f"-{first}"
        links[column] = reverse_first if current == first else first
    return links


def map_points(cities):
    fields = ("name", "slug", "province", "latitude", "longitude", "size_band")
    return [
        member_map.Point(
            latitude=city.latitude,
            longitude=city.longitude,
            size_band=city.size_band,
            label=f"{city.name} ({city.province})" if city.province else city.name,
            url=reverse("cities:city-detail", args=[city.slug]),
        )
        for city in cities.only(*fields)
    ]


def city_detail(request, slug: str):
    """Public: a city's profile. Technicians' names are for members; visitors see a count."""
    city = get_object_or_404(City.objects.select_related("contact__user"), slug=slug)
    show_people = can_view_technicians(request.user)
    technicians = city.technicians.filter(approved=True).select_related("user")
    context = {
        "city": city,
        "show_people": show_people,
        "technicians": list(technicians) if show_people else None,
        "technician_count": None if show_people else technicians.count(),
        "chaired_groups": city.chaired_groups.all(),
        "member_groups": WorkingGroup.objects.filter(
            memberships__technician__city=city, memberships__technician__approved=True
        )
        .exclude(chair_city=city)
        .distinct(),
        "packages": visible_packages(request.user).filter(owner_city=city).order_by("title"),
        "can_edit": can_edit_city(request.user, city),
    }
    return render(request, "cities/directory/city_detail.html", context)


@login_required
def city_edit(request, slug: str):
    city = get_object_or_404(City, slug=slug)
    if not can_edit_city(request.user, city):
        raise PermissionDenied(_("Only the city's admins and the coordinators edit its profile."))
    data = request.POST if request.method == "POST" else None
    form = CityForm(data, instance=city, allow_tier=is_coordinator(request.user))
    if form.is_valid():
        form.save()
        messages.success(request, _("The profile of %(city)s was saved.") % {"city": city.name})
        return redirect("cities:city-detail", slug=city.slug)
    return render(request, "cities/directory/city_form.html", {"city": city, "form": form})


@login_required
def membership_apply(request):
    """A verified user asks for their municipality, picked from the reference table, to join."""
    if not can_apply_for_membership(request.user):
        context = apply_refusal(request.user)
        return render(request, "cities/directory/membership_refused.html", context, status=403)
    query = request.POST.get("municipality_q", request.GET.get("municipality_q", "")).strip()
    data = request.POST if request.method == "POST" else None
    form = MembershipApplicationForm(data, query=query, applicant=request.user)
    if form.is_valid() and (application := form.save()) is not None:
        messages.success(
            request,
            _("The application for %(name)s was sent to the network's coordinators.")
            % {"name": application.municipality.name},
        )
        return redirect("cities:membership-mine")
    context = {"form": form, "query": query, "searched": len(fold(query)) >= 2}
    return render(request, "cities/directory/membership_apply.html", context)


def apply_refusal(user) -> dict:
    """Why a signed-in user may not apply (can_apply_for_membership said no)."""
    if is_coordinator(user):
        reason = _("Coordinators decide membership applications; they do not submit them.")
        return {"reason": reason, "needs_verified_email": False}
    technician = getattr(user, "technician", None)
    if technician is not None and not technician.approved:
        reason = asked_to_join(technician)
        return {"reason": reason, "needs_verified_email": False}
    if technician is not None:
        reason = _(
            "You are already registered with %(city)s. A technician acts for one city only."
        ) % {"city": technician.city}
        return {"reason": reason, "needs_verified_email": False}
    if (application := pending_application(user)) is not None:
        reason = _(
            "You already have a pending application for %(name)s; wait for its "
            "decision before applying again."
        ) % {"name": application.municipality.name}
        return {"reason": reason, "needs_verified_email": False}
    reason = _("Verify your e-mail address before applying.")
    return {"reason": reason, "needs_verified_email": True}


def applications():
    return MembershipApplication.objects.select_related(
        "municipality", "applicant", "decided_by", "city"
    )


@login_required
def membership_list(request):
    """Coordinators: pending applications (oldest first), then the decided ones."""
    if not can_manage_membership(request.user):
        raise PermissionDenied(_("Only the network's coordinators see membership applications."))
    pending = applications().filter(status=MembershipApplication.Status.PENDING)
    decided = applications().exclude(status=MembershipApplication.Status.PENDING)
    context = {
        "pending": pending.order_by("created_at"),
        "decided": Paginator(
            decided.order_by("-decided_at", "-created_at"), APPLICATIONS_PER_PAGE
        ).get_page(request.GET.get("page")),
    }
    return render(request, "cities/directory/membership_list.html", context)


@login_required
def membership_decide(request, pk: int):
    """Coordinators: an application, and (POST) its decision."""
    if not can_manage_membership(request.user):
        raise PermissionDenied(_("Only the network's coordinators decide membership."))
    application = get_object_or_404(applications(), pk=pk)
    form = MembershipDecisionForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            decide(request, application, **form.cleaned_data)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("cities:membership-decide", pk=application.pk)
        return redirect("cities:membership-list")
    context = {"application": application, "form": form}
    return render(request, "cities/directory/membership_detail.html", context)


def decide(request, application, decision: str, reason: str) -> None:
    name = application.municipality.name
    if decision == "approve":
        city = approve_application(application.pk, by=request.user, reason=reason)
        message = _("%(name)s is now a member city, with %(applicant)s as its admin.") % {
            "name": city.name,
            "applicant": application.applicant.get_full_name() or application.applicant.email,
        }
    else:
        decline_application(application.pk, by=request.user, reason=reason)
        message = _("The application of %(name)s was declined.") % {"name": name}
    messages.success(request, message)


@login_required
def membership_mine(request):
    """Any signed-in user: the status of their own applications; the one waiting for a
    decision comes first, or else the offer to apply if they may."""
    mine = applications().filter(applicant=request.user).order_by("-created_at")
    context = {
        "applications": mine,
        "pending": pending_application(request.user),
        "can_apply": can_apply_for_membership(request.user),
    }
    return render(request, "cities/directory/membership_mine.html", context)
