"""Shared fixtures: the cast for permission tests, package builders and a real Celery worker."""

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

# Django is imported inside the fixtures that need it, so that the engine's tests
# (tests/engine) also run alone, without Django: `pytest -p no:django tests/engine`.

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RECI_SHARED_DATA", ROOT.parent / "shared" / "data"))
TNTP = SHARED_DATA / "tntp"


def require_tntp(name: str) -> Path:
    folder = TNTP / name
    if not folder.is_dir():
        pytest.skip(f"TNTP network {name} not found under {TNTP} (set RECI_SHARED_DATA)")
    return folder


def form_token(response) -> str:
    """The one-time token of the creation form on a rendered page (cities/submissions.py).

    Read from the HTML, not the template context: a template that leaves the hidden field
    out would make every double submit a new creation.
    """
    match = re.search(
        r'<input type="hidden" name="submission" value="([^"]+)"', response.content.decode()
    )
    assert match, "the page's form carries no submission token"
    return match.group(1)


@dataclass
class Cast:
    owner_city: object
    other_city: object
    coordinator: object
    owner: object  # technician of the owning city
    other: object  # technician of another city
    anonymous: object

    def users(self):
        return {
            "coordinator": self.coordinator,
            "owner": self.owner,
            "other": self.other,
            "anonymous": self.anonymous,
        }

    def client(self, who: str, language: str = "en"):
        """A test client signed in as one of the cast, reading pages in `language`.

        English by default: the assertions quote the source strings.
        """
        from django.test import Client

        return self._signed_in(Client(headers={"accept-language": language}), who)

    def api_client(self, who: str):
        """A DRF test client signed in (by session) as one of the cast."""
        from rest_framework.test import APIClient

        return self._signed_in(APIClient(headers={"accept-language": "en"}), who)

    def _signed_in(self, client, who: str):
        user = self.users()[who]
        if user.is_authenticated:
            client.force_login(user)
        return client


@pytest.fixture
def cast(db):
    from django.contrib.auth.models import AnonymousUser

    from .factories import CityFactory, TechnicianFactory, make_coordinator

    owner_city = CityFactory(name="Granada", slug="granada")
    other_city = CityFactory(name="Móstoles", slug="mostoles")
    return Cast(
        owner_city=owner_city,
        other_city=other_city,
        coordinator=make_coordinator(),
        owner=TechnicianFactory(city=owner_city).user,
        other=TechnicianFactory(city=other_city).user,
        anonymous=AnonymousUser(),
    )


@pytest.fixture
def unapproved_technician(cast):
    from .factories import TechnicianFactory, UserFactory

    return TechnicianFactory(city=cast.owner_city, approved=False, user=UserFactory()).user


def pack_tntp(name: str, output: Path, *extra: str) -> Path:
    """Build a package from a shared TNTP network with the product's own CLI."""
    folder = require_tntp(name)
    subprocess.run(
        [sys.executable, "-m", "twins.engine", "pack-tntp", str(folder), "-o", str(output), *extra],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    return output


@pytest.fixture
def siouxfalls_package(tmp_path):
    return pack_tntp("SiouxFalls", tmp_path / "siouxfalls.zip", "--close", "10-16", "--gap", "1e-5")


class WorkerProcess:
    """A real `celery worker` process on the test database and the test queue."""

    def __init__(self, log_path: Path, env: dict):
        self.log_path = log_path
        self.env = env
        self.process = None

    def start(self, timeout: float = 60.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "reci",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--hostname",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log_path.read_bytes():
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited at start:\n{self.log()}")
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def children(self) -> list[int]:
        out = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout
        return [int(pid) for pid in out.split()]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def worker_env(**extra) -> dict:
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "reci.settings.test"
    if db["ENGINE"].endswith("sqlite3"):
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    else:
        port = db.get("PORT") or 5432
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{port}/{db['NAME']}"
    env["CELERY_TASK_DEFAULT_QUEUE"] = settings.CELERY_TASK_DEFAULT_QUEUE
    env["RECI_MEDIA_ROOT"] = str(settings.MEDIA_ROOT)
    env.update({k: str(v) for k, v in extra.items()})
    return env


@pytest.fixture
def start_worker(transactional_db, tmp_path):
    """Start real worker processes; each is stopped at the end of the test."""
    workers = []

    def start(**extra_env) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(workers)}.log", worker_env(**extra_env))
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Where the shared data is required (CI), a test that would skip for want of it fails."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or os.environ.get("RECI_REQUIRE_SHARED_DATA") != "1":
        return
    reason = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else ""
    if "RECI_SHARED_DATA" in reason:
        report.outcome = "failed"
        report.longrepr = f"shared data is required here (RECI_REQUIRE_SHARED_DATA=1): {reason}"


@pytest.fixture
def municipalities(db):
    """The full INE/IGN reference table (a transactional test's flush may have emptied it)."""
    from cities.models import Municipality
    from cities.municipalities import load_reference_table

    if Municipality.objects.count() < 8000:
        load_reference_table(Municipality)
    return Municipality.objects.all()
