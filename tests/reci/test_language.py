"""The interface is in Spanish by default and in English on request."""

import re
from pathlib import Path

from django.urls import reverse

from tests.conftest import ROOT

PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"


def test_every_project_string_has_a_spanish_translation():
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first is the header
    empty = [e for e in entries if re.search(r'^msgstr(\[\d\])? ""$', e, re.M) and "#~" not in e]
    assert not [e for e in empty if not re.search(r'^msgstr(\[\d\])? ""\n"', e, re.M)], empty
    assert Path(PO.with_suffix(".mo")).stat().st_mtime >= PO.stat().st_mtime - 1  # compiled


def test_pages_are_in_spanish_by_default(client, db):
    page = client.get(reverse("twins:package-list")).content.decode()
    assert "Paquetes de escenarios de gemelo digital" in page
    assert 'lang="es"' in page


def test_pages_switch_to_english(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("twins:package-list")).content.decode()
    assert "Digital-twin scenario packages" in page
    assert 'lang="en"' in page
