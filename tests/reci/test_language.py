"""The interface is in Spanish by default and in English on request."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import allauth
import rest_framework
from django.urls import reverse
from django.utils import translation

from tests.conftest import ROOT

PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"
ALLAUTH_PO = ROOT / "locale" / "allauth" / "es" / "LC_MESSAGES" / "django.po"
ALLAUTH_MO = Path(allauth.__file__).parent / "locale" / "es" / "LC_MESSAGES" / "django.mo"
# Words that address the reader as tú: the portal says usted everywhere.
INFORMAL = re.compile(
    r"\b(tu|tus|tú|te|ti|has|puedes|estás|ten|vete|ves|quieres|deseas|tienes|decides|inicies|"
    r"introduce|introdúcelo|guárdalos|descarga|confía|confíes|selecciona|utiliza|regístrate|"
    r"comprueba|envíame)\b",
    re.IGNORECASE,
)


def test_every_project_string_has_a_spanish_translation():
    text = PO.read_text(encoding="utf-8")
    entries = text.split("\n\n")[1:]  # the first is the header
    empty = [e for e in entries if re.search(r'^msgstr(\[\d\])? ""$', e, re.M) and "#~" not in e]
    assert not [e for e in empty if not re.search(r'^msgstr(\[\d\])? ""\n"', e, re.M)], empty
    # A fuzzy entry is a guess that compilemessages leaves out: the page would show English.
    fuzzy = [e for e in entries if re.search(r"^#, .*fuzzy", e, re.M) and "#~" not in e]
    assert not fuzzy, fuzzy[:5]
    assert Path(PO.with_suffix(".mo")).stat().st_mtime >= PO.stat().st_mtime - 1  # compiled


def test_allauth_pages_and_mails_address_the_reader_as_usted():
    """Every string of allauth's Spanish catalogue, as the portal shows it, is formal.

    Fails on an allauth upgrade that brings new tú strings: add them to ALLAUTH_PO.
    """
    assert Path(ALLAUTH_PO.with_suffix(".mo")).stat().st_mtime >= ALLAUTH_PO.stat().st_mtime - 1
    with ALLAUTH_MO.open("rb") as mo:
        catalogue = gettext.GNUTranslations(mo)._catalog
    informal = []
    with translation.override("es"):
        for key in catalogue:
            if key == "":
                continue  # the header
            if isinstance(key, tuple):  # (singular, plural form): every form of a plural
                shown = [translation.ngettext(key[0], key[0], n) for n in (1, 2)]
            elif "\x04" in key:
                shown = [translation.pgettext(*key.split("\x04", 1))]
            else:
                shown = [translation.gettext(key)]
            informal += [text for text in shown if INFORMAL.search(text)]
    assert not informal, sorted(set(informal))


def test_every_message_of_drf_has_spanish():
    """DRF's own catalogue leaves a few in English; locale/drf fills them in."""
    source = Path(rest_framework.__file__).parent
    msgids = {
        match.group(2)
        for path in source.rglob("*.py")
        for match in re.finditer(r"""\b_\(\s*(['"])(.+?)\1\s*\)""", path.read_text())
        if not match.group(2).startswith("_")  # not a message: _("_request") in a lookup
    }
    assert len(msgids) > 100  # the scan still finds DRF's messages
    with translation.override("es"):
        english = sorted(m for m in msgids - {"Token", "Tokens"} if translation.gettext(m) == m)
    assert not english, english


def test_pages_are_in_spanish_by_default(client, db):
    page = client.get(reverse("twins:package-list")).content.decode()
    assert "Paquetes de escenarios de gemelo digital" in page
    assert 'lang="es"' in page


def test_pages_switch_to_english(client, db):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("twins:package-list")).content.decode()
    assert "Digital-twin scenario packages" in page
    assert 'lang="en"' in page


def _msgids(po: Path) -> set[str]:
    text = po.read_text(encoding="utf-8")
    ids = set()
    for entry in text.split("\n\n")[1:]:
        if "#~" in entry:
            continue
        match = re.search(r'^msgid ((?:".*"\n?)+)', entry, re.M)
        if match:
            ids.add("".join(re.findall(r'"(.*)"', match.group(1))))
    return ids


def test_locale_file_holds_every_string_of_the_source(tmp_path):
    """makemessages on a copy of the source finds no string missing from the committed file."""
    ignore = shutil.ignore_patterns("__pycache__", "*.osm*", "*.pbf", "*.zip", "*.csv")
    for name in ("reci", "cities", "twins", "locale"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    env = {**os.environ, "RECI_VAR_DIR": str(tmp_path / "var"), "PYTHONPATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "es", "--no-location"],
        cwd=tmp_path,
        env=env,
        check=True,
        capture_output=True,
    )
    extracted = _msgids(tmp_path / "locale" / "es" / "LC_MESSAGES" / "django.po")
    missing = sorted(extracted - _msgids(PO))
    assert not missing, f"run `make messages`: strings not in {PO.name}: {missing[:20]}"
