from rest_framework import serializers

from .models import PackageVersion, RunProgress, ScenarioPackage, ScenarioRun
from .services import validate_run_parameters


class PackageVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = PackageVersion
        fields = ["id", "version", "sha256", "created_at", "manifest"]


class ScenarioPackageSerializer(serializers.ModelSerializer):
    owner_city = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    versions = PackageVersionSerializer(many=True, read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ScenarioPackage
        fields = [
            "id",
            "owner_city",
            "slug",
            "title",
            "description",
            "licence",
            "attribution",
            "visibility",
            "created_at",
            "updated_at",
            "url",
            "versions",
        ]


class RunProgressSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunProgress
        fields = ["attempt", "stage", "iteration", "relative_gap", "elapsed_s", "recorded_at"]


class VersionField(serializers.PrimaryKeyRelatedField):
    """A version id: a whole number (DRF would otherwise read 1.5 as 1, and 1e400 crashes)."""

    def to_internal_value(self, data):
        is_int = isinstance(data, int) and not isinstance(data, bool)
        if not is_int and not (isinstance(data, str) and data.isdigit()):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


class ScenarioRunSerializer(serializers.ModelSerializer):
    version = VersionField(queryset=PackageVersion.objects.all())
    package = serializers.CharField(source="version.package.slug", read_only=True)
    city = serializers.CharField(source="version.package.owner_city.slug", read_only=True)
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ScenarioRun
        fields = [
            "uuid",
            "version",
            "package",
            "city",
            "parameters",
            "status",
            "stage",
            "iteration",
            "relative_gap",
            "progress",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "engine_version",
            "error",
            "url",
        ]
        read_only_fields = [
            "uuid",
            "status",
            "stage",
            "iteration",
            "relative_gap",
            "progress",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "engine_version",
            "error",
        ]

    def validate_parameters(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("must be an object")
        try:
            return validate_run_parameters(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class RunResultsSerializer(serializers.ModelSerializer):
    summary = serializers.JSONField()
    links_csv = serializers.SerializerMethodField()

    class Meta:
        model = ScenarioRun
        fields = ["uuid", "status", "summary", "input_hashes", "engine_version", "links_csv"]

    def get_links_csv(self, run) -> str | None:
        request = self.context.get("request")
        if not run.links_file or request is None:
            return None
        return request.build_absolute_uri(f"{run.get_absolute_url()}links.csv")
