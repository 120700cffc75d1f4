from django.db.models import Count, F, Q
from django.shortcuts import render
from django.utils import timezone

from cities.models import City, Meeting, Technician, WorkingGroup
from cities.permissions import is_member, pending_application
from twins.models import ScenarioRun
from twins.permissions import visible_packages

UPCOMING_MEETINGS = 5
NEWEST_CITIES = 6


def home(request):
    """The network at a glance; its meetings only for members (permissions.can_view_meeting)."""
    packages = visible_packages(request.user)
    member = is_member(request.user)
    context = {
        "city_count": City.objects.count(),
        "technician_count": Technician.objects.filter(approved=True).count(),
        "groups": WorkingGroup.objects.filter(is_active=True)
        .select_related("chair_city")
        .annotate(member_count=Count("memberships"))
        .order_by("name"),
        "newest_cities": City.objects.order_by(F("joined_on").desc(nulls_last=True), "-pk")[
            :NEWEST_CITIES
        ],
        "show_meetings": member,
        **({} if member else signed_in_outsider(request.user)),
        "upcoming_meetings": upcoming_meetings() if member else [],
        "package_count": packages.count(),
        "recent_runs": ScenarioRun.objects.filter(version__package__in=packages)
        .select_related("version__package__owner_city")
        .order_by("-created_at")[:10],
    }
    return render(request, "home.html", context)


def signed_in_outsider(user) -> dict:
    """What a signed-in user who is not (yet) a member has asked, for the home page to say
    where they stand instead of asking them to sign in: a request to join a city waiting for
    its decision, a membership application waiting for the coordinators', or nothing yet."""
    if not user.is_authenticated:
        return {}
    request = Technician.objects.filter(user_id=user.pk, approved=False).select_related("city")
    return {
        "pending_request": request.first(),
        "pending_application": pending_application(user),
    }


def upcoming_meetings():
    """The next scheduled meetings that have not ended yet, soonest first."""
    now = timezone.now()
    return (
        Meeting.objects.filter(status=Meeting.Status.SCHEDULED, starts_at__isnull=False)
        .filter(Q(ends_at__gt=now) | Q(ends_at__isnull=True, starts_at__gte=now))
        .select_related("group")
        .order_by("starts_at", "pk")[:UPCOMING_MEETINGS]
    )
