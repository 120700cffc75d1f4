"""The network's API (/api/v1/): permissions for the whole cast, filters, search, tokens."""

import re
from datetime import date, timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cities.models import (
    RSVP,
    ExpertiseArea,
    GroupMembership,
    Meeting,
    Technician,
    TechnicianArea,
    WorkingGroup,
)
from tests.factories import (
    AgendaItemFactory,
    CityFactory,
    MeetingFactory,
    TechnicianFactory,
    WorkingGroupFactory,
    join_group,
)

CAST = ["coordinator", "owner", "other", "anonymous"]


def matrix(**statuses):
    """Parametrize over the four members of the cast with the expected status of each."""
    return pytest.mark.parametrize(("who", "status"), [(who, statuses[who]) for who in CAST])


@pytest.fixture
def group(cast):
    return WorkingGroupFactory(
        name="Movilidad sostenible", slug="movilidad", chair_city=cast.owner_city
    )


@pytest.fixture
def meeting(group):
    meeting = MeetingFactory(group=group, title="Plan de trabajo 2027")
    AgendaItemFactory(meeting=meeting, title="Bienvenida", position=1)
    AgendaItemFactory(meeting=meeting, title="Calendario", position=2)
    return meeting


def technician_of(user) -> Technician:
    return Technician.objects.get(user=user)


def meeting_body(group, /, **changes) -> dict:
    starts = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    body = {
        "kind": "group",
        "group": group.slug,
        "title": "Seguimiento de proyectos",
        "mode": "online",
        "online_url": "https://meet.example.org/seguimiento",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "status": "scheduled",
    }
    body.update(changes)
    return body


# --- cities -------------------------------------------------------------------


@matrix(coordinator=200, owner=200, other=200, anonymous=200)
def test_cities_are_public_to_read(cast, who, status):
    client = cast.api_client(who)
    assert client.get("/api/v1/cities/").status_code == status
    assert client.get(f"/api/v1/cities/{cast.owner_city.slug}/").status_code == status


@matrix(coordinator=200, owner=403, other=403, anonymous=401)
def test_only_coordinators_and_city_admins_patch_a_city(cast, who, status):
    response = cast.api_client(who).patch(
        f"/api/v1/cities/{cast.owner_city.slug}/", {"website": "https://granada.es"}, format="json"
    )
    assert response.status_code == status, response.content
    cast.owner_city.refresh_from_db()
    assert (cast.owner_city.website == "https://granada.es") is (status == 200)


def test_city_admin_patches_own_city_but_not_its_tier(cast):
    Technician.objects.filter(user=cast.owner).update(role=Technician.Role.CITY_ADMIN)
    client = cast.api_client("owner")
    url = f"/api/v1/cities/{cast.owner_city.slug}/"
    assert client.patch(url, {"description": "Ciudad nazarí."}, format="json").status_code == 200
    assert client.patch(url, {"tier": "associate"}, format="json").status_code == 403
    other_url = f"/api/v1/cities/{cast.other_city.slug}/"
    assert client.patch(other_url, {"website": "https://x.es"}, format="json").status_code == 403
    cast.owner_city.refresh_from_db()
    assert cast.owner_city.description == "Ciudad nazarí."
    assert cast.owner_city.tier == "full"


def test_a_city_admin_may_send_back_the_unchanged_tier(cast):
    """Regression: a client saving what it read (tier included) got 403 from a city admin."""
    Technician.objects.filter(user=cast.owner).update(role=Technician.Role.CITY_ADMIN)
    client = cast.api_client("owner")
    url = f"/api/v1/cities/{cast.owner_city.slug}/"
    read = client.get(url).json()
    body = {**read, "description": "Ciudad nazarí."}
    response = client.patch(url, body, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["tier"], response.json()["description"]) == ("full", "Ciudad nazarí.")
    changed = client.patch(url, {**body, "tier": "associate"}, format="json")
    assert changed.status_code == 403
    assert "Only the network coordinators change" in changed.json()["detail"]
    cast.owner_city.refresh_from_db()
    assert cast.owner_city.tier == "full"


@pytest.mark.parametrize("body", ["5", "null", '"tier"', '["tier"]'])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("patch", "/api/v1/cities/granada/"),
        ("post", "/api/v1/working-groups/"),
        ("post", "/api/v1/meetings/"),
    ],
)
def test_a_body_that_is_no_json_object_is_a_400_naming_the_problem(cast, method, path, body):
    """A number made the city's PATCH a 500; the string "tier" made it a misleading 403."""
    Technician.objects.filter(user=cast.owner).update(role=Technician.Role.CITY_ADMIN)
    client = cast.api_client("coordinator" if method == "post" else "owner")
    response = getattr(client, method)(path, body, content_type="application/json")
    assert response.status_code == 400, response.content
    assert "must be a JSON object" in response.json()["non_field_errors"][0]


def test_coordinator_changes_the_tier(cast):
    url = f"/api/v1/cities/{cast.owner_city.slug}/"
    response = cast.api_client("coordinator").patch(url, {"tier": "associate"}, format="json")
    assert response.status_code == 200
    assert response.json()["tier"] == "associate"


def test_city_contact_must_be_a_technician_of_that_city(cast):
    url = f"/api/v1/cities/{cast.owner_city.slug}/"
    client = cast.api_client("coordinator")
    stranger = technician_of(cast.other)
    response = client.patch(url, {"contact": stranger.pk}, format="json")
    assert response.status_code == 400
    assert "contact" in response.json()
    own = technician_of(cast.owner)
    assert client.patch(url, {"contact": own.pk}, format="json").status_code == 200


def test_a_city_cannot_be_replaced_or_deleted_through_the_api(cast):
    client = cast.api_client("coordinator")
    url = f"/api/v1/cities/{cast.owner_city.slug}/"
    assert client.put(url, {"website": "https://granada.es"}, format="json").status_code == 405
    assert client.delete(url).status_code == 405
    assert client.post("/api/v1/cities/", {"name": "Nueva"}, format="json").status_code == 405


@pytest.mark.parametrize("term", ["Mostoles", "MÓSTOLES", "móstoles", "ostol"])
def test_city_search_ignores_accents_and_case(cast, term):
    response = APIClient().get("/api/v1/cities/", {"search": term})
    assert [c["slug"] for c in response.json()["results"]] == ["mostoles"]


def test_cities_filter_by_region_province_size_band_and_tier(cast):
    CityFactory(name="Bilbao", slug="bilbao", region="País Vasco", province="Bizkaia")
    CityFactory(name="Alpedrete", slug="alpedrete", population=15_000, tier="associate")
    client = APIClient()

    def slugs(**params):
        return {c["slug"] for c in client.get("/api/v1/cities/", params).json()["results"]}

    assert slugs(region="país vasco") == {"bilbao"}
    assert slugs(province="BIZKAIA") == {"bilbao"}
    assert slugs(size_band="town") == {"alpedrete"}
    assert slugs(tier="associate") == {"alpedrete"}
    assert client.get("/api/v1/cities/", {"size_band": "huge"}).status_code == 400


@pytest.mark.parametrize(
    ("params", "slugs"),
    [
        ({"region": "Andalucia"}, {"granada", "mostoles", "malaga"}),  # the cast's: Andalucía
        ({"region": "ANDALUCÍA"}, {"granada", "mostoles", "malaga"}),
        ({"province": "malaga"}, {"malaga"}),
        ({"province": "alicante"}, {"elche"}),  # either part of "Alacant/Alicante"
        ({"region": "comunitat valenciana", "province": "Alacant/Alicante"}, {"elche"}),
        ({"region": "Aragon"}, set()),  # a real community with no member city yet
    ],
)
def test_cities_filter_by_region_and_province_ignoring_accents_and_case(cast, params, slugs):
    """Regression: ?region=Andalucia and ?province=malaga found nothing (exact accents only)."""
    CityFactory(name="Málaga", slug="malaga", region="Andalucía", province="Málaga")
    CityFactory(
        name="Elche", slug="elche", region="Comunitat Valenciana", province="Alacant/Alicante"
    )
    response = APIClient().get("/api/v1/cities/", params)
    assert response.status_code == 200, response.content
    assert {c["slug"] for c in response.json()["results"]} == slugs


def test_an_unknown_region_is_a_400_that_lists_the_communities(cast):
    """Regression: ?region=nope was a 200 with no results, which reads as an answer."""
    response = cast.api_client("anonymous").get("/api/v1/cities/", {"region": "nope"})
    assert response.status_code == 400
    [message] = response.json()["region"]
    assert message.startswith("“nope” is not a value of ?region=. Use one of: Andalucía, Aragón,")
    assert "Comunidad de Madrid" in message and "País Vasco" in message


def test_an_unknown_province_is_a_400_that_names_the_parameter(cast):
    response = cast.api_client("anonymous").get("/api/v1/cities/", {"province": "Narnia"})
    assert response.status_code == 400
    [message] = response.json()["province"]
    assert message.startswith("“Narnia” is not a value of ?province= (the names of the table")
    assert "Zaragoza" not in message  # 52 provinces: too many to list


def test_city_list_is_paginated(cast):
    CityFactory.create_batch(28)
    client = APIClient()
    first = client.get("/api/v1/cities/").json()
    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 30
    assert len(first["results"]) == 25
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 5
    assert second["next"] is None


# --- technicians ----------------------------------------------------------------


@matrix(coordinator=200, owner=200, other=200, anonymous=401)
def test_technicians_are_for_members_only(cast, who, status):
    client = cast.api_client(who)
    technician = technician_of(cast.owner)
    assert client.get("/api/v1/technicians/").status_code == status
    assert client.get(f"/api/v1/technicians/{technician.pk}/").status_code == status


def test_an_unapproved_technician_cannot_read_the_directory(cast, unapproved_technician):
    client = APIClient()
    client.force_login(unapproved_technician)
    assert client.get("/api/v1/technicians/").status_code == 403


def test_technician_list_shows_approved_profiles_without_email(cast, unapproved_technician):
    response = cast.api_client("other").get("/api/v1/technicians/")
    body = response.json()
    assert {t["id"] for t in body["results"]} == {
        technician_of(cast.owner).pk,
        technician_of(cast.other).pk,
    }
    assert set(body["results"][0]) == {
        "id",
        "name",
        "city",
        "position",
        "areas",
        "languages",
        "groups",
    }
    assert "@" not in response.content.decode()


@matrix(coordinator=403, owner=200, other=403, anonymous=401)
def test_only_the_technician_patches_their_profile(cast, who, status):
    technician = technician_of(cast.owner)
    response = cast.api_client(who).patch(
        f"/api/v1/technicians/{technician.pk}/",
        {"position": "Jefa de movilidad", "areas": ["mobility", "data"], "languages": ["en"]},
        format="json",
    )
    assert response.status_code == status, response.content
    technician.refresh_from_db()
    assert (technician.position == "Jefa de movilidad") is (status == 200)
    if status == 200:
        assert sorted(response.json()["areas"]) == ["data", "mobility"]
        assert technician.language_codes() == ["en"]
        assert "jefa de movilidad" in technician.search_text


def test_profile_patch_names_a_wrong_language_and_saves_nothing(cast):
    technician = technician_of(cast.owner)
    response = cast.api_client("owner").patch(
        f"/api/v1/technicians/{technician.pk}/",
        {"position": "Técnica", "languages": ["es", "klingon"]},
        format="json",
    )
    assert response.status_code == 400
    assert "languages" in response.json()
    technician.refresh_from_db()
    assert technician.position == ""


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"languages": []}, "languages"),
        ({"languages": None}, "languages"),
        ({"position": ""}, "position"),
        ({"position": "x" * 201}, "position"),
        ({"areas": ["knitting"]}, "areas"),
    ],
)
def test_profile_patch_is_validated_as_the_profile_form_is(cast, changes, field):
    """Regression: {"languages": []} was accepted, although the form requires a language."""
    technician = technician_of(cast.owner)
    technician.position, technician.languages = "Técnica de datos", "es,en"
    technician.save()
    response = cast.api_client("owner").patch(
        f"/api/v1/technicians/{technician.pk}/", {"areas": ["data"], **changes}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()) == {field}
    technician.refresh_from_db()
    assert (technician.position, technician.languages) == ("Técnica de datos", "es,en")
    assert not technician.areas.exists()


def test_an_empty_language_list_is_refused_with_the_forms_message(cast):
    technician = technician_of(cast.owner)
    response = cast.api_client("owner").patch(
        f"/api/v1/technicians/{technician.pk}/", {"languages": []}, format="json"
    )
    assert response.json() == {"languages": ["Choose at least one language you work in."]}


def test_technicians_filter_by_city_area_language_and_group(cast, group):
    owner, other = technician_of(cast.owner), technician_of(cast.other)
    TechnicianArea.objects.create(technician=owner, area=ExpertiseArea.ENERGY)
    other.languages = "es,eu"
    other.save()
    join_group(group, other)
    client = cast.api_client("coordinator")

    def ids(**params):
        return {t["id"] for t in client.get("/api/v1/technicians/", params).json()["results"]}

    assert ids(city="granada") == {owner.pk}
    assert ids(area="energy") == {owner.pk}
    assert ids(language="eu") == {other.pk}
    assert ids(language="es") == {owner.pk, other.pk}
    assert ids(group="movilidad") == {other.pk}
    assert client.get("/api/v1/technicians/", {"language": "xx"}).status_code == 400


def test_technician_search_ignores_accents(cast):
    technician = technician_of(cast.owner)
    technician.position = "Técnico de Innovación"
    technician.save()
    client = cast.api_client("other")
    found = client.get("/api/v1/technicians/", {"search": "innovacion"}).json()["results"]
    assert [t["id"] for t in found] == [technician.pk]


def test_technician_search_does_not_match_email_addresses(cast):
    """Privacy: the API never shows addresses, so ?search= must not reveal who has one."""
    cast.owner.email = "zubizarreta.lopez@ayto.example.org"
    cast.owner.save()
    technician_of(cast.owner).save()
    client = cast.api_client("other")
    for term in ["zubizarreta", "ayto.example.org", "zubizarreta.lopez@ayto.example.org"]:
        assert client.get("/api/v1/technicians/", {"search": term}).json()["results"] == []


# --- working groups ---------------------------------------------------------------


@matrix(coordinator=200, owner=200, other=200, anonymous=200)
def test_working_groups_are_public_to_read(cast, group, who, status):
    client = cast.api_client(who)
    assert client.get("/api/v1/working-groups/").status_code == status
    assert client.get(f"/api/v1/working-groups/{group.slug}/").status_code == status


@matrix(coordinator=201, owner=403, other=403, anonymous=401)
def test_only_coordinators_create_working_groups(cast, who, status):
    body = {
        "name": "Energía y clima",
        "slug": "energia",
        "area": "energy",
        "remit": "Comunidades energéticas.",
        "chair_city": "mostoles",
    }
    response = cast.api_client(who).post("/api/v1/working-groups/", body, format="json")
    assert response.status_code == status, response.content
    assert WorkingGroup.objects.filter(slug="energia").exists() is (status == 201)
    if status == 201:
        assert response.json()["member_count"] == 0


@matrix(coordinator=200, owner=403, other=403, anonymous=401)
def test_only_coordinators_update_working_groups(cast, group, who, status):
    response = cast.api_client(who).patch(
        f"/api/v1/working-groups/{group.slug}/", {"active": False}, format="json"
    )
    assert response.status_code == status, response.content
    group.refresh_from_db()
    assert group.is_active is (status != 200)


def test_working_group_create_names_a_wrong_field(cast):
    body = {"name": "X", "slug": "x", "area": "space", "remit": "", "chair_city": "atlantis"}
    response = cast.api_client("coordinator").post("/api/v1/working-groups/", body, format="json")
    assert response.status_code == 400
    assert {"area", "remit", "chair_city"} <= set(response.json())
    assert not WorkingGroup.objects.filter(slug="x").exists()


GROUP_BODY = {"name": "Energía y clima", "area": "energy", "remit": "R.", "chair_city": "mostoles"}


def test_a_new_group_without_a_slug_gets_one_from_its_name(cast, group):
    client = cast.api_client("coordinator")
    first = client.post("/api/v1/working-groups/", GROUP_BODY, format="json")
    second = client.post("/api/v1/working-groups/", GROUP_BODY, format="json")
    assert (first.status_code, second.status_code) == (201, 201), second.content
    assert (first.json()["slug"], second.json()["slug"]) == ("energia-y-clima", "energia-y-clima-2")


def test_a_slug_taken_between_check_and_save_moves_on_to_the_next(cast, group):
    """Six parallel creations of one name: the ones whose made-up slug another had just
    taken were 500s (IntegrityError)."""
    taken = WorkingGroup.objects.create(
        name="Energía y clima",
        slug="energia-y-clima",
        area="energy",
        remit="R.",
        chair_city=cast.owner_city,
    )
    client = cast.api_client("coordinator")
    free_then = mock.patch.object(
        WorkingGroup, "unique_slug", side_effect=[taken.slug, "energia-y-clima-2"]
    )
    with free_then:  # the validation saw the slug free; the insert finds it taken
        response = client.post("/api/v1/working-groups/", GROUP_BODY, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "energia-y-clima-2"


def test_a_chosen_slug_taken_in_the_meantime_is_a_400(cast):
    WorkingGroup.objects.create(
        name="Otro", slug="energia", area="energy", remit="R.", chair_city=cast.owner_city
    )
    body = {**GROUP_BODY, "slug": "energia"}
    with mock.patch("rest_framework.validators.UniqueValidator.__call__"):  # as if checked first
        response = cast.api_client("coordinator").post(
            "/api/v1/working-groups/", body, format="json"
        )
    assert response.status_code == 400
    assert response.json() == {"slug": ["A working group with this address already exists."]}


def test_a_group_cannot_take_the_address_of_the_new_group_page(cast):
    """POST {"slug": "new"} made a group whose page /groups/new/ showed the creation form."""
    body = {**GROUP_BODY, "slug": "new"}
    response = cast.api_client("coordinator").post("/api/v1/working-groups/", body, format="json")
    assert response.status_code == 400
    assert "page of the site" in response.json()["slug"][0]
    assert not WorkingGroup.objects.filter(slug="new").exists()


@pytest.mark.parametrize(
    ("slug", "error"),
    [
        ("NEW", "page of the site"),
        ("New", "page of the site"),
        ("Energia-Clima", "in lower case: “energia-clima”, not “Energia-Clima”"),
    ],
)
def test_a_group_address_is_lower_case(cast, slug, error):
    """Regression: "NEW" was accepted and the group lived at /groups/NEW/."""
    body = {**GROUP_BODY, "slug": slug}
    response = cast.api_client("coordinator").post("/api/v1/working-groups/", body, format="json")
    assert response.status_code == 400, response.content
    assert error in response.json()["slug"][0]
    assert not WorkingGroup.objects.exists()


def test_a_group_made_with_an_upper_case_address_before_the_rule_can_still_be_edited(cast):
    """Its calendar links use the old address, so it keeps it; other changes still save."""
    legacy = WorkingGroupFactory(slug="Movilidad", chair_city=cast.owner_city)
    url = f"/api/v1/working-groups/{legacy.slug}/"
    response = cast.api_client("coordinator").patch(url, {"active": False}, format="json")
    assert response.status_code == 200, response.content
    legacy.refresh_from_db()
    assert (legacy.slug, legacy.is_active) == ("Movilidad", False)


def test_a_group_keeps_its_slug(cast, group):
    """A renamed slug silently broke every member's group calendar link."""
    url = f"/api/v1/working-groups/{group.slug}/"
    client = cast.api_client("coordinator")
    response = client.patch(url, {"slug": "otra", "name": "Otro nombre"}, format="json")
    assert response.status_code == 400
    assert "does not change" in response.json()["slug"][0]
    group.refresh_from_db()
    assert group.name != "Otro nombre"
    assert client.patch(url, {"slug": group.slug}, format="json").status_code == 200


@matrix(coordinator=403, owner=200, other=200, anonymous=401)
def test_approved_technicians_join_and_leave_working_groups(cast, group, who, status):
    client = cast.api_client(who)
    joined = client.post(f"/api/v1/working-groups/{group.slug}/join/")
    assert joined.status_code == status, joined.content
    assert GroupMembership.objects.filter(group=group).exists() is (status == 200)
    if status == 200:
        assert joined.json()["joined"] is True
        assert joined.json()["member_count"] == 1
    left = client.post(f"/api/v1/working-groups/{group.slug}/leave/")
    assert left.status_code == status
    assert not GroupMembership.objects.filter(group=group).exists()
    if status == 200:
        assert left.json()["joined"] is False


def test_nobody_joins_an_inactive_group(cast, group):
    group.is_active = False
    group.save()
    response = cast.api_client("owner").post(f"/api/v1/working-groups/{group.slug}/join/")
    assert response.status_code == 403
    assert not GroupMembership.objects.exists()


def test_an_unapproved_technician_cannot_join(cast, group, unapproved_technician):
    client = APIClient()
    client.force_login(unapproved_technician)
    assert client.post(f"/api/v1/working-groups/{group.slug}/join/").status_code == 403


def test_working_groups_filter_by_area_and_active_and_search_without_accents(cast, group):
    WorkingGroupFactory(name="Energía", slug="energia", area="energy", is_active=False)
    client = APIClient()

    def slugs(**params):
        results = client.get("/api/v1/working-groups/", params).json()["results"]
        return {g["slug"] for g in results}

    assert slugs(area="energy") == {"energia"}
    assert slugs(active="true") == {"movilidad"}
    assert slugs(active="false") == {"energia"}
    assert slugs(search="ENERGIA") == {"energia"}


# --- meetings ----------------------------------------------------------------------


@matrix(coordinator=200, owner=200, other=200, anonymous=401)
def test_meetings_are_for_members_only(cast, meeting, who, status):
    client = cast.api_client(who)
    assert client.get("/api/v1/meetings/").status_code == status
    assert client.get(f"/api/v1/meetings/{meeting.pk}/").status_code == status


def test_a_meeting_shows_its_agenda_in_order(cast, meeting):
    body = cast.api_client("owner").get(f"/api/v1/meetings/{meeting.pk}/").json()
    assert [item["title"] for item in body["agenda"]] == ["Bienvenida", "Calendario"]
    assert body["group"] == "movilidad"
    assert body["my_response"] is None


def test_an_unknown_meeting_is_not_found(cast):
    assert cast.api_client("owner").get("/api/v1/meetings/999999/").status_code == 404


@matrix(coordinator=201, owner=403, other=403, anonymous=401)
def test_only_coordinators_create_meetings(cast, group, who, status):
    response = cast.api_client(who).post("/api/v1/meetings/", meeting_body(group), format="json")
    assert response.status_code == status, response.content
    assert Meeting.objects.exists() is (status == 201)
    if status == 201:
        assert Meeting.objects.get().created_by == cast.coordinator


@matrix(coordinator=200, owner=403, other=403, anonymous=401)
def test_only_coordinators_update_meetings(cast, meeting, who, status):
    response = cast.api_client(who).patch(
        f"/api/v1/meetings/{meeting.pk}/", {"title": "Plan revisado"}, format="json"
    )
    assert response.status_code == status, response.content
    meeting.refresh_from_db()
    assert (meeting.title == "Plan revisado") is (status == 200)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"group": None}, "group"),
        ({"kind": "assembly"}, "group"),
        ({"mode": "in_person", "location": ""}, "location"),
        ({"online_url": ""}, "online_url"),
        ({"ends_at": (timezone.now() - timedelta(days=1)).isoformat()}, "ends_at"),
        ({"status": "cancelled"}, "cancellation_reason"),
        ({"group": "no-such-group"}, "group"),
    ],
)
def test_meeting_create_names_the_wrong_field(cast, group, changes, field):
    response = cast.api_client("coordinator").post(
        "/api/v1/meetings/", meeting_body(group, **changes), format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Meeting.objects.exists()


def test_a_meeting_in_the_year_1_is_refused_with_the_reason(cast, group):
    """Regression: the page took 0001-01-01 (its file had a -00:14:44 offset); the API and the
    proposed dates refuse it too, each saying why."""
    client = cast.api_client("coordinator")
    year_1 = {"starts_at": "0001-01-01T10:00:00+01:00", "ends_at": "0001-01-01T12:00:00+01:00"}
    response = client.post("/api/v1/meetings/", meeting_body(group, **year_1), format="json")
    assert response.status_code == 400
    assert response.json() == {"starts_at": ["A meeting cannot start before the year 2000."]}
    poll = meeting_body(group, status="scheduling", slots=[year_1, slot_body(5)])
    del poll["starts_at"], poll["ends_at"]
    response = client.post("/api/v1/meetings/", poll, format="json")
    assert response.status_code == 400
    assert "slots" in response.json()
    assert not Meeting.objects.exists()


def clock_change(month: int, hour: int = 2, minute: int = 30) -> str:
    """Next year's night Madrid's clocks change (the last Sunday of March or October), at a
    time without an offset: 02:30 does not exist in March and happens twice in October."""
    year = timezone.now().year + 1
    day = date(year, month, 31)
    day -= timedelta(days=(day.weekday() + 1) % 7)
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def not_madrid_time(moment: str) -> str:
    return (
        f"{moment.replace('T', ' ')}:00 couldn’t be interpreted in time zone Europe/Madrid; "
        "it may be ambiguous or it may not exist."
    )


@pytest.mark.parametrize(
    ("starts_at", "ends_at", "field"),
    [
        (clock_change(3), clock_change(3, hour=3), "starts_at"),  # does not exist
        (clock_change(3, hour=1), clock_change(3), "ends_at"),  # does not exist
        (clock_change(10), clock_change(10, hour=4), "starts_at"),  # happens twice
    ],
)
def test_a_madrid_time_that_does_not_exist_or_is_ambiguous_is_refused_as_on_the_page(
    cast, group, starts_at, ends_at, field
):
    """Regression: 02:30-03:30 on the spring-forward night was a 400 quoting the database
    constraint ("No se cumple la restricción...") and an October 02:30 was taken as either."""
    response = cast.api_client("coordinator").post(
        "/api/v1/meetings/",
        meeting_body(group, starts_at=starts_at, ends_at=ends_at),
        format="json",
    )
    assert response.status_code == 400
    given = starts_at if field == "starts_at" else ends_at
    assert response.json() == {field: [not_madrid_time(given)]}
    assert not Meeting.objects.exists()


def test_a_proposed_date_that_madrid_does_not_have_is_refused(cast, group):
    poll = meeting_body(
        group,
        status="scheduling",
        slots=[{"starts_at": clock_change(3), "ends_at": clock_change(3, hour=4)}, slot_body(5)],
    )
    del poll["starts_at"], poll["ends_at"]
    response = cast.api_client("coordinator").post("/api/v1/meetings/", poll, format="json")
    assert response.status_code == 400
    assert response.json() == {"slots": {"0": {"starts_at": [not_madrid_time(clock_change(3))]}}}
    assert not Meeting.objects.exists()


def test_a_time_with_its_offset_is_taken_at_a_clock_change(cast, group):
    """With an offset, the second 02:30 of the October night is no longer ambiguous."""
    body = meeting_body(
        group, starts_at=f"{clock_change(10)}+01:00", ends_at=f"{clock_change(10, hour=3)}+01:00"
    )
    response = cast.api_client("coordinator").post("/api/v1/meetings/", body, format="json")
    assert response.status_code == 201, response.json()
    meeting = Meeting.objects.get()
    assert meeting.ends_at - meeting.starts_at == timedelta(hours=1)


def test_meeting_update_is_validated_as_a_whole(cast, meeting):
    # Only ends_at is sent; it is checked against the stored start.
    before = (meeting.starts_at - timedelta(hours=1)).isoformat()
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{meeting.pk}/", {"ends_at": before}, format="json"
    )
    assert response.status_code == 400
    assert "ends_at" in response.json()


def record_notices(monkeypatch) -> list[str]:
    """The meeting services' notices (the API calls the same services as the pages)."""
    notices = []
    monkeypatch.setattr(
        "cities.services.meetings.meeting_event", lambda m, event: notices.append(event)
    )
    return notices


def test_moving_a_meeting_raises_its_sequence_and_tells_invitees(cast, meeting, monkeypatch):
    notices = record_notices(monkeypatch)
    client = cast.api_client("coordinator")
    url = f"/api/v1/meetings/{meeting.pk}/"
    later = meeting.starts_at + timedelta(days=1)
    moved = client.patch(
        url,
        {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert moved.json()["sequence"] == 1
    client.patch(url, {"title": "Solo el título"}, format="json")
    client.patch(url, {"status": "cancelled", "cancellation_reason": "Huelga"}, format="json")
    meeting.refresh_from_db()
    assert meeting.sequence == 2
    assert notices == ["changed", "cancelled"]


def test_a_meeting_already_held_cannot_be_moved_into_the_future(cast, group, monkeypatch):
    """Regression: a PATCH moving a held meeting to next year was a 200 that reopened its
    RSVPs and told every invitee the meeting had changed."""
    notices = record_notices(monkeypatch)
    start = timezone.now() - timedelta(days=90)
    held = MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=1))
    next_year = timezone.now().year + 1
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{held.pk}/",
        {"starts_at": f"{next_year}-02-01T10:00", "ends_at": f"{next_year}-02-01T11:00"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "starts_at": ["A meeting already held cannot be moved into the future."]
    }
    held.refresh_from_db()
    assert (held.starts_at, held.sequence) == (start, 0)
    assert notices == []


def test_a_meeting_already_held_may_be_corrected_within_the_past(cast, group, monkeypatch):
    notices = record_notices(monkeypatch)
    start = (timezone.now() - timedelta(days=90)).replace(microsecond=0)
    held = MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=1))
    earlier = start - timedelta(days=1)
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{held.pk}/",
        {"starts_at": earlier.isoformat(), "ends_at": (earlier + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 200
    held.refresh_from_db()
    assert (held.starts_at, held.sequence) == (earlier, 1)
    assert notices == []


AUDIENCE_FIXED = (
    "Who a meeting is for (its kind and working group) is fixed when it is created: "
    "cancel it and create a new one."
)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"group": "energia"}, ["group"]),
        ({"kind": "assembly", "group": None}, ["group", "kind"]),
        ({"kind": "technical_committee"}, ["kind"]),
    ],
)
def test_a_meetings_audience_is_fixed_once_created(cast, meeting, monkeypatch, body, fields):
    """Regression: a PATCH of the group moved the meeting without telling either group."""
    WorkingGroupFactory(slug="energia")
    notices = record_notices(monkeypatch)
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{meeting.pk}/", body, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {name: [AUDIENCE_FIXED] for name in fields}
    meeting.refresh_from_db()
    assert (meeting.kind, meeting.group.slug, meeting.sequence) == ("group", "movilidad", 0)
    assert notices == []


def test_a_meetings_audience_may_be_sent_unchanged(cast, meeting):
    body = {"kind": "group", "group": "movilidad", "title": "Plan revisado"}
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{meeting.pk}/", body, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["title"] == "Plan revisado"


def slot_body(days: int) -> dict:
    starts = (timezone.now() + timedelta(days=days)).replace(microsecond=0)
    return {"starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat()}


def test_creating_a_scheduled_meeting_invites_and_a_poll_asks_for_availability(
    cast, group, monkeypatch
):
    notices = record_notices(monkeypatch)
    client = cast.api_client("coordinator")
    assert client.post("/api/v1/meetings/", meeting_body(group), format="json").status_code == 201
    poll = meeting_body(group, status="scheduling", slots=[slot_body(5), slot_body(6)])
    del poll["starts_at"], poll["ends_at"]
    created = client.post("/api/v1/meetings/", poll, format="json")
    assert created.status_code == 201, created.json()
    assert [s["starts_at"][:10] for s in created.json()["slots"]] == [
        slot["starts_at"][:10] for slot in poll["slots"]
    ]
    assert created.json()["starts_at"] is None
    assert notices == ["invitation", "scheduling"]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "scheduling"}, "slots"),  # a poll without dates
        ({"slots": [slot_body(5)]}, "slots"),  # dates for a fixed-time meeting
        ({"status": "cancelled", "cancellation_reason": "No"}, "status"),
    ],
)
def test_meeting_create_refuses_an_impossible_status(cast, group, changes, field):
    response = cast.api_client("coordinator").post(
        "/api/v1/meetings/", meeting_body(group, **changes), format="json"
    )
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Meeting.objects.exists()


def test_a_poll_is_confirmed_at_one_of_its_dates_only(cast, group, monkeypatch):
    client = cast.api_client("coordinator")
    poll = meeting_body(group, status="scheduling", slots=[slot_body(5), slot_body(6)])
    del poll["starts_at"], poll["ends_at"]
    pk = client.post("/api/v1/meetings/", poll, format="json").json()["id"]
    notices = record_notices(monkeypatch)
    url = f"/api/v1/meetings/{pk}/"
    wrong = client.patch(url, {"status": "scheduled", **slot_body(7)}, format="json")
    assert wrong.status_code == 400
    assert "starts_at" in wrong.json()
    assert Meeting.objects.get(pk=pk).status == Meeting.Status.SCHEDULING
    confirmed = client.patch(url, {"status": "scheduled", **poll["slots"][1]}, format="json")
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json()["status"] == "scheduled"
    assert confirmed.json()["sequence"] == 1
    assert notices == ["confirmed"]


def create_poll(client, group) -> int:
    poll = meeting_body(group, status="scheduling", slots=[slot_body(5), slot_body(6)])
    del poll["starts_at"], poll["ends_at"]
    return client.post("/api/v1/meetings/", poll, format="json").json()["id"]


@pytest.mark.parametrize("fields", [("starts_at", "ends_at"), ("ends_at",)])
def test_a_poll_gets_its_time_only_by_confirming_a_proposed_date(cast, group, monkeypatch, fields):
    """Regression: a PATCH of a time kept the poll "scheduling" with a time, and SEQUENCE 1."""
    client = cast.api_client("coordinator")
    pk = create_poll(client, group)
    notices = record_notices(monkeypatch)
    time = {name: value for name, value in slot_body(5).items() if name in fields}
    response = client.patch(f"/api/v1/meetings/{pk}/", time, format="json")
    assert response.status_code == 400
    assert "one of its proposed dates is confirmed" in response.json()[fields[0]][0]
    poll = Meeting.objects.get(pk=pk)
    assert (poll.status, poll.starts_at, poll.ends_at, poll.sequence) == (
        "scheduling",
        None,
        None,
        0,
    )
    assert notices == []


def test_a_new_meeting_has_a_time_or_proposed_dates_not_both(cast, group, monkeypatch):
    notices = record_notices(monkeypatch)
    body = meeting_body(group, status="scheduling", slots=[slot_body(5), slot_body(6)])
    response = cast.api_client("coordinator").post("/api/v1/meetings/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "starts_at": ["Give either a fixed time or dates to choose from, not both."]
    }
    assert not Meeting.objects.exists()
    assert notices == []


NOT_CANCELLING = (
    "A reason for cancelling is given only with the status “cancelled”, which cancels the meeting."
)


def test_a_reason_for_cancelling_is_refused_unless_the_meeting_is_cancelled(
    cast, group, meeting, monkeypatch
):
    """Regression: the reason was dropped silently (or stored on a meeting still on)."""
    notices = record_notices(monkeypatch)
    client = cast.api_client("coordinator")
    url = f"/api/v1/meetings/{meeting.pk}/"
    reason = {"cancellation_reason": "Huelga"}
    for body in (reason, {**reason, "title": "Otro"}, {**reason, "status": "scheduled"}):
        response = client.patch(url, body, format="json")
        assert response.status_code == 400, body
        assert response.json() == {"cancellation_reason": [NOT_CANCELLING]}
    created = client.post("/api/v1/meetings/", meeting_body(group, **reason), format="json")
    assert created.json() == {"cancellation_reason": [NOT_CANCELLING]}
    meeting.refresh_from_db()
    assert (meeting.title, meeting.cancellation_reason, meeting.sequence) == (
        "Plan de trabajo 2027",
        "",
        0,
    )
    assert Meeting.objects.count() == 1
    assert notices == []


def test_a_cancelled_meeting_is_not_cancelled_again_with_another_reason(cast, meeting, monkeypatch):
    client = cast.api_client("coordinator")
    url = f"/api/v1/meetings/{meeting.pk}/"
    client.patch(url, {"status": "cancelled", "cancellation_reason": "Huelga"}, format="json")
    notices = record_notices(monkeypatch)
    for body in (
        {"status": "cancelled", "cancellation_reason": "Lluvia"},
        {"cancellation_reason": "Lluvia"},
    ):
        response = client.patch(url, body, format="json")
        assert response.status_code == 400
        assert response.json() == {"cancellation_reason": ["This meeting is already cancelled."]}
    meeting.refresh_from_db()
    assert (meeting.cancellation_reason, meeting.sequence) == ("Huelga", 1)
    assert notices == []


def test_a_cancelled_meeting_stays_cancelled(cast, meeting, monkeypatch):
    """Regression: PATCH status=scheduled used to bring a cancelled meeting back silently."""
    client = cast.api_client("coordinator")
    url = f"/api/v1/meetings/{meeting.pk}/"
    client.patch(url, {"status": "cancelled", "cancellation_reason": "Huelga"}, format="json")
    notices = record_notices(monkeypatch)
    for body in ({"status": "scheduled"}, {"title": "Otra vez"}, {"status": "scheduling"}):
        response = client.patch(url, body, format="json")
        assert response.status_code == 400, body
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.sequence == 1
    assert notices == []


def test_a_scheduled_meeting_does_not_go_back_to_looking_for_a_date(cast, meeting):
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{meeting.pk}/", {"status": "scheduling"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()


@matrix(coordinator=200, owner=200, other=200, anonymous=401)
def test_members_rsvp_to_a_meeting(cast, meeting, who, status):
    response = cast.api_client(who).post(
        f"/api/v1/meetings/{meeting.pk}/rsvp/", {"response": "going"}, format="json"
    )
    assert response.status_code == status, response.content
    assert RSVP.objects.filter(meeting=meeting).exists() is (status == 200)
    if status == 200:
        mine = cast.api_client(who).get(f"/api/v1/meetings/{meeting.pk}/").json()
        assert mine["my_response"] == "going"


def test_rsvp_names_a_wrong_response(cast, meeting):
    url = f"/api/v1/meetings/{meeting.pk}/rsvp/"
    response = cast.api_client("owner").post(url, {"response": "yes"}, format="json")
    assert response.status_code == 400
    assert "response" in response.json()
    assert not RSVP.objects.exists()


def test_rsvp_to_a_meeting_without_a_date_is_refused(cast, meeting):
    meeting.status = Meeting.Status.SCHEDULING
    meeting.save()
    url = f"/api/v1/meetings/{meeting.pk}/rsvp/"
    response = cast.api_client("owner").post(url, {"response": "going"}, format="json")
    assert response.status_code == 400
    assert not RSVP.objects.exists()


def test_rsvp_closes_when_the_meeting_starts(cast, meeting):
    """Regression: the API took answers to a meeting that was over."""
    started = timezone.now() - timedelta(minutes=5)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=started, ends_at=started + timedelta(hours=1)
    )
    url = f"/api/v1/meetings/{meeting.pk}/rsvp/"
    response = cast.api_client("owner").post(url, {"response": "going"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "Answers close when the meeting starts; the coordinators then record who attended."
        ]
    }
    assert not RSVP.objects.exists()


def test_rsvp_to_a_cancelled_meeting_is_forbidden(cast, meeting):
    meeting.status = Meeting.Status.CANCELLED
    meeting.cancellation_reason = "Huelga"
    meeting.save()
    url = f"/api/v1/meetings/{meeting.pk}/rsvp/"
    response = cast.api_client("owner").post(url, {"response": "going"}, format="json")
    assert response.status_code == 403


def test_meetings_filter_by_group_kind_status_and_dates(cast, meeting):
    now = timezone.now()
    assembly = MeetingFactory(
        kind="assembly", group=None, starts_at=now + timedelta(days=40), title="Asamblea"
    )
    past = MeetingFactory(group=meeting.group, starts_at=now - timedelta(days=30))
    MeetingFactory(status="scheduling", starts_at=None, ends_at=None)
    client = cast.api_client("owner")

    def ids(**params):
        response = client.get("/api/v1/meetings/", params)
        assert response.status_code == 200, response.content
        return {m["id"] for m in response.json()["results"]}

    assert ids(group="movilidad") == {meeting.pk, past.pk}
    assert ids(kind="assembly") == {assembly.pk}
    assert len(ids(status="scheduling")) == 1
    assert ids(after=now.isoformat()) == {meeting.pk, assembly.pk}
    assert ids(before=now.date().isoformat()) == {past.pk}
    in_a_month = (now + timedelta(days=30)).date().isoformat()
    assert ids(after=now.isoformat(), before=in_a_month) == {meeting.pk}
    assert client.get("/api/v1/meetings/", {"after": "yesterday"}).status_code == 400


@pytest.mark.parametrize(
    ("url", "param", "value"),
    [
        ("/api/v1/working-groups/", "active", "maybe"),
        ("/api/v1/working-groups/", "area", "knitting"),
        ("/api/v1/cities/", "size_band", "huge"),
        ("/api/v1/cities/", "tier", "gold"),
        ("/api/v1/cities/", "region", "nope"),
        ("/api/v1/cities/", "province", "nope"),
        ("/api/v1/technicians/", "city", "atlantis"),
        ("/api/v1/technicians/", "group", "no-such-group"),
        ("/api/v1/technicians/", "language", "xx"),
        ("/api/v1/meetings/", "group", "no-such-group"),
        ("/api/v1/meetings/", "status", "postponed"),
        ("/api/v1/meetings/", "after", "yesterday"),
    ],
)
def test_an_invalid_filter_value_is_a_400_naming_the_parameter(cast, group, url, param, value):
    """Regression: ?active=maybe answered 200 with every group, as if no filter were given."""
    response = cast.api_client("owner").get(url, {param: value})
    assert response.status_code == 400, response.content
    assert set(response.json()) == {param}


@pytest.mark.parametrize(
    ("value", "slugs"),
    [
        ("TRUE", {"movilidad"}),
        ("1", {"movilidad"}),
        ("0", {"energia"}),
        ("False", {"energia"}),
        ("", {"movilidad", "energia"}),
    ],
)
def test_the_active_filter_reads_true_and_false_in_any_case_or_1_and_0(cast, group, value, slugs):
    WorkingGroupFactory(name="Energía", slug="energia", area="energy", is_active=False)
    response = APIClient().get("/api/v1/working-groups/", {"active": value})
    assert {g["slug"] for g in response.json()["results"]} == slugs


# --- authentication ------------------------------------------------------------------


def test_a_wrong_token_is_refused_with_401(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/cities/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_writes_without_a_session(cast):
    token = Token.objects.create(user=cast.owner)
    technician = technician_of(cast.owner)
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = client.patch(
        f"/api/v1/technicians/{technician.pk}/", {"position": "Ingeniera"}, format="json"
    )
    assert response.status_code == 200, response.content
    technician.refresh_from_db()
    assert technician.position == "Ingeniera"


def test_a_session_write_without_csrf_token_is_refused(cast):
    technician = technician_of(cast.owner)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(cast.owner)
    response = client.patch(
        f"/api/v1/technicians/{technician.pk}/", {"position": "Ingeniera"}, format="json"
    )
    assert response.status_code == 403


# --- queries and schema -----------------------------------------------------------------


def add_cities(cast, n):
    for _ in range(n):
        TechnicianFactory(city=CityFactory())


def add_technicians(cast, n):
    group = WorkingGroup.objects.first() or WorkingGroupFactory()
    for _ in range(n):
        technician = TechnicianFactory(city=cast.owner_city)
        TechnicianArea.objects.create(technician=technician, area=ExpertiseArea.DATA)
        join_group(group, technician)


def add_groups(cast, n):
    for _ in range(n):
        join_group(WorkingGroupFactory(), technician_of(cast.owner))


def add_meetings(cast, n):
    for _ in range(n):
        meeting = MeetingFactory()
        AgendaItemFactory(meeting=meeting)
        RSVP.objects.create(meeting=meeting, user=cast.owner, response="going")


@pytest.mark.parametrize(
    ("url", "add"),
    [
        ("/api/v1/cities/", add_cities),
        ("/api/v1/technicians/", add_technicians),
        ("/api/v1/working-groups/", add_groups),
        ("/api/v1/meetings/", add_meetings),
    ],
    ids=["cities", "technicians", "working-groups", "meetings"],
)
def test_list_queries_do_not_grow_with_the_rows(cast, url, add):
    client = cast.api_client("owner")

    def queries_for_list():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    add(cast, 3)
    with_three = queries_for_list()
    add(cast, 6)
    assert queries_for_list() == with_three


def test_schema_is_served_with_the_network_endpoints(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    schema = response.content.decode()
    for path in ["/api/v1/cities/", "/api/v1/technicians/", "/api/v1/working-groups/"]:
        assert path in schema
    assert "/api/v1/meetings/{id}/rsvp/" in schema


def test_schema_generates_without_warnings(tmp_path):
    # --fail-on-warn turns any warning of the generator into an error.
    call_command("spectacular", "--fail-on-warn", "--validate", "--file", tmp_path / "s.yml")


# --- the token page -----------------------------------------------------------------------


@matrix(coordinator=200, owner=200, other=200, anonymous=302)
def test_token_page_is_for_signed_in_members(cast, who, status):
    response = cast.api_client(who).get(reverse("api-token"))
    assert response.status_code == status
    if status == 302:
        assert response["Location"].startswith(reverse("account_login"))


@matrix(coordinator=302, owner=302, other=302, anonymous=302)
def test_members_create_a_token_by_post(cast, who, status):
    response = cast.api_client(who).post(reverse("api-token"))
    assert response.status_code == status
    user = cast.users()[who]
    assert Token.objects.filter(user_id=getattr(user, "pk", None)).exists() is (who != "anonymous")


def test_token_page_refuses_a_user_who_is_not_a_member(cast, unapproved_technician):
    client = APIClient()
    client.force_login(unapproved_technician)
    assert client.get(reverse("api-token")).status_code == 403
    assert client.post(reverse("api-token")).status_code == 403
    assert not Token.objects.exists()


def test_regenerating_replaces_the_token(cast):
    client = cast.api_client("owner")
    client.post(reverse("api-token"))
    first = Token.objects.get(user=cast.owner).key
    page = client.get(reverse("api-token")).content.decode()
    assert first in page
    client.post(reverse("api-token"))
    second = Token.objects.get(user=cast.owner).key
    assert second != first
    old = APIClient()
    old.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert old.get("/api/v1/technicians/").status_code == 401


def test_token_page_date_ends_no_sentence_with_two_full_stops(cast):
    """English times end in "a.m."/"p.m.": "Created on Dec. 4, 2026, 6:10 p.m.." read badly."""
    Token.objects.create(user=cast.owner)
    page = cast.client("owner").get(reverse("api-token")).content.decode()
    assert "Created on " in page
    assert not re.search(r"[ap]\.m\.\.", page)


def test_token_page_get_changes_nothing(cast):
    cast.api_client("owner").get(reverse("api-token"))
    assert not Token.objects.exists()


@pytest.mark.parametrize(
    ("path", "language", "detail"),
    [
        ("/api/v1/cities/no-such-city/", "es", "No encontrado."),
        ("/api/v1/cities/no-such-city/", "en", "Not found."),
        ("/api/v1/working-groups/nada/", "es", "No encontrado."),
    ],
)
def test_not_found_is_said_in_the_readers_language(db, path, language, detail):
    """Regression: "No City matches the given query." came in English whatever the language."""
    response = APIClient(headers={"accept-language": language}).get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("language", "detail"),
    [
        ("es", "El cuerpo de la petición no es JSON válido (línea 1, columna 2)."),
        ("en", "The request body is not valid JSON (line 1, column 2)."),
    ],
)
def test_bad_json_is_said_in_the_readers_language(cast, language, detail):
    """Regression: "JSON parse error - Expecting property name enclosed in double quotes"."""
    client = cast.api_client("coordinator")
    client.credentials(HTTP_ACCEPT_LANGUAGE=language)
    response = client.post("/api/v1/meetings/", "{oops", content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"title": NaN}', "El cuerpo de la petición no es JSON válido."),
        (b'{"title": "\xff\xfe"}', "El cuerpo de la petición no es texto UTF-8."),
    ],
)
def test_any_body_the_json_parser_refuses_is_explained_in_spanish(cast, body, detail):
    """Regression: "JSON parse error - Out of range float values..." and "'utf-8' codec..."."""
    client = cast.api_client("coordinator")
    client.credentials(HTTP_ACCEPT_LANGUAGE="es")
    response = client.post("/api/v1/meetings/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_drf_messages_missing_from_its_spanish_catalogue_are_translated(cast):
    """A lone surrogate in a string: DRF's message had no Spanish."""
    client = cast.api_client("coordinator")
    client.credentials(HTTP_ACCEPT_LANGUAGE="es")
    body = '{"title": "\\ud800", "kind": "assembly"}'
    response = client.post("/api/v1/meetings/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["title"] == ["No se admiten caracteres sustitutos (surrogates): U+D800."]


def test_a_body_nested_too_deeply_is_a_400_not_a_500(cast):
    """Regression: 5,000 nested lists raised RecursionError in the JSON parser (a 500)."""
    Technician.objects.filter(user=cast.owner).update(role=Technician.Role.CITY_ADMIN)
    client = cast.api_client("owner")
    body = "[" * 5000 + "]" * 5000
    response = client.patch("/api/v1/cities/granada/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is nested too deeply."}
