from django.contrib import admin

from .models import PackageVersion, RunProgress, ScenarioPackage, ScenarioRun


class PackageVersionInline(admin.TabularInline):
    model = PackageVersion
    fields = ["version", "sha256", "created_by", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(ScenarioPackage)
class ScenarioPackageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "owner_city", "visibility", "updated_at"]
    list_filter = ["visibility", "owner_city"]
    search_fields = ["title", "slug", "owner_city__name"]
    inlines = [PackageVersionInline]


@admin.register(PackageVersion)
class PackageVersionAdmin(admin.ModelAdmin):
    """Versions are immutable: the admin shows them, it does not edit them."""

    list_display = ["package", "version", "sha256", "created_at"]
    search_fields = ["package__title", "sha256"]
    readonly_fields = [
        "package",
        "version",
        "archive",
        "sha256",
        "manifest",
        "created_by",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(ScenarioRun)
class ScenarioRunAdmin(admin.ModelAdmin):
    list_display = ["pk", "version", "status", "progress", "attempts", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["version__package__title", "uuid"]
    readonly_fields = [f.name for f in ScenarioRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(RunProgress)
class RunProgressAdmin(admin.ModelAdmin):
    list_display = ["run", "attempt", "stage", "iteration", "relative_gap", "elapsed_s"]
    list_filter = ["stage"]
