"""`make demo`'s job on the zero-set-up default: SQLite, the file-system broker, a real worker."""

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.worker, pytest.mark.embedded, pytest.mark.timeout(600)]


def test_the_demo_runs_three_cities_school_streets_through_a_worker_and_stops_cleanly(
    tmp_path,
):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_DEFAULT_QUEUE"}
        and not k.startswith("RECI_")
    }
    env.update(DJANGO_SETTINGS_MODULE="reci.settings.dev", RECI_VAR_DIR=str(tmp_path))
    command = [sys.executable, "manage.py", "demo", "--no-serve"]
    first = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=500)
    assert first.returncode == 0, first.stdout + first.stderr
    for city in ("Granada", "Mónaco", "Helsinki"):
        assert f"  {city}: total travel time +" in first.stdout  # closing school streets costs
    assert "broker: filesystem" in first.stdout
    assert "succeeded" in first.stdout
    assert "© OpenStreetMap contributors" in first.stdout
    assert "stopped." in first.stdout
    assert (tmp_path / "reci.sqlite3").exists()

    second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=500)
    assert second.returncode == 0, second.stdout + second.stderr
    # The same engine builds the same bytes: nothing new is published the second time.
    assert second.stdout.count("already published") == 3
