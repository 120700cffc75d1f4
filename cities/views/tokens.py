"""The API token page: a member sees, creates and regenerates their own API token."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from ..permissions import can_use_api_token


@login_required
def api_token(request):
    if not can_use_api_token(request.user):
        raise PermissionDenied(_("API tokens are for the network's members."))
    token = Token.objects.filter(user=request.user).first()
    if request.method == "POST":
        with transaction.atomic():
            # A new key replaces the old one at once: whoever held the old key is locked out.
            Token.objects.filter(user=request.user).delete()
            Token.objects.create(user=request.user)
        if token is None:
            messages.success(request, _("Your API token has been created."))
        else:
            messages.success(
                request, _("Your API token has been regenerated; the old one no longer works.")
            )
        return redirect("api-token")
    return render(request, "cities/api_token.html", {"token": token})
