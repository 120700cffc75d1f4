"""Scenario packages, their immutable versions, and the runs made of them.

A ScenarioRun row is the single source of truth for a run's state: the web
pages and the API read it, never Celery's result store.
"""

import math
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cities.models import City


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: anyone")
    NETWORK = "network", _("Network: signed-in members")
    CITY = "city", _("Private: this city and the coordinators")


class ScenarioPackage(models.Model):
    owner_city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="packages")
    slug = models.SlugField(_("slug"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    licence = models.CharField(_("licence"), max_length=200, blank=True)
    attribution = models.CharField(
        _("attribution"), max_length=300, blank=True, help_text=_("Shown wherever data is shown.")
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility, default=Visibility.PUBLIC
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["owner_city__name", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner_city", "slug"], name="unique_package_slug_per_city"
            )
        ]
        verbose_name = _("scenario package")
        verbose_name_plural = _("scenario packages")

    def __str__(self) -> str:
        return f"{self.title} ({self.owner_city})"

    def get_absolute_url(self) -> str:
        return reverse("twins:package-detail", args=[self.owner_city.slug, self.slug])

    def latest_version(self):
        return self.versions.order_by("-created_at").first()


def archive_path(instance: "PackageVersion", filename: str) -> str:
    return f"packages/{instance.sha256[:2]}/{instance.sha256}.zip"


class PackageVersion(models.Model):
    """An immutable published version, addressed by the sha256 of its content."""

    package = models.ForeignKey(ScenarioPackage, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(_("version"), max_length=50)
    archive = models.FileField(_("archive"), upload_to=archive_path)
    sha256 = models.CharField(_("content sha256"), max_length=64)
    manifest = models.JSONField(_("validated descriptor"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "version"], name="unique_version_per_package"
            ),
            models.UniqueConstraint(
                fields=["package", "sha256"], name="unique_content_per_package"
            ),
        ]
        verbose_name = _("package version")
        verbose_name_plural = _("package versions")

    def __str__(self) -> str:
        return f"{self.package.slug}@{self.version}"

    @property
    def scenario(self) -> dict:
        return self.manifest.get("scenario", {})

    @property
    def interventions(self) -> list:
        return self.scenario.get("interventions", [])


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


FINISHED_STATUSES = {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}


def links_path(instance: "ScenarioRun", filename: str) -> str:
    return f"runs/{instance.uuid}/{filename}"


class ScenarioRun(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    version = models.ForeignKey(PackageVersion, on_delete=models.PROTECT, related_name="runs")
    parameters = models.JSONField(_("parameter overrides"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus, default=RunStatus.QUEUED, db_index=True
    )
    stage = models.CharField(_("stage"), max_length=20, blank=True)
    iteration = models.PositiveIntegerField(default=0)
    relative_gap = models.FloatField(null=True, blank=True)
    progress = models.FloatField(_("progress (0-1)"), default=0.0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text=_("Deliveries that started work (more than one after a lost worker).")
    )
    worker = models.CharField(max_length=200, blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    engine_version = models.CharField(max_length=50, blank=True)
    input_hashes = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    log = models.TextField(blank=True)
    summary = models.JSONField(null=True, blank=True)
    links_file = models.FileField(upload_to=links_path, blank=True)
    geojson_file = models.FileField(upload_to=links_path, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("scenario run")
        verbose_name_plural = _("scenario runs")

    def __str__(self) -> str:
        return f"run {self.pk} of {self.version}"

    def get_absolute_url(self) -> str:
        return reverse("twins:run-detail", args=[self.uuid])

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def duration_s(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    def target_gap(self) -> float:
        assignment = self.version.scenario.get("assignment", {})
        return float(self.parameters.get("relative_gap", assignment.get("relative_gap", 1e-4)))

    def estimate_progress(self, stage: str, gap: float | None) -> float:
        """Fraction done: the gap falls roughly log-linearly from ~1 to the target.

        Each stage (baseline, then scenario if any) takes an equal share.
        """
        stages = ["baseline", "scenario"] if self.version.interventions else ["baseline"]
        index = stages.index(stage) if stage in stages else 0
        within = 0.0
        if gap is not None and gap > 0:
            target = self.target_gap()
            within = math.log10(max(gap, target)) / math.log10(target) if target < 1 else 1.0
            within = min(max(within, 0.0), 1.0)
        return min((index + within) / len(stages), 0.99)

    def mark_failed(self, reason: str) -> None:
        """Record a failure (the log is kept); a finished run is never changed."""
        ScenarioRun.objects.filter(pk=self.pk).exclude(status__in=FINISHED_STATUSES).update(
            status=RunStatus.FAILED, error=reason, finished_at=timezone.now()
        )
        self.refresh_from_db()


class RunProgress(models.Model):
    """One row every few iterations: what the live progress bar and gap chart read."""

    run = models.ForeignKey(ScenarioRun, on_delete=models.CASCADE, related_name="progress_rows")
    attempt = models.PositiveIntegerField(default=1)
    stage = models.CharField(max_length=20)
    iteration = models.PositiveIntegerField()
    relative_gap = models.FloatField(null=True)
    elapsed_s = models.FloatField()
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["recorded_at", "id"]
        verbose_name = _("run progress")
        verbose_name_plural = _("run progress")

    def __str__(self) -> str:
        return f"{self.stage} iteration {self.iteration} of run {self.run_id}"
