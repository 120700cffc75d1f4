"""The site's menu offers each reader the pages their role opens, and no others."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cities.models import Technician
from tests.factories import TechnicianFactory, UserFactory

EVERYONE = ["cities:city-list", "cities:group-list", "twins:package-list", "api-docs"]
MEMBERS = ["cities:technician-list", "cities:meeting-list", "cities:calendar-settings", "api-token"]
SIGNED_IN = ["account_email", "account_change_password", "mfa_index"]
NEWCOMERS = ["cities:technician-request", "cities:membership-apply", "cities:membership-mine"]


def menu_links(client, user) -> set[str]:
    if user.is_authenticated:
        client.force_login(user)
    html = client.get(reverse("cities:city-list")).content.decode()
    menu = html[html.index("<header") : html.index("</header>")]
    names = EVERYONE + MEMBERS + SIGNED_IN + NEWCOMERS + OTHERS + ["account_login"]
    return {name for name in names if f'href="{reverse(name)}"' in menu}


OTHERS = ["cities:profile-edit", "cities:technician-requests", "cities:membership-list"]


@pytest.fixture
def city_admin(cast):
    return TechnicianFactory(city=cast.owner_city, role=Technician.Role.CITY_ADMIN).user


def expected(*groups) -> set[str]:
    return {name for group in groups for name in group}


@pytest.mark.parametrize(
    "who, links",
    [
        ("anonymous", expected(EVERYONE, ["account_login"])),
        ("other", expected(EVERYONE, MEMBERS, SIGNED_IN, ["cities:profile-edit"])),
        (
            "coordinator",
            expected(
                EVERYONE,
                MEMBERS,
                SIGNED_IN,
                ["cities:technician-requests", "cities:membership-list"],
            ),
        ),
    ],
)
def test_menu_by_role(client, cast, who, links):
    assert menu_links(client, cast.users()[who]) == links


def test_city_admin_sees_requests_to_join(client, cast, city_admin):
    assert menu_links(client, city_admin) == expected(
        EVERYONE, MEMBERS, SIGNED_IN, ["cities:profile-edit", "cities:technician-requests"]
    )


def test_newcomer_is_offered_to_join_a_city_or_apply(client, db):
    assert menu_links(client, UserFactory()) == expected(EVERYONE, SIGNED_IN, NEWCOMERS)


def test_an_applicant_waiting_for_a_decision_is_offered_only_their_applications(
    client, municipalities
):
    from cities.models import MembershipApplication

    user = UserFactory()
    MembershipApplication.objects.create(
        municipality=municipalities.get(pk="28005"),
        applicant=user,
        applicant_position="Jefa",
        tier="full",
    )
    assert menu_links(client, user) == expected(EVERYONE, SIGNED_IN, ["cities:membership-mine"])


def test_pending_technician_sees_no_member_pages_but_the_page_of_their_request(
    client, unapproved_technician
):
    """Regression: while the request waited, no link led back to the page showing it."""
    assert menu_links(client, unapproved_technician) == expected(
        EVERYONE, SIGNED_IN, ["cities:technician-request"]
    )
    html = client.get(reverse("cities:city-list"), headers={"accept-language": "en"})
    assert "My request to join a city" in html.content.decode()


def verified_newcomer():
    from allauth.account.models import EmailAddress

    user = UserFactory()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.mark.parametrize("who", ["newcomer", "pending", "owner", "coordinator"])
def test_every_link_of_the_menu_opens_for_its_reader(client, cast, unapproved_technician, who):
    """Regression: a newcomer's menu offered "API token", whose page answered 403."""
    users = {"newcomer": verified_newcomer(), "pending": unapproved_technician, **cast.users()}
    for name in menu_links(client, users[who]):
        response = client.get(reverse(name))
        assert response.status_code in {200, 302}, (name, response.status_code)


def test_menu_reads_the_role_once_per_request(client, cast):
    """The menu asks about the role a dozen times; the coordinators' group is read once."""
    client.force_login(cast.owner)
    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("api-token"))
    group_lookups = [q["sql"] for q in queries.captured_queries if "auth_user_groups" in q["sql"]]
    assert len(group_lookups) == 1
