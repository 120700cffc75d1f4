"""The task body's rules, without a broker (a real worker runs them in test_worker.py)."""

import json
from datetime import timedelta

import pytest
from celery.exceptions import Retry
from django.utils import timezone

from twins.models import RunStatus, ScenarioRun
from twins.tasks import claim_run, run_scenario


@pytest.fixture
def run(published):
    return ScenarioRun.objects.create(version=published, parameters={"max_iterations": 20})


def test_a_queued_run_is_claimed_once(run):
    assert claim_run(run.pk, worker="a") == 1
    assert claim_run(run.pk, worker="b") is None
    run.refresh_from_db()
    assert (run.status, run.attempts, run.worker) == (RunStatus.RUNNING, 1, "a")


def test_a_running_run_with_a_stale_heartbeat_is_taken_over(run, settings):
    claim_run(run.pk, worker="a")
    stale = timezone.now() - timedelta(seconds=settings.TWINS_RUN_LEASE_SECONDS + 1)
    ScenarioRun.objects.filter(pk=run.pk).update(heartbeat_at=stale)
    assert claim_run(run.pk, worker="b") == 2


@pytest.mark.parametrize("status", [RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED])
def test_a_second_delivery_of_a_finished_run_does_nothing(run, status):
    ScenarioRun.objects.filter(pk=run.pk).update(status=status, summary={"kept": True})
    assert run_scenario.apply(args=[run.pk]).get() == "skipped"
    run.refresh_from_db()
    assert run.status == status
    assert run.summary == {"kept": True}
    assert run.attempts == 0


def test_a_delivery_while_another_worker_runs_it_waits_and_does_no_work(run, monkeypatch, settings):
    asked = {}

    def retry(countdown):
        asked["countdown"] = countdown
        raise Retry()

    monkeypatch.setattr(run_scenario, "retry", retry)
    claim_run(run.pk, worker="alive")
    result = run_scenario.apply(args=[run.pk])
    assert isinstance(result.result, Retry)
    assert asked == {"countdown": settings.TWINS_RUN_LEASE_SECONDS}
    run.refresh_from_db()
    assert (run.attempts, run.worker, run.progress_rows.count()) == (1, "alive", 0)


def test_the_task_body_runs_the_engine_and_stores_results_in_one_go(run):
    assert run_scenario.apply(args=[run.pk]).get() == "succeeded"
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.progress == 1.0
    assert set(run.summary) >= {"package", "engine", "baseline", "scenario", "delta"}
    assert run.summary["package"]["sha256"] == run.version.sha256
    assert run.input_hashes["package_sha256"] == run.version.sha256
    assert run.engine_version.startswith("reci-twins-engine")
    assert run.links_file.read().decode().count("\n") == 76 + 1  # header + SiouxFalls' links
    assert run.progress_rows.filter(stage="baseline").exists()
    assert run.progress_rows.filter(stage="scenario").exists()


def test_a_failing_run_keeps_its_error_and_log(run):
    ScenarioRun.objects.filter(pk=run.pk).update(parameters={"relative_gap": "not a number"})
    assert run_scenario.apply(args=[run.pk]).get() == "failed"
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "relative_gap" in run.error
    assert "attempt 1 started" in run.log


def test_a_finished_run_page_shows_the_results_and_the_change(run, client):
    run_scenario.apply(args=[run.pk]).get()
    run.refresh_from_db()
    assert (run.stage, run.iteration) == ("scenario", run.summary["scenario"]["iterations"])
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Beckmann" in page
    percent = run.summary["delta"]["tstt"]["percent"]
    assert f"{percent:.2f}".replace(".", ",") in page  # Spanish decimal comma by default
    links = client.get(run.get_absolute_url() + "links.csv")
    assert links.status_code == 200
    assert b"".join(links.streaming_content).startswith(b"link_id,")
    progress = client.get(f"/api/v1/runs/{run.uuid}/progress/").json()
    assert {row["stage"] for row in progress} >= {"baseline", "scenario"}


def test_an_unexpected_error_is_recorded_without_a_traceback(run, monkeypatch):
    # Regression: the public run page showed a traceback with server paths.
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("twins.tasks.run_package", explode)
    assert run_scenario.apply(args=[run.pk]).get() == "failed"
    run.refresh_from_db()
    assert run.error == "internal error (RuntimeError): boom"
    assert "Traceback" not in run.error + run.log


def test_the_run_page_shows_noise_and_streets_and_serves_geojson(client, cast, tmp_path):
    from tests.conftest import ROOT
    from twins.engine.osm import import_osm_package
    from twins.services import publish_version

    extract = ROOT / "twins" / "demo_data" / "granada_es" / "granada_es.osm.gz"
    package = tmp_path / "granada.zip"
    import_osm_package(extract, package, template="school-streets")
    version, _ = publish_version(package.read_bytes(), city=cast.owner_city)
    run = ScenarioRun.objects.create(version=version)
    assert run_scenario.apply(args=[run.pk]).get() == "succeeded"
    run.refresh_from_db()
    page = client.get(run.get_absolute_url()).content.decode()
    assert "Ruido de convergencia" in page
    top = run.summary["streets"]["gains"][0]["street"]
    assert top in page
    assert "© OpenStreetMap contributors" in page
    response = client.get(run.get_absolute_url() + "links.geojson")
    geojson = json.loads(b"".join(response.streaming_content))
    assert geojson["type"] == "FeatureCollection"
    assert geojson["features"][0]["geometry"]["type"] == "LineString"
