from django.shortcuts import render

from cities.models import City
from twins.models import ScenarioRun
from twins.permissions import visible_packages


def home(request):
    packages = visible_packages(request.user)
    context = {
        "city_count": City.objects.count(),
        "package_count": packages.count(),
        "recent_runs": ScenarioRun.objects.filter(version__package__in=packages)
        .select_related("version__package__owner_city")
        .order_by("-created_at")[:10],
    }
    return render(request, "home.html", context)
