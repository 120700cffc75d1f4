"""The zero-set-up default (SQLite) takes concurrent writes: the demo's double clicks."""

import contextlib
import threading

import pytest
from django.db import connection, transaction

from cities.models import City

pytestmark = pytest.mark.embedded


def read_then_write(barrier: threading.Barrier, name: str, errors: list) -> None:
    """A request's transaction: it reads, then writes, while another does the same."""
    try:
        with transaction.atomic():
            City.objects.count()
            # Both have read, or (IMMEDIATE) the other is still waiting to begin.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=1)
            City.objects.create(name=name, slug=name.lower())
    except Exception as exc:  # the error is the finding
        errors.append(exc)
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_two_transactions_that_read_then_write_both_succeed():
    """On SQLite's default (deferred) transactions the second writer failed at once with
    "database is locked" (an RSVP or minutes double submit was a 500 in the demo)."""
    barrier, errors = threading.Barrier(2), []
    threads = [
        threading.Thread(target=read_then_write, args=(barrier, name, errors))
        for name in ("Uno", "Dos")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert set(City.objects.values_list("name", flat=True)) >= {"Uno", "Dos"}


def test_sqlite_begins_write_transactions_at_once_and_logs_ahead(db):
    if connection.vendor != "sqlite":
        pytest.skip("the embedded default only")
    options = connection.settings_dict["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
