"""The city directory: the list with its filters and map, city profiles and their editing."""

import re
import xml.etree.ElementTree as ET
from datetime import date

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities import map as member_map
from cities.models import City, MembershipTier, SizeBand, Technician
from cities.municipalities import read_table
from cities.text import fold
from tests.factories import (
    CityFactory,
    TechnicianFactory,
    UserFactory,
    WorkingGroupFactory,
    join_group,
)
from twins.models import ScenarioPackage, Visibility

CAST = ["coordinator", "owner", "other", "anonymous"]
SVG = "{http://www.w3.org/2000/svg}"


def page_of(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def member_map_svg(body: str) -> ET.Element:
    match = re.search(r"<svg xmlns=.*?</svg>", body, re.S)
    assert match, "no map in the page"
    return ET.fromstring(match.group(0))


def city_names(response) -> list[str]:
    return [city.name for city in response.context["page"]]


# -- permission matrix -----------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_city_list_is_public(cast, who):
    body = page_of(cast.client(who).get(reverse("cities:city-list")))
    assert "Granada" in body and "Móstoles" in body


@pytest.mark.parametrize("who", CAST)
def test_city_profile_is_public(cast, who):
    url = reverse("cities:city-detail", args=[cast.owner_city.slug])
    assert "Granada" in page_of(cast.client(who).get(url))


def test_unknown_city_is_404(cast):
    assert cast.client("owner").get(reverse("cities:city-detail", args=["nope"])).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_city_admins_and_coordinators_open_the_edit_form(cast, who, status):
    response = cast.client(who).get(reverse("cities:city-edit", args=["granada"]))
    assert response.status_code == status
    if who == "anonymous":
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_city_admins_and_coordinators_save_the_profile(cast, who, status):
    url = reverse("cities:city-edit", args=["granada"])
    response = cast.client(who).post(url, {"website": "https://granada.es/", "tier": "full"})
    assert response.status_code == status
    cast.owner_city.refresh_from_db()
    assert (cast.owner_city.website == "https://granada.es/") is (who == "coordinator")


# -- editing ---------------------------------------------------------------------------------


@pytest.fixture
def city_admin(cast):
    return TechnicianFactory(city=cast.owner_city, role=Technician.Role.CITY_ADMIN).user


def test_city_admin_edits_own_city_but_not_its_tier(cast, city_admin):
    client = Client()
    client.force_login(city_admin)
    url = reverse("cities:city-edit", args=["granada"])
    assert "tier" not in client.get(url).context["form"].fields
    contact = Technician.objects.get(user=cast.owner)
    response = client.post(
        url,
        {
            "website": "https://granada.es/",
            "description": "Smart city",
            "contact": contact.pk,
            "tier": MembershipTier.ASSOCIATE,
        },
    )
    assert response.status_code == 302
    city = City.objects.get(pk=cast.owner_city.pk)
    assert (city.website, city.contact, city.tier) == (
        "https://granada.es/",
        contact,
        MembershipTier.FULL,
    )


def test_city_admin_cannot_edit_another_city(cast, city_admin):
    client = Client()
    client.force_login(city_admin)
    assert client.get(reverse("cities:city-edit", args=["mostoles"])).status_code == 403


def test_coordinator_changes_the_tier(cast):
    url = reverse("cities:city-edit", args=["granada"])
    response = cast.client("coordinator").post(url, {"tier": MembershipTier.ASSOCIATE})
    assert response.status_code == 302
    cast.owner_city.refresh_from_db()
    assert cast.owner_city.tier == MembershipTier.ASSOCIATE


@pytest.mark.parametrize("whose", ["other city", "unapproved"])
def test_contact_must_be_an_approved_technician_of_the_city(cast, whose):
    if whose == "other city":
        technician = Technician.objects.get(user=cast.other)
    else:
        technician = TechnicianFactory(city=cast.owner_city, approved=False)
    url = reverse("cities:city-edit", args=["granada"])
    response = cast.client("coordinator").post(
        url, {"website": "https://granada.es/", "contact": technician.pk, "tier": "full"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contact"]
    cast.owner_city.refresh_from_db()
    assert cast.owner_city.website == "" and cast.owner_city.contact is None


# -- the profile -----------------------------------------------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_technician_names_are_for_members_and_visitors_see_a_count(cast, who):
    TechnicianFactory(city=cast.owner_city, approved=False)  # a request: neither named nor counted
    name = Technician.objects.get(user=cast.owner).display_name
    response = cast.client(who).get(reverse("cities:city-detail", args=["granada"]))
    assert (name in page_of(response)) is (who != "anonymous")
    if who == "anonymous":
        assert response.context["technician_count"] == 1
    else:
        assert [t.user for t in response.context["technicians"]] == [cast.owner]


def test_profile_lists_groups_chaired_and_joined(cast):
    chaired = WorkingGroupFactory(name="Movilidad", chair_city=cast.owner_city)
    joined = WorkingGroupFactory(name="Energía", chair_city=cast.other_city)
    elsewhere = WorkingGroupFactory(name="Agua", chair_city=cast.other_city)
    join_group(joined, Technician.objects.get(user=cast.owner))
    body = page_of(cast.client("anonymous").get(reverse("cities:city-detail", args=["granada"])))
    assert f"/groups/{chaired.slug}/" in body and f"/groups/{joined.slug}/" in body
    assert elsewhere.name not in body


@pytest.mark.parametrize(
    ("who", "sees_private"),
    [("coordinator", True), ("owner", True), ("other", False), ("anonymous", False)],
)
def test_profile_lists_only_the_packages_the_user_may_see(cast, who, sees_private):
    ScenarioPackage.objects.create(owner_city=cast.owner_city, slug="open", title="Abierto")
    ScenarioPackage.objects.create(
        owner_city=cast.owner_city, slug="closed", title="Cerrado", visibility=Visibility.CITY
    )
    ScenarioPackage.objects.create(owner_city=cast.other_city, slug="theirs", title="Ajeno")
    body = page_of(cast.client(who).get(reverse("cities:city-detail", args=["granada"])))
    assert "Abierto" in body and "Ajeno" not in body
    assert ("Cerrado" in body) is sees_private


def test_profile_shows_the_data_attribution(cast):
    body = page_of(cast.client("anonymous").get(reverse("cities:city-detail", args=["granada"])))
    assert "INE" in body and "IGN/CNIG" in body


# -- the list --------------------------------------------------------------------------------


def test_search_ignores_accents(cast):
    client = cast.client("anonymous")
    assert city_names(client.get(reverse("cities:city-list"), {"q": "Mostoles"})) == ["Móstoles"]
    assert city_names(client.get(reverse("cities:city-list"), {"q": "MÓSTO"})) == ["Móstoles"]


@pytest.mark.parametrize(
    ("name", "folded"),
    [
        ("Móstoles", "mostoles"),
        ("Vitoria-Gasteiz", "vitoria gasteiz"),
        ("L'Hospitalet de Llobregat", "l hospitalet de llobregat"),
        ("Araba/Álava", "araba alava"),
        ("  A Coruña  (La) ", "a coruna la"),
    ],
)
def test_fold_strips_accents_and_turns_punctuation_into_single_spaces(name, folded):
    assert fold(name) == folded


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("vitoria gasteiz", ["Vitoria-Gasteiz"]),
        ("Vitoria-Gasteiz", ["Vitoria-Gasteiz"]),
        ("gasteiz vitoria", ["Vitoria-Gasteiz"]),
        ("castro urdiales", ["Castro-Urdiales"]),
        ("castro-urdiales", ["Castro-Urdiales"]),
        ("l hospitalet", ["L'Hospitalet de Llobregat"]),
        ("l'hospitalet", ["L'Hospitalet de Llobregat"]),
        ("Mostoles", ["Móstoles"]),
        ("MÓSTO", ["Móstoles"]),
        ("vitoria madrid", []),
    ],
)
def test_the_page_and_the_api_search_names_alike(cast, query, found):
    """Regression: ?q=vitoria gasteiz found nothing on the page, while the API found it."""
    for name in ("Vitoria-Gasteiz", "Castro-Urdiales", "L'Hospitalet de Llobregat"):
        CityFactory(name=name)
    client = cast.client("anonymous")
    assert city_names(client.get(reverse("cities:city-list"), {"q": query})) == found
    api = client.get("/api/v1/cities/", {"search": query}).json()["results"]
    assert [city["name"] for city in api] == found


def test_a_migration_refolds_the_stored_names(cast, municipalities):
    from importlib import import_module

    from django.apps import apps

    from cities.models import Municipality, WorkingGroup

    city = CityFactory(name="Castro-Urdiales")
    group = WorkingGroupFactory(name="Datos/Open Data")
    City.objects.filter(pk=city.pk).update(search_name="castro-urdiales")
    WorkingGroup.objects.filter(pk=group.pk).update(search_name="datos/open data")
    Municipality.objects.filter(pk="01059").update(search_name="vitoria-gasteiz")
    import_module("cities.migrations.0006_fold_punctuation").forwards(apps, None)
    assert City.objects.get(pk=city.pk).search_name == "castro urdiales"
    assert WorkingGroup.objects.get(pk=group.pk).search_name == "datos open data"
    assert Municipality.objects.get(pk="01059").search_name == "vitoria gasteiz"


def test_filters_by_region_province_size_and_tier(cast):
    CityFactory(name="Bilbao", region="País Vasco", province="Bizkaia", population=350_000)
    CityFactory(name="Getxo", region="País Vasco", province="Bizkaia", population=75_000)
    CityFactory(
        name="Laguardia",
        region="País Vasco",
        province="Araba/Álava",
        population=1_500,
        tier=MembershipTier.ASSOCIATE,
    )
    client = cast.client("anonymous")
    url = reverse("cities:city-list")
    assert city_names(client.get(url, {"region": "País Vasco"})) == ["Bilbao", "Getxo", "Laguardia"]
    assert city_names(client.get(url, {"province": "Bizkaia"})) == ["Bilbao", "Getxo"]
    assert city_names(client.get(url, {"size": SizeBand.LARGE})) == ["Bilbao"]
    assert city_names(client.get(url, {"tier": "associate"})) == ["Laguardia"]
    both = {"region": "País Vasco", "size": SizeBand.MEDIUM}
    assert city_names(client.get(url, both)) == ["Getxo"]


def test_region_and_province_filters_ignore_accents_and_case_as_the_api_does(cast):
    """Regression: the API's ?region=andalucia found nothing; the pages and the API agree."""
    CityFactory(name="Bilbao", region="País Vasco", province="Bizkaia")
    CityFactory(name="Vitoria-Gasteiz", region="País Vasco", province="Araba/Álava")
    client = cast.client("anonymous")
    url = reverse("cities:city-list")
    assert city_names(client.get(url, {"region": "pais vasco"})) == ["Bilbao", "Vitoria-Gasteiz"]
    assert city_names(client.get(url, {"province": "ALAVA"})) == ["Vitoria-Gasteiz"]
    response = client.get(url, {"region": "pais vasco"})
    assert response.context["form"].cleaned_data["region"] == "País Vasco"  # the select shows it


def test_a_bad_filter_value_is_named_and_ignored(cast):
    response = cast.client("anonymous").get(reverse("cities:city-list"), {"size": "huge"})
    assert "huge" in str(response.context["form"].errors["size"])
    assert city_names(response) == ["Granada", "Móstoles"]


def test_sorts_by_population_and_join_date(cast):
    City.objects.filter(pk=cast.owner_city.pk).update(
        population=230_000, joined_on=date(2012, 5, 1)
    )
    City.objects.filter(pk=cast.other_city.pk).update(
        population=210_000, joined_on=date(2019, 1, 1)
    )
    CityFactory(name="Ávila", population=None)
    client = cast.client("anonymous")
    url = reverse("cities:city-list")
    assert city_names(client.get(url)) == ["Ávila", "Granada", "Móstoles"]
    assert city_names(client.get(url, {"sort": "-name"})) == ["Móstoles", "Granada", "Ávila"]
    by_population = ["Granada", "Móstoles", "Ávila"]
    assert city_names(client.get(url, {"sort": "-population"})) == by_population
    assert city_names(client.get(url, {"sort": "population"})) == ["Móstoles", "Granada", "Ávila"]
    assert city_names(client.get(url, {"sort": "-joined_on"})) == ["Móstoles", "Granada", "Ávila"]


def test_column_header_reverses_the_current_order(cast):
    response = cast.client("anonymous").get(reverse("cities:city-list"), {"sort": "-population"})
    assert response.context["next_sort"] == {
        "name": "name",
        "population": "population",
        "joined_on": "-joined_on",
    }


def test_list_is_paginated_and_keeps_the_filters(cast):
    CityFactory.create_batch(30, region="Galicia", province="Lugo")
    client = cast.client("anonymous")
    response = client.get(reverse("cities:city-list"), {"region": "Galicia", "page": 2})
    assert len(city_names(response)) == 5
    assert "region=Galicia" in re.search(r'href="([^"]*)" rel="prev"', page_of(response)).group(1)


def test_contact_names_are_for_members_only(cast):
    technician = Technician.objects.get(user=cast.owner)
    City.objects.filter(pk=cast.owner_city.pk).update(contact=technician)
    url = reverse("cities:city-list")
    assert technician.display_name in page_of(cast.client("other").get(url))
    assert technician.display_name not in page_of(cast.client("anonymous").get(url))


def test_list_counts_members_per_region(cast):
    CityFactory(name="Bilbao", region="País Vasco", province="Bizkaia")
    response = cast.client("anonymous").get(reverse("cities:city-list"), {"q": "bilbao"})
    assert dict(response.context["region_counts"]) == {"Andalucía": 2, "País Vasco": 1}


def test_list_shows_the_data_attribution(cast):
    body = page_of(cast.client("anonymous").get(reverse("cities:city-list")))
    footer = body[body.index('<footer class="site">') :]
    assert "INE" in footer and "IGN/CNIG" in footer and "CC BY 4.0" in footer


# -- the map ---------------------------------------------------------------------------------


def place(name: str):
    return next(p for p in read_table() if p.name == name)


def located_city(name: str, **fields) -> City:
    town = place(name)
    return CityFactory(
        name=name, latitude=town.lat, longitude=town.lon, population=town.population, **fields
    )


@pytest.mark.parametrize("language", ["es", "en"])
def test_map_is_valid_svg_with_one_linked_circle_per_located_city(cast, language):
    cities = [located_city(n) for n in ("Bilbao", "Santa Cruz de Tenerife", "Palma", "Melilla")]
    client = cast.client("anonymous")
    client.cookies["django_language"] = language
    svg = member_map_svg(page_of(client.get(reverse("cities:city-list"))))
    circles = svg.findall(f"{SVG}a/{SVG}circle")
    # The cast's cities have no coordinates: they are not drawn.
    assert len(circles) == len(cities)
    titles = {c.find(f"{SVG}title").text for c in circles}
    assert titles == {f"{city.name} (Granada)" for city in cities}
    links = {a.get("href") for a in svg.findall(f"{SVG}a")}
    assert links == {reverse("cities:city-detail", args=[c.slug]) for c in cities}
    for circle in circles:
        assert 0 <= float(circle.get("cx")) <= float(svg.get("viewBox").split()[2])


def test_map_follows_the_filters(cast):
    located_city("Bilbao", region="País Vasco")
    located_city("Palma", region="Illes Balears")
    response = cast.client("anonymous").get(reverse("cities:city-list"), {"q": "palma"})
    assert [m.label for m in response.context["map"].markers] == ["Palma (Granada)"]


def test_circle_grows_with_the_size_band(cast):
    located_city("Madrid")
    located_city("Bujalance")
    response = cast.client("anonymous").get(reverse("cities:city-list"))
    radius = {m.label.split(" (")[0]: m.r for m in response.context["map"].markers}
    assert radius["Madrid"] > radius["Bujalance"]


def test_canary_islands_are_drawn_in_the_inset_box():
    inset = member_map.draw([]).inset
    x, y = member_map.project(
        place("Santa Cruz de Tenerife").lat, place("Santa Cruz de Tenerife").lon
    )
    assert inset.x < x < inset.x + inset.width and inset.y < y < inset.y + inset.height


def test_no_mainland_municipality_lies_under_the_inset_box():
    inset = member_map.draw([]).inset
    covered = []
    for town in read_table():
        if member_map.CANARIES.contains(town.lat, town.lon):
            continue
        x, y = member_map.project(town.lat, town.lon)
        if inset.x <= x <= inset.x + inset.width and inset.y <= y <= inset.y + inset.height:
            covered.append(town.name)
    assert covered == []


def test_every_municipality_of_the_reference_table_is_on_the_map():
    assert all(member_map.project(town.lat, town.lon) for town in read_table())


# -- queries ---------------------------------------------------------------------------------


def cities_with_contacts(count: int) -> None:
    for _ in range(count):
        technician = TechnicianFactory(user=UserFactory())
        City.objects.filter(pk=technician.city_id).update(
            contact=technician, latitude=40.4, longitude=-3.7
        )


def list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        page_of(client.get(reverse("cities:city-list")))
    return len(queries)


@pytest.mark.parametrize("who", ["owner", "anonymous"])
def test_list_query_count_does_not_grow_with_the_cities(cast, who):
    client = cast.client(who)
    cities_with_contacts(5)
    few = list_queries(client)
    cities_with_contacts(10)
    assert City.objects.count() == 17
    assert list_queries(client) == few


def test_cities_are_in_alphabetical_order_whatever_their_accents(cast):
    """Regression: Ávila and Málaga came after Mieres and Zaragoza (byte order of accents)."""
    for name in ["Zaragoza", "Ávila", "Mieres", "Málaga", "Badajoz"]:
        CityFactory(name=name)
    names = [city.name for city in City.objects.all()]
    assert names == sorted(names, key=fold)
    assert names.index("Ávila") < names.index("Badajoz")
    assert names.index("Málaga") < names.index("Mieres")
    page = Client(headers={"accept-language": "en"}).get(reverse("cities:city-list"))
    listed = [city.name for city in page.context["page"]]
    assert listed.index("Ávila") < listed.index("Badajoz") < listed.index("Granada")
