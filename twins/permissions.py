"""Who may see, change and run scenario packages (DESIGN.md, "People and roles").

Every view and API endpoint calls these functions explicitly.
"""

from cities.models import city_of, is_coordinator

from .models import ScenarioPackage, Visibility


def can_view_package(user, package: ScenarioPackage) -> bool:
    if package.visibility == Visibility.PUBLIC:
        return True
    if is_coordinator(user):
        return True
    city = city_of(user)
    if package.visibility == Visibility.NETWORK:
        return city is not None
    return city is not None and city.pk == package.owner_city_id


def can_manage_package(user, package: ScenarioPackage) -> bool:
    """Publish versions, change metadata and run: the owning city's technicians and coordinators."""
    if is_coordinator(user):
        return True
    city = city_of(user)
    return city is not None and city.pk == package.owner_city_id


can_run_package = can_manage_package


def can_publish_for(user, city) -> bool:
    if is_coordinator(user):
        return True
    own = city_of(user)
    return own is not None and own.pk == city.pk


def visible_packages(user, queryset=None):
    """The packages this user may see, as a queryset."""
    queryset = queryset if queryset is not None else ScenarioPackage.objects.all()
    if is_coordinator(user):
        return queryset
    city = city_of(user)
    if city is None:
        return queryset.filter(visibility=Visibility.PUBLIC)
    return queryset.exclude(visibility=Visibility.CITY) | queryset.filter(owner_city=city)
