"""The API's JSON parser: DRF's, with a body nested too deeply for Python refused as a 400."""

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json.loads recurses per level: 5,000 "[" were a 500 (RecursionError).
            raise ParseError(_("The request body is nested too deeply.")) from None
