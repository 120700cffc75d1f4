"""End to end through real Celery worker processes (Redis in CI; also the embedded broker)."""

import json
import os
import signal
import time

import pytest
from django.core.management import call_command

from tests.conftest import pack_tntp
from twins.engine.package import load_package
from twins.engine.runner import run_package
from twins.models import RunProgress, RunStatus, ScenarioRun
from twins.tasks import run_scenario

pytestmark = [pytest.mark.worker, pytest.mark.timeout(600)]


def wait_for(predicate, timeout: float, what: str, worker=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\n{worker.log()}" if worker else ""))


@pytest.mark.embedded
def test_twins_run_goes_through_a_real_worker_and_stores_results(cast, start_worker, tmp_path):
    package = pack_tntp("SiouxFalls", tmp_path / "sf.zip", "--close", "10-16", "--gap", "1e-5")
    worker = start_worker()
    out = tmp_path / "summary.json"
    try:
        call_command(
            "twins_run",
            str(package),
            "--city",
            "granada",
            "--wait",
            "--json",
            str(out),
            "--timeout",
            "300",
        )
    except Exception:
        print(worker.log())
        raise
    run = ScenarioRun.objects.get()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.attempts == 1
    summary = json.loads(out.read_text())
    assert summary == run.summary
    # The worker's numbers are the engine's numbers: same inputs, same deterministic solver.
    direct = run_package(load_package(package)).summary
    for side in ("baseline", "scenario"):
        assert summary[side]["objective"] == pytest.approx(direct[side]["objective"], rel=1e-12)
    assert summary["scenario"]["tstt"] > summary["baseline"]["tstt"]  # 10-16 closed costs time
    assert run.links_file.read().decode().count("\n") == 76 + 1
    assert RunProgress.objects.filter(run=run).count() >= 2


def test_a_killed_worker_process_is_redelivered_and_the_run_finishes_once(
    cast, start_worker, tmp_path
):
    # Long enough to kill mid-run: a gap it cannot reach, stopped by the iteration limit.
    package = pack_tntp(
        "ChicagoSketch",
        tmp_path / "chicago.zip",
        "--gap",
        "1e-12",
        "--max-iterations",
        "400",
        "--toll-weight",
        "0.02",
        "--distance-weight",
        "0.04",
    )
    worker = start_worker(TWINS_RUN_LEASE_SECONDS=3)
    call_command("twins_run", str(package), "--city", "granada")
    run = ScenarioRun.objects.get()

    def midway():
        return RunProgress.objects.filter(run=run, attempt=1, iteration__gte=5).exists()

    wait_for(midway, 120, "the first attempt to make progress", worker)
    (child,) = worker.children()
    os.kill(child, signal.SIGKILL)  # the process running the task dies mid-run

    def finished():
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, 400, "the redelivered run to finish", worker)
    assert run.status == RunStatus.SUCCEEDED, run.error + worker.log()
    assert run.attempts == 2
    attempts = set(RunProgress.objects.filter(run=run).values_list("attempt", flat=True))
    assert attempts == {1, 2}
    assert run.summary["baseline"]["iterations"] == 400
    # Exactly one result file: the killed attempt never wrote one.
    stored = sorted(os.listdir(os.path.dirname(run.links_file.path)))
    assert stored == ["links-attempt2.csv", "links-attempt2.geojson"]
    assert "attempt 2 started" in run.log


def test_the_soft_time_limit_marks_the_run_failed_with_its_reason(
    cast, start_worker, tmp_path, monkeypatch
):
    package = pack_tntp(
        "ChicagoSketch", tmp_path / "chicago.zip", "--gap", "1e-12", "--max-iterations", "5000"
    )
    # The publisher stamps the limits into the message, so both sides get them,
    # as they would from one deployment's settings.
    monkeypatch.setattr(run_scenario, "soft_time_limit", 3)
    monkeypatch.setattr(run_scenario, "time_limit", 60)
    monkeypatch.setattr(run_scenario, "_exec_options", None)  # Celery caches them per task
    worker = start_worker(TWINS_RUN_SOFT_TIME_LIMIT=3, TWINS_RUN_HARD_TIME_LIMIT=60)
    call_command("twins_run", str(package), "--city", "granada")
    run = ScenarioRun.objects.get()

    def finished():
        run.refresh_from_db()
        return run.is_finished

    wait_for(finished, 120, "the time limit", worker)
    assert run.status == RunStatus.FAILED
    assert "time limit exceeded" in run.error
    assert run.log
