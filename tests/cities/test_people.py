"""People: asking to join a city, deciding requests, profiles and the members' directory."""

import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities.models import ExpertiseArea, Technician, TechnicianArea, city_of
from tests.factories import (
    CityFactory,
    TechnicianFactory,
    UserFactory,
    WorkingGroupFactory,
    join_group,
)

CAST = ["coordinator", "owner", "other", "anonymous"]


def client_for(user) -> Client:
    client = Client()
    if user.is_authenticated:
        client.force_login(user)
    return client


def assert_status(response, who: str, status: int):
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


def verified_user(email: str = "ana@example.org"):
    user = UserFactory(email=email, first_name="Ana", last_name="Gómez")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def applicant(db):
    return verified_user()


@pytest.fixture
def pending(cast, applicant):
    """Ana's request to join the owning city."""
    return Technician.objects.create(
        user=applicant, city=cast.owner_city, position="Jefa de movilidad"
    )


@pytest.fixture
def city_admin(cast):
    return TechnicianFactory(city=cast.owner_city, role=Technician.Role.CITY_ADMIN).user


@pytest.fixture
def other_city_admin(cast):
    return TechnicianFactory(city=cast.other_city, role=Technician.Role.CITY_ADMIN).user


@pytest.fixture
def decide(monkeypatch, django_capture_on_commit_callbacks):
    """POST a decision; the notices queued for Celery once it commits are in decide.sent."""
    sent = []
    monkeypatch.setattr(
        "cities.tasks.send_technician_decision.delay", lambda *args: sent.append(args)
    )

    def post(client, technician, **data):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(decide_url(technician), data)

    post.sent = sent
    return post


def decide_url(technician) -> str:
    return reverse("cities:technician-decide", args=[technician.pk])


# --- asking to join a city ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 403), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_users_without_a_city_may_ask_to_join_one(cast, who, status):
    # The cast's coordinator has no verified address; owner and other already have a city.
    response = cast.client(who).get(reverse("cities:technician-request"))
    assert_status(response, who, status)


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 403), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_posting_a_request_is_refused_to_the_cast(cast, who, status):
    data = {"city": cast.other_city.pk, "position": "Técnico"}
    response = cast.client(who).post(reverse("cities:technician-request"), data)
    assert_status(response, who, status)
    if who in {"owner", "other"}:
        assert Technician.objects.get(user=cast.users()[who]).approved


def test_a_coordinator_with_a_verified_address_does_not_join_a_city(cast):
    """Regression: a verified coordinator could ask to join a city, then approve themselves."""
    email = cast.coordinator.email
    EmailAddress.objects.create(user=cast.coordinator, email=email, verified=True, primary=True)
    client = cast.client("coordinator")
    refused = client.get(reverse("cities:technician-request"), headers={"accept-language": "en"})
    assert refused.status_code == 403
    assert "do not join a city" in refused.content.decode()
    data = {"city": cast.owner_city.pk, "position": "Coordinadora"}
    assert client.post(reverse("cities:technician-request"), data).status_code == 403
    assert not Technician.objects.filter(user=cast.coordinator).exists()


def test_a_verified_user_asks_to_join_a_city(cast, applicant):
    client = client_for(applicant)
    assert client.get(reverse("cities:technician-request")).status_code == 200
    data = {"city": cast.owner_city.pk, "position": "Jefa de movilidad"}
    response = client.post(reverse("cities:technician-request"), data)
    assert response.status_code == 302
    request = Technician.objects.get(user=applicant)
    assert (request.city, request.position, request.approved) == (
        cast.owner_city,
        "Jefa de movilidad",
        False,
    )
    assert request.requested_at is not None
    assert city_of(applicant) is None  # not before it is approved


def nameless_user(email: str = "ane@example.org"):
    """A verified account as sign-up leaves it: an e-mail address and no name."""
    user = UserFactory(email=email, first_name="", last_name="")
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def test_a_user_without_a_name_gives_it_with_the_request_to_join(cast):
    """Regression: a technician approved without a name was listed under their address,
    not found by their name, and the API gave "name": ""."""
    user = nameless_user()
    client = client_for(user)
    form = client.get(reverse("cities:technician-request")).context["form"]
    assert list(form.fields)[:2] == ["first_name", "last_name"]
    assert form.fields["first_name"].required and form.fields["last_name"].required
    data = {"city": cast.owner_city.pk, "position": "Técnica de datos"}
    refused = client.post(reverse("cities:technician-request"), data)
    assert set(refused.context["form"].errors) == {"first_name", "last_name"}
    assert not Technician.objects.filter(user=user).exists()
    named = {**data, "first_name": " Ane ", "last_name": "Zubiri Etxeberria"}
    assert client.post(reverse("cities:technician-request"), named).status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ane", "Zubiri Etxeberria")
    assert "ane zubiri etxeberria" in Technician.objects.get(user=user).search_text


def test_a_request_keeps_or_changes_the_name_the_user_has(cast, applicant):
    client = client_for(applicant)
    form = client.get(reverse("cities:technician-request")).context["form"]
    assert (form["first_name"].value(), form["last_name"].value()) == ("Ana", "Gómez")
    assert not form.fields["first_name"].required  # left blank, the name stays
    data = {"city": cast.owner_city.pk, "position": "Jefa", "last_name": "Gómez Ruiz"}
    assert client.post(reverse("cities:technician-request"), data).status_code == 302
    applicant.refresh_from_db()
    assert (applicant.first_name, applicant.last_name) == ("Ana", "Gómez Ruiz")


def test_a_refused_request_saves_no_name(cast, municipalities):
    """The names go with the request: refused, neither is saved."""
    from cities.models import MembershipApplication
    from cities.services.people import request_to_join

    user = nameless_user()
    MembershipApplication.objects.create(
        municipality=municipalities.get(pk="28005"), applicant=user, applicant_position="Jefa"
    )
    with pytest.raises(ValidationError):
        request_to_join(user, cast.owner_city, "Técnica", first_name="Ane", last_name="Zubiri")
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("", "")


def test_the_service_refuses_a_request_without_a_name(cast):
    from cities.services.people import request_to_join

    user = nameless_user()
    with pytest.raises(ValidationError) as refused:
        request_to_join(user, cast.owner_city, "Técnica", first_name="Ane")
    assert set(refused.value.message_dict) == {"last_name"}
    assert not Technician.objects.filter(user=user).exists()
    user.refresh_from_db()
    assert user.first_name == ""


def test_once_approved_the_named_technician_is_found_in_the_directory_api_and_digest(cast):
    from django.core import mail
    from rest_framework.test import APIClient

    from cities import tasks
    from cities.services.people import decide_request

    user = nameless_user()
    client_for(user).post(
        reverse("cities:technician-request"),
        {
            "city": cast.owner_city.pk,
            "position": "Técnica",
            "first_name": "Ane",
            "last_name": "Zubiri",
        },
    )
    decide_request(Technician.objects.get(user=user), cast.coordinator, approve=True)
    directory = cast.client("owner").get(reverse("cities:technician-list"), {"q": "zubiri"})
    assert [t.user for t in directory.context["page"]] == [user]
    assert "Ane Zubiri" in directory.content.decode()
    api = APIClient()
    api.force_authenticate(cast.owner)
    [row] = api.get("/api/v1/technicians/", {"search": "zubiri"}).json()["results"]
    assert row["name"] == "Ane Zubiri"
    tasks.send_weekly_digest()
    [digest] = [m for m in mail.outbox if m.to == [cast.owner.email]]
    assert "Ane Zubiri" in digest.body


def test_a_pending_request_shows_its_state_and_a_second_one_is_not_sent(cast, pending, applicant):
    client = client_for(applicant)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = client.get(reverse("cities:technician-request"))
    assert page.status_code == 200
    assert page.context["pending"] == pending
    data = {"city": cast.other_city.pk, "position": "Otra"}
    response = client.post(reverse("cities:technician-request"), data, follow=True)
    assert response.redirect_chain == [(reverse("cities:technician-request"), 302)]
    assert response.context["pending"] == pending
    assert [str(m) for m in response.context["messages"]] == [
        "Your request to join Granada is already pending; it was not sent again."
    ]
    assert Technician.objects.get(user=applicant).city == cast.owner_city


@pytest.mark.parametrize(
    ("language", "date"),
    [("en", "Dec. 4, 2026, 6:10 p.m.,"), ("es", "4 de diciembre de 2026 a las 18:10,")],
)
def test_the_pending_requests_date_is_followed_by_no_second_full_stop(
    cast, pending, applicant, language, date
):
    """Regression: the English page read "on Dec. 4, 2026, 6:10 p.m.. Its admins"."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    pending.requested_at = datetime(2026, 12, 4, 18, 10, tzinfo=ZoneInfo("Europe/Madrid"))
    pending.save()
    client = client_for(applicant)
    page = client.get(reverse("cities:technician-request"), headers={"accept-language": language})
    text = page.content.decode()
    assert ".." not in text.replace("...", "")
    assert date in text  # a comma after the date: the sentence goes on


def test_an_unverified_user_cannot_ask_to_join(cast):
    user = UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    data = {"city": cast.owner_city.pk, "position": "Técnico"}
    assert client_for(user).post(reverse("cities:technician-request"), data).status_code == 403
    assert not Technician.objects.filter(user=user).exists()


def test_a_request_needs_a_city_and_a_position(cast, applicant):
    response = client_for(applicant).post(
        reverse("cities:technician-request"), {"city": "999999", "position": ""}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"city", "position"}
    assert not Technician.objects.filter(user=applicant).exists()


# --- the requests list -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_requests_are_listed_for_coordinators_and_city_admins(cast, pending, who, status):
    response = cast.client(who).get(reverse("cities:technician-requests"))
    assert_status(response, who, status)
    if status == 200:
        assert list(response.context["pending"]) == [pending]


def test_a_city_admin_sees_only_their_own_citys_requests(
    cast, pending, city_admin, other_city_admin
):
    elsewhere = TechnicianFactory(city=cast.other_city, approved=False)
    mine = client_for(city_admin).get(reverse("cities:technician-requests"))
    theirs = client_for(other_city_admin).get(reverse("cities:technician-requests"))
    assert list(mine.context["pending"]) == [pending]
    assert list(theirs.context["pending"]) == [elsewhere]
    assert "Jefa de movilidad" in mine.content.decode()


def test_a_pending_user_cannot_see_requests(cast, pending, applicant):
    assert client_for(applicant).get(reverse("cities:technician-requests")).status_code == 403


# --- deciding a request ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_the_decision_page_is_for_the_citys_admins_and_coordinators(cast, pending, who, status):
    assert_status(cast.client(who).get(decide_url(pending)), who, status)


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_and_city_admins_approve(cast, pending, decide, who, status):
    response = decide(cast.client(who), pending, decision="approve")
    assert_status(response, who, status)
    pending.refresh_from_db()
    assert pending.approved is (who == "coordinator")
    assert len(decide.sent) == (1 if who == "coordinator" else 0)


def test_request_then_approval_makes_the_user_a_technician(cast, applicant, city_admin, decide):
    client_for(applicant).post(
        reverse("cities:technician-request"),
        {"city": cast.owner_city.pk, "position": "Jefa de movilidad"},
    )
    request = Technician.objects.get(user=applicant)
    response = decide(client_for(city_admin), request, decision="approve")
    assert response.status_code == 302
    assert response["Location"] == reverse("cities:technician-requests")
    request.refresh_from_db()
    assert request.approved and request.approved_by == city_admin
    assert request.approved_at is not None
    assert city_of(applicant) == cast.owner_city
    assert decide.sent == [(applicant.pk, cast.owner_city.pk, True, "")]


def test_declining_with_a_reason_deletes_the_request_and_tells_the_user(
    cast, pending, applicant, city_admin, decide
):
    reason = "No figuras en la plantilla del ayuntamiento."
    response = decide(client_for(city_admin), pending, decision="decline", reason=reason)
    assert response.status_code == 302
    assert not Technician.objects.filter(user=applicant).exists()
    assert decide.sent == [(applicant.pk, cast.owner_city.pk, False, reason)]
    # ...so that they may ask another city.
    data = {"city": cast.other_city.pk, "position": "Técnica"}
    assert client_for(applicant).post(reverse("cities:technician-request"), data).status_code == 302
    assert Technician.objects.get(user=applicant).city == cast.other_city


def test_declining_needs_a_reason(cast, pending, city_admin, decide):
    response = decide(client_for(city_admin), pending, decision="decline")
    assert response.status_code == 200
    assert "reason" in response.context["form"].errors
    assert Technician.objects.filter(pk=pending.pk, approved=False).exists()
    assert decide.sent == []


def test_an_unknown_decision_is_an_error(cast, pending, city_admin, decide):
    response = decide(client_for(city_admin), pending, decision="maybe")
    assert response.status_code == 200
    assert "decision" in response.context["form"].errors
    assert decide.sent == []


def test_another_citys_admin_cannot_decide(cast, pending, other_city_admin, decide):
    response = decide(client_for(other_city_admin), pending, decision="approve")
    assert response.status_code == 403
    pending.refresh_from_db()
    assert not pending.approved
    assert decide.sent == []


def test_approving_twice_is_harmless(cast, pending, city_admin, decide):
    client = client_for(city_admin)
    decide(client, pending, decision="approve")
    pending.refresh_from_db()
    approved_at = pending.approved_at
    response = decide(client, pending, decision="approve")
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.approved and pending.approved_at == approved_at
    assert len(decide.sent) == 1


def test_an_approved_technician_cannot_be_declined_as_a_request(cast, city_admin, decide):
    technician = Technician.objects.get(user=cast.owner)
    decide(client_for(city_admin), technician, decision="decline", reason="x")
    assert Technician.objects.filter(pk=technician.pk, approved=True).exists()
    assert decide.sent == []


def test_deciding_an_unknown_request_is_not_found(cast):
    response = client_for(cast.coordinator).post(
        reverse("cities:technician-decide", args=[999999]), {"decision": "approve"}
    )
    assert response.status_code == 404


# --- profiles ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_profiles_are_for_members(cast, who, status):
    technician = Technician.objects.get(user=cast.owner)
    url = reverse("cities:technician-detail", args=[technician.pk])
    assert_status(cast.client(who).get(url), who, status)


def test_a_profile_shows_city_position_areas_groups_languages_and_bio(cast):
    technician = Technician.objects.get(user=cast.owner)
    technician.position, technician.bio, technician.languages = "Jefe de datos", "Sensores", "es,ca"
    technician.save()
    TechnicianArea.objects.create(technician=technician, area=ExpertiseArea.DATA)
    join_group(WorkingGroupFactory(name="Datos abiertos"), technician)
    client = client_for(cast.other)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("cities:technician-detail", args=[technician.pk])).content.decode()
    for text in ("Granada", "Jefe de datos", "Open data and platforms", "Datos abiertos"):
        assert text in page
    for text in ("Spanish", "Catalan", "Sensores"):
        assert text in page


def test_a_pending_request_has_no_profile(cast, pending):
    url = reverse("cities:technician-detail", args=[pending.pk])
    assert client_for(cast.owner).get(url).status_code == 404


def test_a_signed_in_non_member_cannot_see_profiles(cast, pending, applicant):
    technician = Technician.objects.get(user=cast.owner)
    url = reverse("cities:technician-detail", args=[technician.pk])
    assert client_for(applicant).get(url).status_code == 403


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 403), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_only_technicians_edit_their_own_profile(cast, who, status):
    assert_status(cast.client(who).get(reverse("cities:profile-edit")), who, status)


def profile_data(**changes):
    data = {
        "first_name": "Lucía",
        "last_name": "Martín",
        "position": "Responsable de energía",
        "bio": "Alumbrado y edificios.",
        "areas": ["energy", "infrastructure"],
        "languages": ["es", "eu"],
        "weekly_digest": "",
    }
    data.update(changes)
    return data


def test_editing_the_profile_saves_it_and_refreshes_search(cast):
    technician = Technician.objects.get(user=cast.owner)
    TechnicianArea.objects.create(technician=technician, area=ExpertiseArea.MOBILITY)
    response = client_for(cast.owner).post(reverse("cities:profile-edit"), profile_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("cities:technician-detail", args=[technician.pk])
    technician.refresh_from_db()
    assert technician.user.get_full_name() == "Lucía Martín"
    assert technician.position == "Responsable de energía"
    assert technician.languages == "es,eu"
    assert technician.weekly_digest is False
    assert sorted(technician.areas.values_list("area", flat=True)) == ["energy", "infrastructure"]
    assert "lucia martin" in technician.search_text
    assert "responsable de energia" in technician.search_text


def test_a_bad_profile_is_refused_and_nothing_is_saved(cast):
    technician = Technician.objects.get(user=cast.owner)
    data = profile_data(languages=[], areas=["energy", "astrology"])
    response = client_for(cast.owner).post(reverse("cities:profile-edit"), data)
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"languages", "areas"}
    technician.refresh_from_db()
    assert technician.position == "" and not technician.areas.exists()


def test_the_profile_form_starts_from_the_saved_profile(cast):
    technician = Technician.objects.get(user=cast.owner)
    technician.languages = "en,fr"
    technician.save()
    TechnicianArea.objects.create(technician=technician, area=ExpertiseArea.WATER_WASTE)
    form = client_for(cast.owner).get(reverse("cities:profile-edit")).context["form"]
    assert form["languages"].value() == ["en", "fr"]
    assert form["areas"].value() == ["water_waste"]


# --- the directory -----------------------------------------------------------------------


def directory(user, **params):
    return client_for(user).get(reverse("cities:technician-list"), params)


def listed(response) -> list[Technician]:
    return list(response.context["page"].object_list)


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_the_directory_is_for_members(cast, who, status):
    response = cast.client(who).get(reverse("cities:technician-list"))
    assert_status(response, who, status)


def test_a_signed_in_non_member_cannot_see_the_directory(cast, pending, applicant):
    assert directory(applicant).status_code == 403


def test_the_directory_lists_approved_technicians_only(cast, pending):
    names = {t.user for t in listed(directory(cast.coordinator))}
    assert names == {cast.owner, cast.other}


def test_search_ignores_accents_and_case(cast):
    owner = Technician.objects.get(user=cast.owner)
    owner.position = "Ingeniera de tráfico"
    owner.save()
    assert listed(directory(cast.owner, q="MOSTOLES")) == [Technician.objects.get(user=cast.other)]
    assert listed(directory(cast.owner, q="trafico granada")) == [owner]
    assert listed(directory(cast.owner, q="tráfico móstoles")) == []


def test_search_does_not_match_email_addresses(cast):
    """Privacy: the directory shows no addresses, so a search must not reveal who has one."""
    cast.owner.email = "zubizarreta.lopez@ayto.example.org"
    cast.owner.save()
    owner = Technician.objects.get(user=cast.owner)
    owner.save()
    assert listed(directory(cast.other, q="zubizarreta")) == []
    assert listed(directory(cast.other, q="ayto.example")) == []
    assert "zubizarreta" not in owner.search_text


def test_a_migration_drops_the_addresses_from_the_stored_search_text(cast):
    from importlib import import_module

    from django.apps import apps

    owner = Technician.objects.get(user=cast.owner)
    Technician.objects.filter(pk=owner.pk).update(search_text=f"{owner.search_text} x@mail.org")
    import_module("cities.migrations.0005_search_text_without_email").forwards(apps, None)
    migrated = Technician.objects.get(pk=owner.pk).search_text
    owner.refresh_search_text()  # what saving the technician now stores
    assert migrated == owner.search_text and "mail.org" not in migrated


def test_search_finds_area_names_in_the_readers_language(cast):
    owner = Technician.objects.get(user=cast.owner)
    TechnicianArea.objects.create(technician=owner, area=ExpertiseArea.MOBILITY)
    assert listed(directory(cast.other, q="movilidad")) == [owner]  # Spanish by default
    client = client_for(cast.other)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("cities:technician-list"), {"q": "mobility"})
    assert listed(response) == [owner]


def test_filters_by_city_area_group_and_language(cast):
    owner = Technician.objects.get(user=cast.owner)
    other = Technician.objects.get(user=cast.other)
    other.languages = "es,eu"
    other.save()
    TechnicianArea.objects.create(technician=owner, area=ExpertiseArea.ENERGY)
    group = WorkingGroupFactory(slug="energia")
    join_group(group, other)
    user = cast.coordinator
    assert listed(directory(user, city="granada")) == [owner]
    assert listed(directory(user, area="energy")) == [owner]
    assert listed(directory(user, group="energia")) == [other]
    assert listed(directory(user, language="eu")) == [other]
    assert listed(directory(user, language="es", city="mostoles")) == [other]


def test_an_unknown_filter_is_reported(cast):
    response = directory(cast.owner, city="atlantis", area="astrology")
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"city", "area"}


def test_the_directory_shows_fifty_people_a_page(cast):
    city = CityFactory()
    TechnicianFactory.create_batch(49, city=city)  # 51 with the cast's two
    first = directory(cast.owner)
    assert len(listed(first)) == 50
    second = directory(cast.owner, page=2)
    assert len(listed(second)) == 1
    assert "page=2" in first.content.decode()


def directory_queries(user, count: int) -> int:
    city = CityFactory()
    groups = WorkingGroupFactory.create_batch(2)
    for technician in TechnicianFactory.create_batch(count, city=city):
        TechnicianArea.objects.create(technician=technician, area=ExpertiseArea.DATA)
        TechnicianArea.objects.create(technician=technician, area=ExpertiseArea.ENERGY)
        for group in groups:
            join_group(group, technician)
    client = client_for(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("cities:technician-list"), {"city": city.slug})
    assert len(listed(response)) == count
    return len(queries)


def test_the_directory_query_count_does_not_grow_with_its_rows(cast):
    assert directory_queries(cast.coordinator, 5) == directory_queries(cast.coordinator, 15)
