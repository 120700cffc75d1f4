"""Membership applications: apply for a municipality, coordinators approve or decline."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cities import notifications
from cities.models import (
    City,
    MembershipApplication,
    MembershipTier,
    Municipality,
    SizeBand,
    Technician,
)
from cities.services.membership import approve_application
from tests.factories import CityFactory, TechnicianFactory, UserFactory

CAST = ["coordinator", "owner", "other", "anonymous"]
Status = MembershipApplication.Status
ALCALA = "28005"  # Alcalá de Henares, 203,208 inhabitants in 2025
BUJALANCE = "14012"  # Bujalance, 7,065 inhabitants: an associate member


def english_client() -> Client:
    """Assertions read English messages, whatever the translations say."""
    client = Client()
    client.cookies["django_language"] = "en"
    return client


def signed_in(user) -> Client:
    client = english_client()
    client.force_login(user)
    return client


def verified_user(**fields):
    user = UserFactory(**fields)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def applicant(db):
    return verified_user(first_name="Lucía", last_name="Gómez")


@pytest.fixture
def decisions(monkeypatch):
    """The applications that notifications.membership_decided was called with."""
    called = []
    monkeypatch.setattr(notifications, "membership_decided", called.append)
    return called


def application_for(applicant, ine_code: str = ALCALA, **fields) -> MembershipApplication:
    defaults = {
        "applicant_position": "Jefa de servicio de innovación",
        "tier": MembershipTier.FULL,
        "motivation": "Compartir nuestros gemelos digitales.",
    }
    return MembershipApplication.objects.create(
        municipality=Municipality.objects.get(pk=ine_code),
        applicant=applicant,
        **{**defaults, **fields},
    )


def apply(client, ine_code: str = ALCALA, query: str = "alcala de henares", **fields):
    data = {
        "municipality_q": query,
        "municipality": ine_code,
        "applicant_position": "Jefa de servicio de innovación",
        "website": "https://www.ayto-alcaladehenares.es/",
        "motivation": "Compartir nuestros gemelos digitales.",
        **fields,
    }
    return client.post(reverse("cities:membership-apply"), data)


def decide_url(application) -> str:
    return reverse("cities:membership-decide", args=[application.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- permission matrix -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 403), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_users_without_a_city_apply(cast, who, status):
    """Technicians already act for a city, coordinators decide: neither applies."""
    if who != "anonymous":
        user = cast.users()[who]
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = cast.client(who)
    assert client.get(reverse("cities:membership-apply")).status_code == status
    assert apply(client).status_code == status
    assert not MembershipApplication.objects.exists()


def test_a_verified_user_without_a_city_may_apply(applicant):
    assert signed_in(applicant).get(reverse("cities:membership-apply")).status_code == 200


def test_an_unverified_user_is_told_to_verify_the_address(db):
    response = signed_in(UserFactory()).get(reverse("cities:membership-apply"))
    assert response.status_code == 403
    assert response.context["needs_verified_email"]
    assert reverse("account_email") in response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_see_the_applications(cast, applicant, who, status):
    application_for(applicant)
    response = cast.client(who).get(reverse("cities:membership-list"))
    assert response.status_code == status
    if who == "anonymous":
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_open_an_application(cast, applicant, who, status):
    application = application_for(applicant)
    assert cast.client(who).get(decide_url(application)).status_code == status


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_decide(cast, applicant, decisions, who, status):
    application = application_for(applicant)
    response = cast.client(who).post(decide_url(application), {"decision": "approve"})
    assert response.status_code == status
    application.refresh_from_db()
    approved = who == "coordinator"
    assert (application.status == Status.APPROVED) is approved
    assert City.objects.filter(ine_code=ALCALA).exists() is approved
    if who == "anonymous":
        assert reverse("account_login") in response["Location"]


def test_unknown_application_is_404(cast):
    url = reverse("cities:membership-decide", args=[999999])
    assert cast.client("coordinator").get(url).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_every_signed_in_user_sees_their_own_applications(cast, who, status):
    assert cast.client(who).get(reverse("cities:membership-mine")).status_code == status


# -- applying --------------------------------------------------------------------------------


def test_municipality_search_ignores_accents(applicant, municipalities):
    response = signed_in(applicant).get(
        reverse("cities:membership-apply"), {"municipality_q": "Mostoles"}
    )
    matches = response.context["form"].matches
    assert [m.ine_code for m in matches] == ["28092"]
    assert "Móstoles (Madrid)" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "ine_code"),
    [("vitoria gasteiz", "01059"), ("Vitoria-Gasteiz", "01059"), ("castro urdiales", "39020")],
)
def test_municipality_search_ignores_hyphens(applicant, municipalities, query, ine_code):
    response = signed_in(applicant).get(
        reverse("cities:membership-apply"), {"municipality_q": query}
    )
    assert [m.ine_code for m in response.context["form"].matches] == [ine_code]


@pytest.mark.parametrize(
    ("query", "ine_code"),
    [
        ("Alcala Henares", "28005"),
        ("san sebastian reyes", "28134"),
        ("palmas gran canaria", "35016"),
        ("reyes de los sebastián san", "28134"),
    ],
)
def test_municipality_search_finds_every_word_in_any_order(
    applicant, municipalities, query, ine_code
):
    """Regression: only a continuous piece of the name was found ("Alcala Henares": nothing)."""
    response = signed_in(applicant).get(
        reverse("cities:membership-apply"), {"municipality_q": query}
    )
    assert [m.ine_code for m in response.context["form"].matches] == [ine_code]


def test_municipality_search_puts_exact_names_first_and_finds_ine_codes(applicant, municipalities):
    client = signed_in(applicant)
    url = reverse("cities:membership-apply")
    matches = client.get(url, {"municipality_q": "madrid"}).context["form"].matches
    assert matches[0].ine_code == "28079"
    assert {"28127"} <= {m.ine_code for m in matches}  # Las Rozas de Madrid
    assert [m.pk for m in client.get(url, {"municipality_q": "14012"}).context["form"].matches] == [
        BUJALANCE
    ]


def test_municipality_search_marks_members_and_pending(applicant, municipalities):
    CityFactory(name="Alcalá de Henares", municipality_id=ALCALA, ine_code=ALCALA)
    application_for(verified_user(), "19130")  # Guadalajara
    client = signed_in(applicant)
    body = client.get(reverse("cities:membership-apply"), {"municipality_q": "alcala de henares"})
    assert "already a member" in body.content.decode()
    body = client.get(reverse("cities:membership-apply"), {"municipality_q": "guadalajara"})
    assert "application pending" in body.content.decode()


def test_applying_stores_a_pending_application_with_the_tier_by_size(applicant, municipalities):
    response = apply(signed_in(applicant), BUJALANCE, "bujalance")
    assert response.status_code == 302
    assert response["Location"] == reverse("cities:membership-mine")
    application = MembershipApplication.objects.get()
    assert (application.municipality_id, application.applicant, application.status) == (
        BUJALANCE,
        applicant,
        Status.PENDING,
    )
    assert application.tier == MembershipTier.ASSOCIATE


def test_an_applicant_without_a_name_gives_it_with_the_application(cast, municipalities):
    """Regression: an applicant with no name became a city admin listed by e-mail address."""
    user = verified_user(first_name="", last_name="")
    client = signed_in(user)
    form = client.get(reverse("cities:membership-apply"), {"municipality_q": "alcala"})
    fields = form.context["form"].fields
    assert list(fields)[:3] == ["municipality", "first_name", "last_name"]
    assert fields["first_name"].required and fields["last_name"].required
    refused = apply(client)
    assert set(refused.context["form"].errors) == {"first_name", "last_name"}
    assert not MembershipApplication.objects.exists()
    assert apply(client, first_name="Lucía", last_name="Gómez").status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Lucía", "Gómez")
    approve_application(MembershipApplication.objects.get().pk, by=cast.coordinator)
    assert "lucia gomez" in Technician.objects.get(user=user).search_text


def test_the_application_form_starts_from_the_applicants_name(applicant, municipalities):
    page = signed_in(applicant).get(reverse("cities:membership-apply"), {"municipality_q": "x y"})
    form = page.context["form"]
    assert (form["first_name"].value(), form["last_name"].value()) == ("Lucía", "Gómez")
    assert not form.fields["last_name"].required  # left blank, the name stays
    assert apply(signed_in(applicant)).status_code == 302
    applicant.refresh_from_db()
    assert (applicant.first_name, applicant.last_name) == ("Lucía", "Gómez")


def test_an_application_refused_at_saving_saves_no_name(cast, municipalities):
    """The names go with the application: a request to join a city sent meanwhile refuses
    it under the user's lock, and the names are not saved either."""
    from cities.forms.directory import MembershipApplicationForm

    user = verified_user(first_name="", last_name="")
    data = {
        "municipality": ALCALA,
        "applicant_position": "Jefa",
        "motivation": "Datos.",
        "first_name": "Lucía",
        "last_name": "Gómez",
    }
    form = MembershipApplicationForm(data, query="alcala", applicant=user)
    assert form.is_valid()
    Technician.objects.create(user=user, city=cast.owner_city, position="Técnica")
    assert form.save() is None
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("", "")


def test_a_member_municipality_is_refused_by_name(applicant, municipalities):
    CityFactory(name="Alcalá de Henares", municipality_id=ALCALA, ine_code=ALCALA)
    response = apply(signed_in(applicant))
    assert response.status_code == 200
    assert "Alcalá de Henares" in str(response.context["form"].errors["municipality"])
    assert not MembershipApplication.objects.exists()


def test_a_municipality_with_a_pending_application_is_refused_by_name(applicant, municipalities):
    first = application_for(verified_user())
    response = apply(signed_in(applicant))
    assert response.status_code == 200
    error = str(response.context["form"].errors["municipality"])
    assert "Alcalá de Henares" in error and "pending" in error
    assert list(MembershipApplication.objects.all()) == [first]


def test_a_declined_municipality_may_apply_again(applicant, municipalities):
    application_for(verified_user(), status=Status.DECLINED, decision_reason="Incompleta")
    assert apply(signed_in(applicant)).status_code == 302
    assert MembershipApplication.objects.filter(status=Status.PENDING).count() == 1


def test_an_applicant_waits_for_the_decision_before_applying_again(applicant, municipalities):
    application_for(applicant, BUJALANCE)
    response = apply(signed_in(applicant))
    assert response.status_code == 403
    assert "pending application for Bujalance" in response.context["reason"]
    assert MembershipApplication.objects.count() == 1


def test_the_form_refuses_a_second_pending_application(applicant, municipalities):
    """Two tabs: the second submission passes the page's check, the form still refuses it."""
    from cities.forms.directory import MembershipApplicationForm

    application_for(applicant, BUJALANCE)
    data = {"municipality": ALCALA, "applicant_position": "Jefa", "motivation": "Datos."}
    form = MembershipApplicationForm(data, query="alcala", applicant=applicant)
    assert not form.is_valid()
    assert "Bujalance" in str(form.non_field_errors())


def test_the_municipality_must_be_picked_not_typed(applicant, municipalities):
    response = apply(signed_in(applicant), "Villanueva de Nada")
    assert response.context["form"].errors["municipality"]
    response = apply(signed_in(applicant), "")
    assert response.context["form"].errors["municipality"]
    assert not MembershipApplication.objects.exists()


def test_position_and_motivation_are_required(applicant, municipalities):
    response = apply(signed_in(applicant), applicant_position="", motivation="")
    assert set(response.context["form"].errors) == {"applicant_position", "motivation"}
    assert not MembershipApplication.objects.exists()


# -- one request at a time: an application or a request to join a city ----------------------


def test_an_applicant_waiting_for_a_decision_cannot_ask_to_join_a_city(
    cast, applicant, municipalities
):
    application_for(applicant)
    client = signed_in(applicant)
    refused = client.get(reverse("cities:technician-request"))
    assert refused.status_code == 403
    assert "on behalf of Alcalá de Henares" in refused.content.decode()
    data = {"city": cast.owner_city.pk, "position": "Técnica"}
    refused = client.post(reverse("cities:technician-request"), data)
    assert refused.status_code == 403
    assert not Technician.objects.filter(user=applicant).exists()


def test_a_user_who_asked_to_join_a_city_cannot_apply_for_membership(
    cast, applicant, municipalities
):
    Technician.objects.create(user=applicant, city=cast.owner_city, position="Técnica")
    client = signed_in(applicant)
    refused = client.get(reverse("cities:membership-apply"))
    assert refused.status_code == 403
    assert "You asked to join Granada" in refused.context["reason"]
    assert apply(client).status_code == 403
    assert not MembershipApplication.objects.exists()


def test_requesting_to_join_is_refused_by_the_service_while_an_application_waits(
    cast, applicant, municipalities
):
    from django.core.exceptions import ValidationError

    from cities.services.people import request_to_join

    application_for(applicant)
    with pytest.raises(ValidationError, match="Alcalá de Henares"):
        request_to_join(applicant, cast.owner_city, "Técnica")
    assert not Technician.objects.filter(user=applicant).exists()


@pytest.mark.parametrize("when", ["clean", "save"])
def test_the_application_form_refuses_an_applicant_who_asked_to_join_a_city(
    cast, applicant, municipalities, when
):
    """The page refuses first; the form checks again, and again under the user's lock for a
    request to join sent at the same moment."""
    from cities.forms.directory import MembershipApplicationForm

    data = {"municipality": ALCALA, "applicant_position": "Jefa", "motivation": "Datos."}
    form = MembershipApplicationForm(data, query="alcala", applicant=applicant)
    if when == "save":
        assert form.is_valid()
    Technician.objects.create(user=applicant, city=cast.owner_city, position="Técnica")
    if when == "clean":
        assert not form.is_valid()
    else:
        assert form.save() is None
    assert "You asked to join Granada" in str(form.non_field_errors())
    assert not MembershipApplication.objects.exists()


def test_the_testers_path_apply_then_ask_to_join_then_approve(cast, applicant, municipalities):
    """Regression: the request to join Granada went through, and approval then failed."""
    client = signed_in(applicant)
    assert apply(client).status_code == 302
    data = {"city": cast.owner_city.pk, "position": "Técnica"}
    assert client.post(reverse("cities:technician-request"), data).status_code == 403
    application = MembershipApplication.objects.get(applicant=applicant)
    cast.client("coordinator").post(decide_url(application), {"decision": "approve"})
    application.refresh_from_db()
    assert application.status == Status.APPROVED
    assert Technician.objects.get(user=applicant).city.ine_code == ALCALA


def test_a_declined_applicant_may_ask_to_join_a_city(cast, applicant, municipalities):
    application_for(applicant, status=Status.DECLINED, decision_reason="Incompleta")
    assert signed_in(applicant).get(reverse("cities:technician-request")).status_code == 200


# -- deciding --------------------------------------------------------------------------------


def test_approval_creates_the_city_with_its_admin(cast, applicant, decisions, municipalities):
    application = application_for(applicant, website="https://www.ayto-alcaladehenares.es/")
    response = cast.client("coordinator").post(
        decide_url(application), {"decision": "approve", "reason": "Bienvenidos"}
    )
    assert response.status_code == 302
    city = City.objects.get(ine_code=ALCALA)
    assert (city.name, city.slug, city.municipality_id) == (
        "Alcalá de Henares",
        "alcala-de-henares",
        ALCALA,
    )
    assert (city.province, city.region, city.population) == (
        "Madrid",
        "Comunidad de Madrid",
        203_208,
    )
    assert (round(city.latitude, 2), round(city.longitude, 2)) == (40.48, -3.37)
    assert (city.size_band, city.tier) == (SizeBand.LARGE, MembershipTier.FULL)
    assert city.joined_on == timezone.localdate()
    assert city.website == "https://www.ayto-alcaladehenares.es/"
    technician = Technician.objects.get(user=applicant)
    assert (technician.city, technician.is_city_admin, technician.approved_by) == (
        city,
        True,
        cast.coordinator,
    )
    assert technician.position == "Jefa de servicio de innovación"
    assert city.contact == technician
    application.refresh_from_db()
    assert (application.status, application.city, application.decided_by) == (
        Status.APPROVED,
        city,
        cast.coordinator,
    )
    assert application.decided_at is not None and application.decision_reason == "Bienvenidos"
    assert decisions == [application]


def test_a_small_town_joins_as_an_associate(cast, applicant, decisions, municipalities):
    application = application_for(applicant, BUJALANCE, tier=MembershipTier.ASSOCIATE)
    cast.client("coordinator").post(decide_url(application), {"decision": "approve"})
    city = City.objects.get(ine_code=BUJALANCE)
    assert (city.tier, city.size_band) == (MembershipTier.ASSOCIATE, SizeBand.TOWN)


def test_declining_needs_a_reason(cast, applicant, decisions):
    application = application_for(applicant)
    response = cast.client("coordinator").post(
        decide_url(application), {"decision": "decline", "reason": "  "}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    application.refresh_from_db()
    assert application.status == Status.PENDING and decisions == []


def test_declining_records_the_reason_for_the_applicant(cast, applicant, decisions):
    application = application_for(applicant)
    reason = "Falta el acuerdo del pleno municipal."
    cast.client("coordinator").post(
        decide_url(application), {"decision": "decline", "reason": reason}
    )
    application.refresh_from_db()
    assert (application.status, application.decision_reason) == (Status.DECLINED, reason)
    assert not City.objects.filter(ine_code=ALCALA).exists()
    assert not Technician.objects.filter(user=applicant).exists()
    assert decisions == [application]
    assert reason in signed_in(applicant).get(reverse("cities:membership-mine")).content.decode()


def test_a_bad_decision_is_refused(cast, applicant, decisions):
    application = application_for(applicant)
    response = cast.client("coordinator").post(decide_url(application), {"decision": "maybe"})
    assert response.context["form"].errors["decision"]
    application.refresh_from_db()
    assert application.status == Status.PENDING


@pytest.mark.parametrize("second", ["approve", "decline"])
def test_deciding_twice_is_an_error_and_changes_nothing(
    cast, applicant, decisions, municipalities, second
):
    application = application_for(applicant)
    client = cast.client("coordinator")
    client.post(decide_url(application), {"decision": "approve"})
    decided_at = MembershipApplication.objects.get().decided_at
    response = client.post(decide_url(application), {"decision": second, "reason": "Otra vez"})
    assert response.status_code == 302
    assert any("already decided" in m for m in messages_of(response))
    application.refresh_from_db()
    assert (application.status, application.decided_at) == (Status.APPROVED, decided_at)
    assert application.decision_reason == ""
    assert City.objects.filter(ine_code=ALCALA).count() == 1
    assert len(decisions) == 1


def test_approval_is_refused_when_the_applicant_joined_another_city(
    cast, applicant, decisions, municipalities
):
    application = application_for(applicant)
    TechnicianFactory(user=applicant, city=cast.other_city)
    response = cast.client("coordinator").post(decide_url(application), {"decision": "approve"})
    assert any("Móstoles" in m for m in messages_of(response))
    assert not City.objects.filter(ine_code=ALCALA).exists()
    application.refresh_from_db()
    assert application.status == Status.PENDING and decisions == []


def test_approval_is_refused_when_the_municipality_is_already_a_member(
    cast, applicant, decisions, municipalities
):
    application = application_for(applicant)
    CityFactory(name="Alcalá de Henares", ine_code=ALCALA)
    cast.client("coordinator").post(decide_url(application), {"decision": "approve"})
    assert City.objects.filter(ine_code=ALCALA).count() == 1
    assert not Technician.objects.filter(user=applicant).exists()
    application.refresh_from_db()
    assert application.status == Status.PENDING


def test_the_queue_shows_pending_applications_first_oldest_first(cast, decisions, municipalities):
    old = application_for(verified_user(), BUJALANCE)
    new = application_for(verified_user(), ALCALA)
    done = application_for(verified_user(), "19130", status=Status.DECLINED)
    MembershipApplication.objects.filter(pk=done.pk).update(decided_at=timezone.now())
    response = cast.client("coordinator").get(reverse("cities:membership-list"))
    assert list(response.context["pending"]) == [old, new]
    assert list(response.context["decided"]) == [done]
    body = response.content.decode()
    assert body.index("Bujalance") < body.index("Alcalá") < body.index("Guadalajara")


def test_applicants_see_only_their_own_applications(applicant, municipalities):
    application_for(applicant, BUJALANCE)
    application_for(verified_user(), ALCALA)
    body = signed_in(applicant).get(reverse("cities:membership-mine")).content.decode()
    assert "Bujalance" in body and "Alcalá" not in body


def test_my_applications_shows_the_pending_one_instead_of_the_offer_to_apply(
    applicant, municipalities
):
    client = signed_in(applicant)
    offer = f'href="{reverse("cities:membership-apply")}"'
    before = client.get(reverse("cities:membership-mine"))
    assert offer in before.content.decode() and before.context["pending"] is None
    application = application_for(applicant, BUJALANCE)
    page = client.get(reverse("cities:membership-mine"))
    assert page.context["pending"] == application
    main = page.content.decode().split("</header>", 1)[1]  # the page, not the menu
    assert "Your application for Bujalance" in main and "waiting for the coordinators" in main
    assert offer not in main


# -- end to end ------------------------------------------------------------------------------


def test_apply_then_approve_makes_the_applicant_admin_of_the_new_city(
    cast, applicant, municipalities, django_capture_on_commit_callbacks
):
    client = signed_in(applicant)
    search = client.get(reverse("cities:membership-apply"), {"municipality_q": "Alcala de Hen"})
    assert [m.ine_code for m in search.context["form"].matches] == [ALCALA]
    assert apply(client).status_code == 302
    application = MembershipApplication.objects.get(applicant=applicant)
    assert (
        "Alcalá de Henares"
        in cast.client("coordinator").get(reverse("cities:membership-list")).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        cast.client("coordinator").post(decide_url(application), {"decision": "approve"})
    assert len(callbacks) == 1  # the applicant's notice, queued once the decision commits
    city = City.objects.get(ine_code=ALCALA)
    assert applicant.technician.city == city and applicant.technician.is_city_admin
    edit = signed_in(applicant).get(reverse("cities:city-edit", args=[city.slug]))
    assert edit.status_code == 200
    mine = signed_in(applicant).get(reverse("cities:membership-mine")).content.decode()
    assert reverse("cities:city-detail", args=[city.slug]) in mine


def test_a_concurrent_application_for_the_same_place_becomes_a_form_error(
    applicant, municipalities, monkeypatch
):
    """Two applicants submit at once: both pass clean(), the database constraint decides."""
    from cities.forms import directory as forms

    first = application_for(verified_user())
    monkeypatch.setattr(forms, "pending_application_of", lambda municipality: None)
    response = apply(signed_in(applicant))
    assert response.status_code == 200
    assert "Alcalá de Henares" in str(response.context["form"].errors["municipality"])
    assert list(MembershipApplication.objects.all()) == [first]


def test_a_decided_application_shows_the_decision_and_no_form(cast, applicant, decisions):
    application = application_for(applicant)
    client = cast.client("coordinator")
    client.post(decide_url(application), {"decision": "decline", "reason": "Sin acuerdo"})
    body = client.get(decide_url(application)).content.decode()
    assert "Sin acuerdo" in body and 'name="decision"' not in body
    assert cast.coordinator.get_full_name() in body
