"""Refusals and missing pages say what happened, inside the site's layout."""

from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse


def test_a_refusal_gives_its_reason_in_the_site_layout(cast):
    client = Client(headers={"accept-language": "en"})
    client.force_login(cast.other)
    response = client.get(reverse("cities:city-edit", args=[cast.owner_city.slug]))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Not allowed" in page
    assert 'class="site"' in page  # the site's header and menu
    assert "<h1>403 Forbidden</h1>" not in page


def test_a_missing_page_is_in_the_site_layout_and_in_spanish_by_default(db):
    response = Client().get("/cities/no-such-city/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Página no encontrada" in page
    assert 'class="site"' in page


def test_the_server_error_page_renders_without_a_request():
    """Django renders 500.html with an empty context: nothing in it may need one."""
    page = render_to_string("500.html")
    assert "Server error" in page or "Error del servidor" in page
