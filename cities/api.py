"""The network's API (/api/v1/): cities, technicians, working groups and meetings.

Every action checks cities/permissions.py explicitly. A refusal is a 401 for a caller
without credentials (signing in may help) and a 403 for a signed-in caller.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import BooleanField, CharField, Count, Exists, OuterRef, Subquery, Value
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.settings import api_settings

from .filters import (
    CityFilter,
    FoldedSearchFilter,
    MeetingFilter,
    TechnicianFilter,
    WorkingGroupFilter,
)
from .models import RSVP, City, GroupMembership, Meeting, Technician, WorkingGroup
from .permissions import (
    approved_technician,
    can_edit_city,
    can_join_group,
    can_manage_group,
    can_manage_meeting,
    can_manage_membership,
    can_respond_to_meeting,
    can_view_meeting,
    can_view_technicians,
    is_member,
)
from .serializers import (
    CitySerializer,
    MeetingSerializer,
    RSVPSerializer,
    TechnicianSerializer,
    WorkingGroupSerializer,
)
from .services import meetings
from .services.participation import join_group, leave_group, respond_to_meeting


def as_api_error(exc: DjangoValidationError) -> serializers.ValidationError:
    """A service's ValidationError as a 400 (DRF would answer it with a 500)."""
    return serializers.ValidationError(serializers.as_serializer_error(exc))


class NetworkViewSet(viewsets.GenericViewSet):
    """Shared set-up: permissions are checked per action, by the functions of permissions.py."""

    permission_classes = [permissions.AllowAny]
    filter_backends = [DjangoFilterBackend, FoldedSearchFilter]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # The actions read fields off the body before a serializer sees it: a JSON list, string
        # or number there would be a 500 (or a misleading answer), so refuse it first.
        if request.method in ("POST", "PUT", "PATCH") and not isinstance(request.data, Mapping):
            raise serializers.ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        _("The request body must be a JSON object of field names and values.")
                    ]
                }
            )

    def require(self, allowed: bool, message: str) -> None:
        if not allowed:
            self.permission_denied(self.request, message=message)

    def reloaded(self, instance):
        """The saved object as the list shows it, with its annotations."""
        return self.get_serializer(self.get_queryset().get(pk=instance.pk)).data


class CityViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, NetworkViewSet
):
    """Member cities: public to read; their admins and the coordinators edit the profile."""

    queryset = City.objects.all()
    serializer_class = CitySerializer
    lookup_field = "slug"
    http_method_names = ["get", "patch", "head", "options"]
    filterset_class = CityFilter
    search_fields = ["search_name"]

    def update(self, request, *args, **kwargs):
        city = self.get_object()
        self.require(
            can_edit_city(request.user, city),
            _("Only the city's admins and the network coordinators edit its profile."),
        )
        # A client may send back what it read: only a change of the tier is theirs to decide.
        changes_tier = "tier" in request.data and request.data["tier"] != city.tier
        self.require(
            not changes_tier or can_manage_membership(request.user),
            _("Only the network coordinators change a city's membership tier."),
        )
        return super().update(request, *args, **kwargs)


class TechnicianViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, NetworkViewSet
):
    """The people directory (approved technicians), for the network's members only."""

    serializer_class = TechnicianSerializer
    http_method_names = ["get", "patch", "head", "options"]
    filterset_class = TechnicianFilter
    search_fields = ["search_text"]

    def get_queryset(self):
        return (
            Technician.objects.filter(approved=True)
            .select_related("user", "city")
            .prefetch_related("areas", "working_groups")
        )

    def check_permissions(self, request):
        super().check_permissions(request)
        self.require(
            can_view_technicians(request.user),
            _("The people directory is open to the network's members only."),
        )

    def update(self, request, *args, **kwargs):
        technician = self.get_object()
        own = approved_technician(request.user)
        self.require(
            own is not None and own.pk == technician.pk, _("You may edit only your own profile.")
        )
        return super().update(request, *args, **kwargs)


class WorkingGroupViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    NetworkViewSet,
):
    """Working groups: public to read; coordinators create and edit them; technicians join."""

    serializer_class = WorkingGroupSerializer
    lookup_field = "slug"
    filterset_class = WorkingGroupFilter
    search_fields = ["search_name"]

    def get_queryset(self):
        technician = approved_technician(self.request.user)
        if technician is None:
            joined = Value(False, output_field=BooleanField())
        else:
            mine = GroupMembership.objects.filter(group=OuterRef("pk"), technician=technician)
            joined = Exists(mine)
        # Meta.ordering does not apply to a query with an aggregate: order explicitly.
        return (
            WorkingGroup.objects.select_related("chair_city")
            .annotate(member_count=Count("memberships", distinct=True), joined=joined)
            .order_by("search_name", "pk")
        )

    def create(self, request, *args, **kwargs):
        self.require(
            can_manage_membership(request.user),
            _("Only the network coordinators create working groups."),
        )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group = serializer.save()
        return Response(self.reloaded(group), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        group = self.get_object()
        self.require(
            can_manage_group(request.user, group),
            _("Only the network coordinators edit working groups."),
        )
        serializer = self.get_serializer(group, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(self.reloaded(group))

    @extend_schema(request=None, responses=WorkingGroupSerializer)
    @action(detail=True, methods=["post"])
    def join(self, request, slug=None):
        group = self.get_object()
        self.require(
            can_join_group(request.user, group),
            _("Only approved technicians join working groups, and only active ones."),
        )
        try:
            join_group(group, approved_technician(request.user))
        except DjangoValidationError as exc:
            raise as_api_error(exc) from exc
        return Response(self.reloaded(group))

    @extend_schema(request=None, responses=WorkingGroupSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, slug=None):
        group = self.get_object()
        technician = approved_technician(request.user)
        self.require(technician is not None, _("Only approved technicians leave working groups."))
        leave_group(group, technician)
        return Response(self.reloaded(group))


class MeetingViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    NetworkViewSet,
):
    """The network's meetings with their agendas, for members; coordinators manage them."""

    serializer_class = MeetingSerializer
    filter_backends = [DjangoFilterBackend]  # no folded name to search on (see the report)
    filterset_class = MeetingFilter

    def get_queryset(self):
        user = self.request.user
        if user.is_authenticated:
            mine = RSVP.objects.filter(meeting=OuterRef("pk"), user=user).values("response")[:1]
            my_response = Subquery(mine)
        else:
            my_response = Value(None, output_field=CharField())
        return (
            Meeting.objects.select_related("group")
            .prefetch_related("agenda_items", "slots")
            .annotate(my_response=my_response)
        )

    def check_permissions(self, request):
        super().check_permissions(request)
        self.require(is_member(request.user), _("Meetings are open to the network's members only."))

    def check_object_permissions(self, request, meeting):
        super().check_object_permissions(request, meeting)
        self.require(
            can_view_meeting(request.user, meeting),
            _("Meetings are open to the network's members only."),
        )

    def create(self, request, *args, **kwargs):
        self.require(
            can_manage_meeting(request.user), _("Only the network coordinators create meetings.")
        )
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        slots = fields.pop("slots", None)
        wanted = fields.pop("status", Meeting.Status.SCHEDULED)
        if wanted == Meeting.Status.SCHEDULING and not slots:
            raise serializers.ValidationError(
                {"slots": [_("A meeting that is looking for a date needs its proposed dates.")]}
            )
        if wanted == Meeting.Status.SCHEDULED and slots:
            raise serializers.ValidationError(
                {"slots": [_("A meeting with a fixed time has no proposed dates.")]}
            )
        if wanted == Meeting.Status.CANCELLED:
            raise serializers.ValidationError(
                {"status": [_("A new meeting is scheduled or looking for a date.")]}
            )
        try:
            meeting = meetings.create_meeting(created_by=request.user, slots=slots, **fields)
        except DjangoValidationError as exc:
            if slots and not hasattr(exc, "error_dict"):
                # The proposed dates' own checks name no field: they are about the slots.
                raise serializers.ValidationError({"slots": exc.messages}) from exc
            raise as_api_error(exc) from exc
        return Response(self.reloaded(meeting), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        """Edits, confirmation and cancellation go through the same services as the pages."""
        meeting = self.get_object()
        self.require(
            can_manage_meeting(request.user, meeting),
            _("Only the network coordinators edit meetings."),
        )
        serializer = self.get_serializer(meeting, data=request.data, partial=kwargs.get("partial"))
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        try:
            meeting = meetings.change_meeting(meeting, **changes)
        except DjangoValidationError as exc:
            raise as_api_error(exc) from exc
        return Response(self.reloaded(meeting))

    @extend_schema(request=RSVPSerializer, responses=RSVPSerializer)
    @action(detail=True, methods=["post"])
    def rsvp(self, request, pk=None):
        meeting = self.get_object()
        self.require(
            can_respond_to_meeting(request.user, meeting),
            _("Only the network's members answer meetings that are not cancelled."),
        )
        serializer = RSVPSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            rsvp = respond_to_meeting(meeting, request.user, serializer.validated_data["response"])
        except DjangoValidationError as exc:
            raise as_api_error(exc) from exc
        return Response(RSVPSerializer(rsvp).data)
