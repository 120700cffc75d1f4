"""People: joining a city, deciding requests, profiles and the directory."""

from django.urls import path

from ..views import people

urlpatterns = [
    path("people/", people.technician_list, name="technician-list"),
    path("people/join/", people.technician_request, name="technician-request"),
    path("people/requests/", people.technician_requests, name="technician-requests"),
    path("people/requests/<int:pk>/", people.technician_decide, name="technician-decide"),
    path("people/me/", people.profile_edit, name="profile-edit"),
    path("people/<int:pk>/", people.technician_detail, name="technician-detail"),
]
