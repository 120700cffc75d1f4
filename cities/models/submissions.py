"""The one-time tokens of creation forms (cities/submissions.py)."""

from django.conf import settings
from django.db import models


class FormSubmission(models.Model):
    """A creation form's token, claimed by the first request that brings it.

    A row, not a cache key: the unique constraint makes the claim atomic on every database
    (a cache's add() is not atomic on the demo's file-based cache, and two requests won).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.CharField(max_length=64)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "token"], name="unique_form_submission")
        ]

    def __str__(self) -> str:
        return f"{self.token} → {self.url or '…'}"
