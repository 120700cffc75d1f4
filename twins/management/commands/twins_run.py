"""`python manage.py twins_run PACKAGE [--wait] [--json FILE]` (DESIGN.md, command-line contract).

Publishes the package as a new version (or finds the identical published one)
and runs it through the Celery worker(s).
"""

import json
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from cities.models import City
from twins.engine.package import PackageError
from twins.models import RunStatus, ScenarioPackage, ScenarioRun
from twins.services import (
    PublishError,
    publish_version,
    read_archive_bytes,
    start_run,
    validate_archive,
    validate_run_parameters,
)


class Command(BaseCommand):
    help = "Publish a scenario package (zip or folder) and run it on the Celery workers."

    def add_arguments(self, parser):
        parser.add_argument("package", type=Path, help="package .zip or folder")
        parser.add_argument("--city", help="slug of the owning city (default: see below)")
        parser.add_argument("--wait", action="store_true", help="show progress until the run ends")
        parser.add_argument(
            "--json", type=Path, help="write the results summary here (needs --wait)"
        )
        parser.add_argument("--gap", type=float, help="override the relative gap")
        parser.add_argument("--max-iterations", type=int, help="override the iteration limit")
        parser.add_argument(
            "--timeout",
            type=float,
            default=None,
            help="with --wait: give up after this many seconds",
        )

    def handle(self, *args, **options):
        if options["json"] and not options["wait"]:
            raise CommandError("--json needs --wait: the results exist only when the run has ended")
        if options["json"] and options["json"].parent and not options["json"].parent.is_dir():
            raise CommandError(f"--json {options['json']}: folder does not exist")
        try:
            parameters = validate_run_parameters(self.overrides(options))
            data = read_archive_bytes(options["package"])
            with transaction.atomic():
                city = self.owner_city(options["city"], options["package"], data)
                version, created = publish_version(data, city=city)
                run = start_run(version, parameters=parameters)
        except (PublishError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        verb = "published" if created else "already published"
        self.stdout.write(f"{version} {verb} for {city} (sha256 {version.sha256[:12]})")
        self.stdout.write(f"run {run.pk} queued: {run.get_absolute_url()}")
        if options["wait"]:
            run = self.wait(run, options["timeout"])
            self.report(run, options["json"])

    def overrides(self, options) -> dict:
        overrides = {}
        if options["gap"] is not None:
            overrides["relative_gap"] = options["gap"]
        if options["max_iterations"] is not None:
            overrides["max_iterations"] = options["max_iterations"]
        return overrides

    def owner_city(self, slug: str | None, path: Path, data: bytes) -> City:
        """--city; else the city that already publishes this package; else the only city."""
        if slug:
            city = City.objects.filter(slug=slug).first()
            if city is None:
                raise CommandError(f"--city {slug}: no such city")
            return city
        try:
            name = validate_archive(data).name
        except PackageError as exc:
            raise CommandError(str(exc)) from exc
        owners = list(ScenarioPackage.objects.filter(slug=name).select_related("owner_city")[:2])
        if len(owners) == 1:
            return owners[0].owner_city
        cities = list(City.objects.all()[:2])
        if len(cities) == 1:
            return cities[0]
        raise CommandError(
            f"{path}: say which city publishes it with --city SLUG "
            f"({City.objects.count()} cities exist; see `manage.py shell` or the admin)"
        )

    def wait(self, run: ScenarioRun, timeout: float | None) -> ScenarioRun:
        started = time.monotonic()
        last = None
        while True:
            run.refresh_from_db()
            line = self.progress_line(run)
            if line != last:
                self.stdout.write(line)
                last = line
            if run.is_finished:
                return run
            if timeout is not None and time.monotonic() - started > timeout:
                raise CommandError(f"run {run.pk} still {run.status} after {timeout:.0f} s")
            time.sleep(0.5)

    def progress_line(self, run: ScenarioRun) -> str:
        gap = f", gap {run.relative_gap:.2e}" if run.relative_gap is not None else ""
        stage = f" {run.stage}" if run.stage else ""
        return f"[{run.progress * 100:5.1f}%] {run.status}{stage}, iteration {run.iteration}{gap}"

    def report(self, run: ScenarioRun, json_path: Path | None) -> None:
        if run.status != RunStatus.SUCCEEDED:
            raise CommandError(
                f"run {run.pk} {run.status}: {run.error.splitlines()[0] if run.error else ''}"
            )
        summary = run.summary or {}
        for side in ("baseline", "scenario"):
            if side in summary:
                s = summary[side]
                self.stdout.write(
                    f"{side}: TSTT {s['tstt']:.6g}, gap {s['relative_gap']:.2e}, "
                    f"{s['iterations']} iterations, unassigned {s['unassigned_demand']:.6g}"
                )
        if json_path:
            json_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False))
            self.stdout.write(f"summary written to {json_path}")
