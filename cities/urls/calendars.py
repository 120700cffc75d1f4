"""Calendar files of meetings and private calendar feeds."""

from django.urls import path

from ..views import calendars as views

urlpatterns = [
    path("meetings/<int:pk>/meeting.ics", views.meeting_ics, name="meeting-ics"),
    path("calendar/", views.calendar_settings, name="calendar-settings"),
    path("calendar/token/", views.calendar_token, name="calendar-token"),
    path("calendar/<slug:token>/meetings.ics", views.private_feed, name="private-feed"),
    path("calendar/<slug:token>/groups/<slug:slug>.ics", views.group_feed, name="group-feed"),
]
