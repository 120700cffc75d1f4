"""A creation form sent twice (a double click, a reload that posts again) creates one thing.

The form carries a random token (SubmittedOnce); the first request that brings a token claims
it in the shared cache (an atomic add, so two processes racing see one winner) and records
where it led; a repeat is sent there, with a note, instead of creating a second meeting,
group or work item and mailing its invitations twice.
"""

import secrets
from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect
from django.utils.translation import gettext as _

# Long enough for a form left open over a day; a token is never reused after that.
REMEMBER_SECONDS = 2 * 24 * 3600


def new_token() -> str:
    return secrets.token_urlsafe(16)


class SubmittedOnce(forms.Form):
    """Mixed into a creation form: a hidden token that tells a repeat from a new request."""

    submission = forms.CharField(widget=forms.HiddenInput, required=False, initial=new_token)


def save_once(request, form, save: Callable[[], str], *, while_pending: str):
    """Run `save` (which returns where to go) once per form token; redirect a repeat.

    A repeat that arrives while the first is still saving goes to `while_pending`.
    If `save` raises, the token is released, so that the corrected form may be sent again.
    """
    token = form.cleaned_data.get("submission")
    key = f"cities:submission:{request.user.pk}:{token}"
    if token and not cache.add(key, "", REMEMBER_SECONDS):
        messages.info(request, _("This form had already been sent: it was saved once."))
        return redirect(cache.get(key) or while_pending)
    try:
        url = save()
    except BaseException:
        if token:
            cache.delete(key)
        raise
    if token:
        cache.set(key, url, REMEMBER_SECONDS)
    return redirect(url)
