"""Meeting pages. The calendar file of a meeting (meeting.ics) lives in cities.urls.calendars."""

from django.urls import path

from ..views import meetings as views

urlpatterns = [
    path("meetings/", views.meeting_list, name="meeting-list"),
    path("meetings/new/", views.meeting_create, name="meeting-create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting-detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting-edit"),
    path("meetings/<int:pk>/cancel/", views.meeting_cancel, name="meeting-cancel"),
    path("meetings/<int:pk>/agenda/", views.meeting_agenda, name="meeting-agenda"),
    path(
        "meetings/<int:pk>/attachments/",
        views.meeting_attachment_add,
        name="meeting-attachment-add",
    ),
    path(
        "meetings/<int:pk>/attachments/<int:att_pk>/",
        views.meeting_attachment,
        name="meeting-attachment",
    ),
    path("meetings/<int:pk>/rsvp/", views.meeting_rsvp, name="meeting-rsvp"),
    path(
        "meetings/<int:pk>/availability/", views.meeting_availability, name="meeting-availability"
    ),
    path("meetings/<int:pk>/confirm/", views.meeting_confirm, name="meeting-confirm"),
    path("meetings/<int:pk>/attendance/", views.meeting_attendance, name="meeting-attendance"),
    path("meetings/<int:pk>/minutes/", views.meeting_minutes, name="meeting-minutes"),
]
