"""The runs and packages API (/api/v1/). Permissions are checked explicitly per action."""

from django.db.models import Prefetch
from django.http import Http404
from rest_framework import filters, mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from .models import PackageVersion, ScenarioRun
from .permissions import can_run_package, visible_packages
from .serializers import (
    RunProgressSerializer,
    RunResultsSerializer,
    ScenarioPackageSerializer,
    ScenarioRunSerializer,
)
from .services import start_run


class PackageViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ScenarioPackageSerializer
    permission_classes = [permissions.AllowAny]
    filter_backends = [filters.SearchFilter]
    search_fields = ["title", "slug", "description", "owner_city__name"]

    def get_queryset(self):
        versions = PackageVersion.objects.order_by("-created_at")
        return (
            visible_packages(self.request.user)
            .select_related("owner_city")
            .prefetch_related(Prefetch("versions", queryset=versions))
            .order_by("owner_city__name", "title")
        )


class RunViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ScenarioRunSerializer
    permission_classes = [permissions.IsAuthenticatedOrReadOnly]
    lookup_field = "uuid"
    filter_backends = [filters.SearchFilter]
    search_fields = ["version__package__title", "version__package__slug", "status"]

    def get_queryset(self):
        packages = visible_packages(self.request.user)
        return (
            ScenarioRun.objects.filter(version__package__in=packages)
            .select_related("version__package__owner_city")
            .order_by("-created_at")
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = serializer.validated_data["version"]
        if version.package not in visible_packages(request.user):
            raise Http404()
        if not can_run_package(request.user, version.package):
            raise PermissionDenied("Only the owning city's technicians and coordinators run it.")
        run = start_run(
            version, user=request.user, parameters=serializer.validated_data.get("parameters")
        )
        return Response(self.get_serializer(run).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["get"])
    def results(self, request, uuid=None):
        run = self.get_object()
        return Response(RunResultsSerializer(run, context={"request": request}).data)

    @action(detail=True, methods=["get"])
    def progress(self, request, uuid=None):
        run = self.get_object()
        rows = run.progress_rows.order_by("recorded_at", "id")
        return Response(RunProgressSerializer(rows, many=True).data)
