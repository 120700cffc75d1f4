from django.urls import path

from . import views

app_name = "twins"
urlpatterns = [
    path("packages/", views.package_list, name="package-list"),
    path("packages/publish/", views.package_publish, name="package-publish"),
    path("packages/<slug:city_slug>/<slug:slug>/", views.package_detail, name="package-detail"),
    path(
        "packages/<slug:city_slug>/<slug:slug>/versions/<int:version_id>/run/",
        views.run_create,
        name="run-create",
    ),
    path("runs/<uuid:run_uuid>/", views.run_detail, name="run-detail"),
    path("runs/<uuid:run_uuid>/links.csv", views.run_links, {"fmt": "csv"}, name="run-links"),
    path(
        "runs/<uuid:run_uuid>/links.geojson",
        views.run_links,
        {"fmt": "geojson"},
        name="run-links-geojson",
    ),
]
