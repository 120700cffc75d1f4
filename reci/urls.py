from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cities.api import CityViewSet, MeetingViewSet, TechnicianViewSet, WorkingGroupViewSet
from cities.views.tokens import api_token
from twins.api import PackageViewSet, RunViewSet

from . import views

router = DefaultRouter()
router.register("packages", PackageViewSet, basename="package")
router.register("runs", RunViewSet, basename="run")
router.register("cities", CityViewSet, basename="city")
router.register("technicians", TechnicianViewSet, basename="technician")
router.register("working-groups", WorkingGroupViewSet, basename="working-group")
router.register("meetings", MeetingViewSet, basename="meeting")

urlpatterns = [
    path("", views.home, name="home"),
    path("django-admin/", admin.site.urls),  # Wagtail's admin takes /admin/
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("account/api-token/", api_token, name="api-token"),
    path("", include("cities.urls")),
    path("", include("twins.urls")),
    path("pages/", include(wagtail_urls)),
]
if settings.DEBUG:
    # Only the pages' images are public files. Meeting attachments, scenario packages and run
    # results are served by views that check who is asking: serving the whole of MEDIA_ROOT
    # made them readable by anyone who knew (or read in a feed) a meeting's UID.
    for folder in ("images/", "original_images/"):
        urlpatterns += static(
            settings.MEDIA_URL + folder, document_root=settings.MEDIA_ROOT / folder
        )
