"""Working groups and their work plans."""

from django.urls import path

from ..views import groups as views

urlpatterns = [
    path("groups/", views.group_list, name="group-list"),
    path("groups/new/", views.group_create, name="group-create"),
    path("groups/<slug:slug>/", views.group_detail, name="group-detail"),
    path("groups/<slug:slug>/edit/", views.group_edit, name="group-edit"),
    path("groups/<slug:slug>/join/", views.group_join, name="group-join"),
    path("groups/<slug:slug>/leave/", views.group_leave, name="group-leave"),
    path("groups/<slug:slug>/plan/new/", views.workitem_create, name="workitem-create"),
    path("groups/<slug:slug>/plan/<int:pk>/edit/", views.workitem_edit, name="workitem-edit"),
    path("groups/<slug:slug>/plan/<int:pk>/delete/", views.workitem_delete, name="workitem-delete"),
    path("groups/<slug:slug>/plan/<int:pk>/move/", views.workitem_move, name="workitem-move"),
    path("groups/<slug:slug>/plan/<int:pk>/status/", views.workitem_status, name="workitem-status"),
]
