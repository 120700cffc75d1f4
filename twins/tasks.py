"""The Celery task that executes a scenario run (DESIGN.md, "Runs").

The task takes a run id, claims the run row atomically, calls the engine and
stores the results in one transaction. A killed worker's message is redelivered
(acks_late + reject_on_worker_lost); the claim makes a second delivery of a
finished run, or of a run a live worker is executing, do no work twice.
"""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from twins.engine import ENGINE_NAME
from twins.engine import __version__ as ENGINE_VERSION
from twins.engine.package import PackageError, load_package
from twins.engine.runner import run_package

from .models import RunProgress, RunStatus, ScenarioRun

logger = logging.getLogger(__name__)
PROGRESS_EVERY_S = 0.5
LOG_LINES_KEPT = 400


class RunSuperseded(Exception):
    """Another delivery took this run over, or it was cancelled: stop quietly."""


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.TWINS_RUN_SOFT_TIME_LIMIT,
    time_limit=settings.TWINS_RUN_HARD_TIME_LIMIT,
    max_retries=None,
)
def run_scenario(self, run_id: int) -> str:
    attempt = claim_run(run_id, worker=self.request.hostname or "worker")
    if attempt is None:
        if held_by_live_worker(run_id):
            # Redelivered while another worker is (or was until just now) on it:
            # look again once its lease could have lapsed.
            raise self.retry(countdown=settings.TWINS_RUN_LEASE_SECONDS)
        return "skipped"
    run = ScenarioRun.objects.select_related("version__package").get(pk=run_id)
    reporter = ProgressReporter(run, attempt)
    try:
        output = execute(run, reporter)
    except RunSuperseded:
        return "superseded"
    except SoftTimeLimitExceeded:
        limit = settings.TWINS_RUN_SOFT_TIME_LIMIT
        fail(run, attempt, reporter, f"time limit exceeded: the run took more than {limit} s")
        return "failed"
    except (PackageError, ValueError) as exc:
        fail(run, attempt, reporter, str(exc))
        return "failed"
    except Exception as exc:
        # The traceback goes to the worker's log for operators; the run page is public.
        logger.exception("run %s failed", run_id)
        fail(run, attempt, reporter, f"internal error ({type(exc).__name__}): {exc}")
        return "failed"
    store_results(run, attempt, reporter, output)
    return "succeeded"


def claim_run(run_id: int, *, worker: str) -> int | None:
    """Atomically take a queued run, or a running one whose worker stopped beating.

    Returns the attempt number, or None when there is nothing to do.
    """
    now = timezone.now()
    stale = now - timedelta(seconds=settings.TWINS_RUN_LEASE_SECONDS)
    claimable = Q(status=RunStatus.QUEUED) | Q(status=RunStatus.RUNNING, heartbeat_at__lt=stale)
    updated = ScenarioRun.objects.filter(claimable, pk=run_id).update(
        status=RunStatus.RUNNING,
        attempts=F("attempts") + 1,
        heartbeat_at=now,
        started_at=Coalesce("started_at", now),
        worker=worker[:200],
        stage="",
        iteration=0,
        relative_gap=None,
    )
    if not updated:
        return None
    return ScenarioRun.objects.values_list("attempts", flat=True).get(pk=run_id)


def held_by_live_worker(run_id: int) -> bool:
    row = ScenarioRun.objects.filter(pk=run_id).values("status", "heartbeat_at").first()
    return bool(row) and row["status"] == RunStatus.RUNNING


class ProgressReporter:
    """Writes progress rows and the heartbeat every PROGRESS_EVERY_S, and keeps the log."""

    def __init__(self, run: ScenarioRun, attempt: int):
        self.run = run
        self.attempt = attempt
        self.lines: list[str] = []
        self.last_write = 0.0
        self.log(f"attempt {attempt} started on {run.worker or 'worker'}")

    def log(self, line: str) -> None:
        stamp = timezone.localtime().strftime("%H:%M:%S")
        self.lines.append(f"{stamp} {line}")
        del self.lines[:-LOG_LINES_KEPT]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def __call__(self, stage: str, iteration: int, gap: float, elapsed_s: float) -> None:
        now = time.monotonic()
        if iteration > 1 and now - self.last_write < PROGRESS_EVERY_S:
            return
        self.last_write = now
        self.log(f"{stage}: iteration {iteration}, relative gap {gap:.3e}, {elapsed_s:.1f} s")
        self.write(stage, iteration, gap, elapsed_s)

    def write(self, stage: str, iteration: int, gap: float | None, elapsed_s: float) -> None:
        gap = gap if gap is not None and gap == gap and gap != float("inf") else None
        with transaction.atomic():
            updated = self.mine().update(
                stage=stage,
                iteration=iteration,
                relative_gap=gap,
                progress=self.run.estimate_progress(stage, gap),
                heartbeat_at=timezone.now(),
                log=self.text,
            )
            if not updated:
                raise RunSuperseded()
            RunProgress.objects.create(
                run=self.run,
                attempt=self.attempt,
                stage=stage,
                iteration=iteration,
                relative_gap=gap,
                elapsed_s=elapsed_s,
            )

    def mine(self):
        """The run row, only while this attempt still owns it."""
        return ScenarioRun.objects.filter(
            pk=self.run.pk, attempts=self.attempt, status=RunStatus.RUNNING
        )


def execute(run: ScenarioRun, reporter: ProgressReporter):
    """Load the stored archive, check it is the published content, run the engine."""
    version = run.version
    with tempfile.TemporaryDirectory(prefix="reci-run-") as tmp:
        path = Path(tmp) / "package.zip"
        with version.archive.open("rb") as source:
            path.write_bytes(source.read())
        package = load_package(path)
        if package.sha256 != version.sha256:
            raise PackageError(
                f"stored archive of {version} has content {package.sha256[:12]}, "
                f"not the published {version.sha256[:12]}"
            )
        reporter.write("loading", 0, None, 0.0)
        return run_package(package, overrides=run.parameters, progress=reporter)


def store_results(run: ScenarioRun, attempt: int, reporter: ProgressReporter, output) -> None:
    """Write the link file, then the row in one transaction, only if this attempt still owns it."""
    stem = f"runs/{run.uuid}/links-attempt{attempt}"
    stored_name = default_storage.save(f"{stem}.csv", ContentFile(output.links_csv))
    geojson_name = default_storage.save(f"{stem}.geojson", ContentFile(output.links_geojson))
    summary = output.summary
    last_stage = "scenario" if "scenario" in summary else "baseline"
    reporter.log("finished")
    with transaction.atomic():
        updated = reporter.mine().update(
            status=RunStatus.SUCCEEDED,
            stage=last_stage,
            iteration=summary[last_stage]["iterations"],
            relative_gap=summary[last_stage]["relative_gap"],
            summary=summary,
            links_file=stored_name,
            geojson_file=geojson_name,
            progress=1.0,
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
            engine_version=f"{ENGINE_NAME} {ENGINE_VERSION}",
            input_hashes=input_hashes(run, summary),
            log=reporter.text,
            error="",
        )
    if not updated:
        default_storage.delete(stored_name)
        default_storage.delete(geojson_name)


def input_hashes(run: ScenarioRun, summary: dict) -> dict:
    resources = {
        r.get("name", r.get("path")): r.get("hash")
        for r in run.version.manifest.get("resources", [])
    }
    return {"package_sha256": run.version.sha256, "resources": resources}


def fail(run: ScenarioRun, attempt: int, reporter: ProgressReporter, reason: str) -> None:
    reporter.log(f"failed: {reason.splitlines()[0] if reason else ''}")
    reporter.mine().update(
        status=RunStatus.FAILED,
        error=reason,
        finished_at=timezone.now(),
        engine_version=f"{ENGINE_NAME} {ENGINE_VERSION}",
        log=reporter.text,
    )
