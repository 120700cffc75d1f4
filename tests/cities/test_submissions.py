"""A creation form's token is claimed once, even by requests that arrive together."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cities.models import FormSubmission
from cities.submissions import claim
from tests.factories import UserFactory

pytestmark = pytest.mark.embedded


@pytest.mark.django_db(transaction=True)
def test_six_requests_bringing_one_token_at_once_make_one_claim():
    """On the demo's file-based cache, add() was not atomic: 4 of 6 parallel posts of one
    work item form created an item each."""
    user = UserFactory()
    barrier, wins = threading.Barrier(6), []

    def post():
        try:
            barrier.wait(timeout=10)
            if claim(user, "one-token") is not None:
                wins.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(wins) == 1
    assert FormSubmission.objects.filter(token="one-token").count() == 1


@pytest.mark.django_db
def test_claims_older_than_two_days_are_forgotten():
    user = UserFactory()
    old = FormSubmission.objects.create(user=user, token="old")
    FormSubmission.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
    assert claim(user, "new") is not None
    assert list(FormSubmission.objects.values_list("token", flat=True)) == ["new"]
