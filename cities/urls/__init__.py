"""The network's pages. Each area's URLs live in their own module."""

from django.urls import include, path

app_name = "cities"

urlpatterns = [
    path("", include("cities.urls.directory")),
    path("", include("cities.urls.people")),
    path("", include("cities.urls.groups")),
    path("", include("cities.urls.meetings")),
    path("", include("cities.urls.calendars")),
]
