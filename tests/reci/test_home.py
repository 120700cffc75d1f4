"""The home page shows the network: its figures, the next meetings (to members), the working
groups and the newest member cities, then the scenario packages."""

import re
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from cities.models import Meeting
from cities.models.meetings import MEETING_TZ
from tests.factories import (
    CityFactory,
    MeetingFactory,
    TechnicianFactory,
    UserFactory,
    WorkingGroupFactory,
    join_group,
)


def home(client, user):
    if user.is_authenticated:
        client.force_login(user)
    return client.get(reverse("home"))


def in_days(days: float):
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0)


@pytest.mark.parametrize(
    "who, sees_meetings",
    [("coordinator", True), ("owner", True), ("other", True), ("anonymous", False)],
)
def test_everyone_sees_the_network_and_only_members_its_meetings(client, cast, who, sees_meetings):
    meeting = MeetingFactory(title="Reunión de movilidad")
    response = home(client, cast.users()[who])
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="/groups/{meeting.group.slug}/"' in page
    assert ("Reunión de movilidad" in page) is sees_meetings
    assert (f'href="/meetings/{meeting.pk}/"' in page) is sees_meetings
    assert (f'href="{reverse("account_login")}?next=/"' in page) is not sees_meetings


def home_in_english(user):
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    return client.get(reverse("home")).content.decode()


def test_a_signed_in_non_member_is_told_how_to_join_not_asked_to_sign_in(cast):
    """Regression: a signed-in newcomer read "Sign in to see them." about the meetings."""
    MeetingFactory(title="Reunión de movilidad")
    page = home_in_english(UserFactory())
    assert "Reunión de movilidad" not in page
    assert "Sign in to see them" not in page
    assert f'href="{reverse("account_login")}' not in page
    assert "The network's meetings are for its members." in page
    assert f'<a href="{reverse("cities:technician-request")}">Ask to join your city' in page
    assert f'<a href="{reverse("cities:membership-apply")}">' in page


def test_a_user_waiting_for_their_request_to_join_is_shown_it(cast, unapproved_technician):
    page = home_in_english(unapproved_technician)
    assert "Sign in to see them" not in page
    assert (
        f'<a href="{reverse("cities:technician-request")}">Your request to join Granada is '
        "waiting for its decision.</a>"
    ) in page
    assert reverse("cities:membership-apply") not in page


def test_an_applicant_waiting_for_the_decision_is_shown_their_application(cast, municipalities):
    from cities.models import MembershipApplication

    user = UserFactory()
    MembershipApplication.objects.create(
        municipality=municipalities.get(pk="28005"), applicant=user, applicant_position="Jefa"
    )
    page = home_in_english(user)
    assert "Sign in to see them" not in page
    assert (
        f'<a href="{reverse("cities:membership-mine")}">Your application for Alcalá de Henares '
        "is waiting for the coordinators' decision.</a>"
    ) in page


def test_the_figures_count_cities_approved_technicians_and_active_groups(client, cast):
    TechnicianFactory(city=cast.owner_city, approved=False)
    WorkingGroupFactory(chair_city=cast.owner_city)
    WorkingGroupFactory(chair_city=cast.owner_city, is_active=False)
    page = home(client, cast.anonymous).content.decode()
    # 2 cities (cast), 2 approved technicians (owner, other), 1 active group.
    assert re.findall(r'<span class="figure">(\d+)</span>', page) == ["2", "2", "1"]


def test_the_next_five_scheduled_meetings_soonest_first(client, cast):
    for days in (9, 2, 7, 4, 3, 8, 5):
        MeetingFactory(
            title=f"En {days} días", starts_at=in_days(days), ends_at=in_days(days + 0.1)
        )
    MeetingFactory(title="Ya pasó", starts_at=in_days(-1), ends_at=in_days(-0.9))
    MeetingFactory(title="Cancelada", starts_at=in_days(1), status=Meeting.Status.CANCELLED)
    MeetingFactory(title="Sin fecha", starts_at=None, ends_at=None, status="scheduling")
    MeetingFactory(title="Empezada", starts_at=in_days(-0.01), ends_at=in_days(0.05))
    page = home(client, cast.owner).content.decode()
    shown = ["Empezada", "En 2 días", "En 3 días", "En 4 días", "En 5 días"]
    assert [title for title in shown if title in page] == shown
    assert sorted(shown, key=page.index) == shown
    for title in ("En 7 días", "Ya pasó", "Cancelada", "Sin fecha"):
        assert title not in page


def test_meeting_times_are_shown_in_madrid_time_and_local_format(client, cast):
    starts_at = in_days(20).replace(hour=9, minute=0, second=0)  # 10:00 or 11:00 in Madrid
    MeetingFactory(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1))
    page = home(client, cast.owner).content.decode()
    local = timezone.localtime(starts_at, MEETING_TZ)
    with translation.override("es"):
        assert f"{date_format(local, 'DATE_FORMAT')}, {local:%H:%M}" in page


def test_network_meetings_show_their_kind_instead_of_a_group(client, cast):
    MeetingFactory(title="Comité de otoño", kind=Meeting.Kind.TECHNICAL_COMMITTEE, group=None)
    page = home(client, cast.coordinator).content.decode()
    with translation.override("es"):
        assert str(Meeting.Kind.TECHNICAL_COMMITTEE.label) in page


def test_groups_are_listed_with_chair_city_and_member_count(client, cast):
    group = WorkingGroupFactory(name="Energía y clima", chair_city=cast.other_city)
    join_group(group, cast.owner.technician)
    join_group(group, cast.other.technician)
    WorkingGroupFactory(name="Grupo cerrado", is_active=False)
    page = home(client, cast.anonymous).content.decode()
    row = page.split(f'<a href="/groups/{group.slug}/">Energía y clima</a>')[1].split("</tr>")[0]
    assert "Móstoles" in row and '<td class="num">2</td>' in row
    assert "Grupo cerrado" not in page


def test_newest_member_cities_first_and_at_most_six(client, cast):
    for year in range(2015, 2023):
        CityFactory(name=f"Ciudad {year}", slug=f"ciudad-{year}", joined_on=date(year, 3, 1))
    page = home(client, cast.anonymous).content.decode()
    newest = page.split('<ul class="cities">')[1].split("</ul>")[0]
    expected = [f'href="/cities/ciudad-{year}/"' for year in range(2022, 2016, -1)]
    assert sorted(expected, key=newest.index) == expected
    assert "ciudad-2016" not in newest and "/cities/granada/" not in newest


def add_network_rows(n: int) -> None:
    for _ in range(n):
        city = CityFactory(joined_on=date(2024, 1, 1))
        group = WorkingGroupFactory(chair_city=city)
        join_group(group, TechnicianFactory(city=city))
        MeetingFactory(group=group)
        MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None)


@pytest.mark.parametrize("who", ["coordinator", "anonymous"])
def test_the_number_of_queries_does_not_grow_with_the_network(client, cast, who):
    user = cast.users()[who]
    if user.is_authenticated:
        client.force_login(user)  # once, outside the counted requests

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("home")).status_code == 200
        return len(captured)

    add_network_rows(2)
    few = queries()
    add_network_rows(4)
    assert queries() == few
