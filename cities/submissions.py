"""A creation form sent twice (a double click, a reload that posts again) creates one thing.

The form carries a random token (SubmittedOnce); the first request that brings a token claims
it by inserting a FormSubmission row (a unique constraint, so two processes racing see one
winner) and records where it led; a repeat is sent there, with a note, instead of creating a
second meeting, group or work item and mailing its invitations twice.
"""

import secrets
from collections.abc import Callable
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import FormSubmission

# Long enough for a form left open over a day; older claims are deleted.
REMEMBER = timedelta(days=2)


def new_token() -> str:
    return secrets.token_urlsafe(16)


class SubmittedOnce(forms.Form):
    """Mixed into a creation form: a hidden token that tells a repeat from a new request."""

    submission = forms.CharField(
        widget=forms.HiddenInput, required=False, initial=new_token, max_length=64
    )


def claim(user, token: str) -> FormSubmission | None:
    """The new claim of `token`, or None if a request brought it before."""
    FormSubmission.objects.filter(created_at__lt=timezone.now() - REMEMBER).delete()
    try:
        with transaction.atomic():
            return FormSubmission.objects.create(user=user, token=token)
    except IntegrityError:
        return None


def save_once(request, form, save: Callable[[], str], *, while_pending: str):
    """Run `save` (which returns where to go) once per form token; redirect a repeat.

    A repeat that arrives while the first is still saving goes to `while_pending`.
    If `save` raises, the claim is withdrawn, so that the corrected form may be sent again.
    """
    token = form.cleaned_data.get("submission")
    if not token:
        return redirect(save())
    claimed = claim(request.user, token)
    if claimed is None:
        messages.info(request, _("This form had already been sent: it was saved once."))
        earlier = FormSubmission.objects.filter(user=request.user, token=token).first()
        return redirect(earlier.url if earlier and earlier.url else while_pending)
    try:
        url = save()
    except BaseException:
        claimed.delete()
        raise
    claimed.url = url
    claimed.save(update_fields=["url"])
    return redirect(url)
