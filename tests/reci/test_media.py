"""The demo (DEBUG) serves the pages' images as files, nothing else of MEDIA_ROOT."""

import importlib

import pytest
from django.urls import clear_url_caches

import reci.urls


@pytest.fixture
def debug_urls(settings):
    settings.DEBUG = True
    importlib.reload(reci.urls)
    clear_url_caches()
    yield
    settings.DEBUG = False
    importlib.reload(reci.urls)
    clear_url_caches()


def put(settings, name: str) -> str:
    path = settings.MEDIA_ROOT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"%PDF-1.4 private")
    return settings.MEDIA_URL + name


@pytest.mark.parametrize(
    "name",
    ["meetings/5f0c6a52/slides.pdf", "packages/granada/escuelas.zip", "runs/7/links.geojson"],
)
def test_attachments_packages_and_results_are_not_files_for_anyone(
    client, db, settings, debug_urls, name
):
    """Regression: /media/meetings/<uid>/slides.pdf answered anonymous readers in the demo."""
    assert client.get(put(settings, name)).status_code == 404


def test_the_pages_images_are_served(client, db, settings, debug_urls):
    response = client.get(put(settings, "original_images/plaza.png"))
    assert response.status_code == 200
