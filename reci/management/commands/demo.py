"""`python manage.py demo` (what `make demo` runs): the product's main job on real data.

Migrates, loads the demo cities and the school-streets packages (built from the
OpenStreetMap extracts shipped in twins/demo_data), seeds the demo network (member
cities, technicians, working groups and meetings: cities/demo.py), starts a Celery
worker and the web server, queues the demo runs, prints their progress and where to
see them, and stops everything cleanly on Ctrl-C. A second run reuses what is there.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from cities.demo import COORDINATOR_EMAIL, DEMO_PASSWORD, ensure_coordinator, seed_network
from cities.models import City, Municipality
from twins.models import ScenarioRun
from twins.services import publish_version, start_run

DEMO_DATA = Path(settings.BASE_DIR) / "twins" / "demo_data"
# The same school-streets template on three real extracts: Granada (a member city, from the
# INE table) and two foreign guests that show the template travelling between cities.
DEMO_PACKAGES = [
    # (owning city: INE code or (name, slug), OSM extract, package file name)
    ("18087", DEMO_DATA / "granada_es" / "granada_es.osm.gz", "granada-school-streets.zip"),
    (("Mónaco", "monaco"), DEMO_DATA / "monaco" / "monaco.osm.pbf", "monaco-school-streets.zip"),
    (
        ("Helsinki", "helsinki"),
        DEMO_DATA / "helsinki_fi" / "helsinki_fi.osm.pbf",
        "helsinki-school-streets.zip",
    ),
]
DEMO_USER = (COORDINATOR_EMAIL, DEMO_PASSWORD)


class Command(BaseCommand):
    help = "Set up the demo and run the school-streets scenario of three cities through a worker."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", 8000)))
        parser.add_argument(
            "--no-serve", action="store_true", help="run the scenarios and exit (no web server)"
        )

    def handle(self, *args, **options):
        if not options["no_serve"]:
            self.check_port_free(options["port"])
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database ready")
        self.coordinator = ensure_coordinator()
        versions = [self.publish(*spec) for spec in DEMO_PACKAGES]
        # After publishing, so that the package cities that the INE table knows are staffed too.
        counts = seed_network()
        self.stdout.write(
            "demo network: {cities} member cities, {technicians} technicians, "
            "{groups} working groups, {meetings} meetings".format(**counts)
        )
        # SIGTERM (e.g. from `timeout`) stops the demo like Ctrl-C does.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
        children = self.start_processes(options["port"], serve=not options["no_serve"])
        try:
            runs = [start_run(version) for version in versions]
            self.follow(runs, options["port"], serve=not options["no_serve"])
            if not options["no_serve"]:
                self.stdout.write("Serving; press Ctrl-C to stop.")
                while all(child.poll() is None for child in children):
                    time.sleep(1)
                raise CommandError("a demo process stopped unexpectedly; see its output above")
        except KeyboardInterrupt:
            self.stdout.write("\nstopping...")
        finally:
            self.stop(children)

    def demo_city(self, owner) -> City:
        if isinstance(owner, tuple):
            name, slug = owner
            return City.objects.get_or_create(slug=slug, defaults={"name": name})[0]
        city = City.objects.filter(ine_code=owner).first()
        if city is None:
            city = City.from_municipality(Municipality.objects.get(ine_code=owner))
            city.save()
        return city

    def publish(self, owner, extract: Path, filename: str):
        """Build the package (deterministic: the same engine gives the same bytes) and publish it.

        Rebuilding each time keeps the demo in step with the engine; publishing identical
        content again finds the existing version.
        """
        from twins.engine.osm import import_osm_package

        city = self.demo_city(owner)
        output = Path(settings.VAR_DIR) / "demo" / filename
        output.parent.mkdir(parents=True, exist_ok=True)
        self.stdout.write(f"building {filename} from {extract.name} (OpenStreetMap)...")
        import_osm_package(extract, output, template="school-streets")
        version, created = publish_version(output.read_bytes(), city=city)
        self.stdout.write(f"{version} {'published' if created else 'already published'} for {city}")
        return version

    def start_processes(self, port: int, *, serve: bool) -> list[subprocess.Popen]:
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE=os.environ.get("DJANGO_SETTINGS_MODULE", "reci.settings.dev"),
        )
        broker = settings.CELERY_BROKER_URL.split("://")[0]
        self.stdout.write(f"starting a Celery worker (broker: {broker})")
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "reci",
                "worker",
                "--loglevel",
                "WARNING",
                "--concurrency",
                "2",
                "--without-gossip",
                "--without-mingle",
            ],
            env=env,
            start_new_session=True,
        )
        children = [worker]
        if serve:
            children.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                    cwd=settings.BASE_DIR,
                    env=env,
                    start_new_session=True,
                )
            )
        return children

    def check_port_free(self, port: int) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                raise CommandError(
                    f"port {port} is in use: stop what uses it, or run DEMO_PORT=8001 make demo"
                ) from None

    def follow(self, runs: list[ScenarioRun], port: int, *, serve: bool) -> None:
        base = f"http://127.0.0.1:{port}"
        last = {}
        while True:
            for run in runs:
                run.refresh_from_db()
                line = self.line(run)
                if last.get(run.pk) != line:
                    self.stdout.write(line)
                    last[run.pk] = line
            if all(run.is_finished for run in runs):
                break
            time.sleep(1)
        failed = [run for run in runs if run.error]
        if failed:
            raise CommandError(f"run {failed[0].pk} failed: {failed[0].error}")
        self.stdout.write("School streets, side by side:")
        for run in runs:
            self.stdout.write(f"  {run.version.package.owner_city}: {self.outcome(run.summary)}")
            if serve:
                self.stdout.write(f"    results: {base}{run.get_absolute_url()}")
        if serve:
            self.stdout.write(
                f"The network: {base}/  ·  packages: {base}/packages/  ·  "
                f"sign in as {DEMO_USER[0]} / {DEMO_USER[1]}"
            )
        self.stdout.write("Map data © OpenStreetMap contributors (ODbL 1.0).")

    def outcome(self, summary: dict) -> str:
        if "delta" not in summary:
            return f"baseline total travel time {summary['baseline']['tstt']:.0f} veh·min"
        tstt = summary["delta"]["tstt"]["percent"]
        lost = summary["scenario"]["unassigned_demand"]
        return (
            f"total travel time {tstt:+.2f}% with the interventions, "
            f"{lost:.0f} trips can no longer reach their destination"
        )

    def line(self, run: ScenarioRun) -> str:
        gap = f" gap {run.relative_gap:.1e}" if run.relative_gap else ""
        return (
            f"  run {run.pk} [{run.progress * 100:5.1f}%] {run.status} {run.stage} "
            f"iteration {run.iteration}{gap}"
        )

    def stop(self, children: list[subprocess.Popen]) -> None:
        """Warm shutdown: SIGTERM to each main process (Celery stops its own pool)."""
        # A second Ctrl-C or SIGTERM must not interrupt the clean-up and orphan a child.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        self.stdout.write("stopped.")
