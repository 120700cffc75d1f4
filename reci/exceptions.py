"""The API's exception handler: DRF's, with its untranslated answers in the reader's language."""

import json

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.views import exception_handler as drf_exception_handler


def api_exception_handler(exc, context):
    """Django's get_object_or_404 says "No City matches the given query." in English only, and
    names the model; DRF's own NotFound is translated ("No encontrado.") and names nothing.
    DRF's JSON parser quotes Python's English message ("JSON parse error - Expecting ...")."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, exceptions.ParseError) and isinstance(exc.__context__, ValueError):
        exc = exceptions.ParseError(why_not_json(exc.__context__))
    return drf_exception_handler(exc, context)


def why_not_json(error: ValueError) -> str:
    """What the JSON parser's error means, in the reader's language."""
    if isinstance(error, json.JSONDecodeError):
        return _("The request body is not valid JSON (line %(line)d, column %(column)d).") % {
            "line": error.lineno,
            "column": error.colno,
        }
    if isinstance(error, UnicodeDecodeError):
        return _("The request body is not UTF-8 text.")
    # NaN and Infinity, which JSON does not have.
    return _("The request body is not valid JSON.")
