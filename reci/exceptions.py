"""The API's exception handler: DRF's, with Django's Http404 answered in the reader's language."""

from django.http import Http404
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def api_exception_handler(exc, context):
    """Django's get_object_or_404 says "No City matches the given query." in English only, and
    names the model; DRF's own NotFound is translated ("No encontrado.") and names nothing."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    return drf_exception_handler(exc, context)
