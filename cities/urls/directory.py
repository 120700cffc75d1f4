"""The city directory and membership applications."""

from django.urls import path

from ..views import directory as views

urlpatterns = [
    path("cities/", views.city_list, name="city-list"),
    path("cities/<slug:slug>/", views.city_detail, name="city-detail"),
    path("cities/<slug:slug>/edit/", views.city_edit, name="city-edit"),
    path("membership/apply/", views.membership_apply, name="membership-apply"),
    path("membership/applications/", views.membership_list, name="membership-list"),
    path("membership/applications/<int:pk>/", views.membership_decide, name="membership-decide"),
    path("membership/mine/", views.membership_mine, name="membership-mine"),
]
