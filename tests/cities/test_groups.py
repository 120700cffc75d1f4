"""Working groups and their work plans: who may do what, the workflows, and query counts."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Page, Site

from cities.forms.groups import WorkPlanItemForm
from cities.models import ExpertiseArea, GroupMembership, WorkingGroup, WorkPlanItem
from tests.conftest import form_token
from tests.factories import (
    CityFactory,
    MeetingFactory,
    TechnicianFactory,
    WorkingGroupFactory,
    WorkPlanItemFactory,
    join_group,
    make_coordinator,
)
from twins.models import ScenarioPackage, Visibility

CAST = ["coordinator", "owner", "other", "anonymous"]
COORDINATORS_ONLY = [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.fixture
def group(cast):
    return WorkingGroupFactory(
        name="Movilidad sostenible", slug="movilidad", chair_city=cast.owner_city
    )


@pytest.fixture
def owned_item(cast, group):
    """An item of the plan owned by the owner technician, who is a member of the group."""
    join_group(group, cast.owner.technician)
    return WorkPlanItemFactory(group=group, owner=cast.owner.technician, title="Aforos")


def detail_url(group) -> str:
    return reverse("cities:group-detail", args=[group.slug])


def item_url(name: str, item) -> str:
    return reverse(f"cities:workitem-{name}", args=[item.group.slug, item.pk])


def case_study(title: str, live: bool = True) -> Page:
    site_root = Site.objects.get(is_default_site=True).root_page
    return site_root.add_child(instance=Page(title=title, slug=title.lower(), live=live))


def package(city, slug: str, visibility=Visibility.PUBLIC) -> ScenarioPackage:
    return ScenarioPackage.objects.create(
        owner_city=city, slug=slug, title=f"Paquete {slug}", visibility=visibility
    )


# --- The permission matrix: every view, the whole cast -------------------------------------


@pytest.mark.parametrize("who", CAST)
def test_group_list_is_public(cast, group, who):
    response = cast.client(who).get(reverse("cities:group-list"))
    assert response.status_code == 200
    assert group.name in response.content.decode()


@pytest.mark.parametrize("who", CAST)
def test_group_page_is_public_and_only_members_of_the_network_see_who_takes_part(cast, group, who):
    join_group(group, cast.other.technician)
    response = cast.client(who).get(detail_url(group))
    assert response.status_code == 200
    body = response.content.decode()
    assert group.remit in body
    assert (cast.other.technician.display_name in body) is (who != "anonymous")
    assert response.context["group"].member_count == 1


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 403), ("owner", 302), ("other", 302), ("anonymous", 302)]
)
def test_only_approved_technicians_join_groups(cast, group, who, status):
    response = cast.client(who).post(reverse("cities:group-join", args=[group.slug]))
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)
        assert detail_url(group) in response["Location"]
    joined = GroupMembership.objects.filter(group=group).exists()
    assert joined is (who in {"owner", "other"})


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 403), ("owner", 302), ("other", 302), ("anonymous", 302)]
)
def test_only_technicians_leave_groups(cast, group, who, status):
    for user in (cast.owner, cast.other):
        join_group(group, user.technician)
    response = cast.client(who).post(reverse("cities:group-leave", args=[group.slug]))
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)
    remaining = GroupMembership.objects.filter(group=group).count()
    assert remaining == (1 if who in {"owner", "other"} else 2)


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_see_the_new_group_form(cast, who, status):
    response = cast.client(who).get(reverse("cities:group-create"))
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_create_groups(cast, who, status):
    data = {
        "name": "Energía",
        "area": ExpertiseArea.ENERGY,
        "remit": "Eficiencia energética municipal.",
        "chair_city": cast.other_city.pk,
        "is_active": "on",
    }
    response = cast.client(who).post(reverse("cities:group-create"), data)
    created = WorkingGroup.objects.filter(name="Energía").first()
    if who == "coordinator":
        assert response.status_code == 302
        assert response["Location"] == detail_url(created)
    else:
        assert response.status_code == status
        assert created is None


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_see_the_group_edit_form(cast, group, who, status):
    response = cast.client(who).get(reverse("cities:group-edit", args=[group.slug]))
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_edit_groups(cast, group, who, status):
    data = {
        "name": "Movilidad activa",
        "area": group.area,
        "remit": group.remit,
        "chair_city": cast.other_city.pk,
    }
    response = cast.client(who).post(reverse("cities:group-edit", args=[group.slug]), data)
    group.refresh_from_db()
    if who == "coordinator":
        assert response.status_code == 302
        assert (group.name, group.chair_city, group.is_active) == (
            "Movilidad activa",
            cast.other_city,
            False,
        )
        assert group.slug == "movilidad"  # links to the group keep working
    else:
        assert response.status_code == status
        assert group.name == "Movilidad sostenible"


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_see_the_new_item_form(cast, group, who, status):
    response = cast.client(who).get(reverse("cities:workitem-create", args=[group.slug]))
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_add_work_plan_items(cast, group, who, status):
    url = reverse("cities:workitem-create", args=[group.slug])
    response = cast.client(who).post(url, {"title": "Inventario", "status": "planned"})
    assert response.status_code == (302 if who == "coordinator" else status)
    assert WorkPlanItem.objects.filter(group=group).exists() is (who == "coordinator")


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_see_the_item_edit_form(cast, owned_item, who, status):
    response = cast.client(who).get(item_url("edit", owned_item))
    assert response.status_code == status


@pytest.mark.parametrize(("who", "status"), COORDINATORS_ONLY)
def test_only_coordinators_edit_work_plan_items(cast, owned_item, who, status):
    data = {"title": "Aforos de bicis", "status": "in_progress", "owner": owned_item.owner_id}
    response = cast.client(who).post(item_url("edit", owned_item), data)
    assert response.status_code == (302 if who == "coordinator" else status)
    owned_item.refresh_from_db()
    assert (owned_item.title == "Aforos de bicis") is (who == "coordinator")


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_delete_work_plan_items(cast, owned_item, who, status):
    response = cast.client(who).post(item_url("delete", owned_item))
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)
    assert WorkPlanItem.objects.filter(pk=owned_item.pk).exists() is (who != "coordinator")


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_reorder_the_plan(cast, owned_item, who, status):
    second = WorkPlanItemFactory(group=owned_item.group, position=1, title="Segunda")
    response = cast.client(who).post(item_url("move", second), {"direction": "up"})
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)
    plan = list(owned_item.group.work_items.values_list("title", flat=True))
    assert plan == (["Segunda", "Aforos"] if who == "coordinator" else ["Aforos", "Segunda"])


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 302), ("other", 403), ("anonymous", 302)]
)
def test_the_item_owner_and_coordinators_update_its_status(cast, owned_item, who, status):
    response = cast.client(who).post(item_url("status", owned_item), {"status": "done"})
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)
    owned_item.refresh_from_db()
    assert (owned_item.status == WorkPlanItem.Status.DONE) is (status == 302 and who != "anonymous")


@pytest.mark.parametrize(
    "name", ["group-join", "group-leave", "workitem-delete", "workitem-move", "workitem-status"]
)
def test_changes_are_posts_only(cast, owned_item, name):
    args = [owned_item.group.slug] if name.startswith("group") else [owned_item.group.slug, 1]
    response = cast.client("coordinator").get(reverse(f"cities:{name}", args=args))
    assert response.status_code == 405


@pytest.mark.parametrize(
    "url",
    [
        reverse("cities:group-detail", args=["no-such-group"]),
        reverse("cities:group-edit", args=["no-such-group"]),
        reverse("cities:workitem-create", args=["no-such-group"]),
    ],
)
def test_pages_of_a_missing_group_are_not_found(cast, url):
    assert cast.client("coordinator").get(url).status_code == 404


def test_an_item_is_reached_only_through_its_own_group(cast, owned_item):
    elsewhere = WorkingGroupFactory()
    url = reverse("cities:workitem-edit", args=[elsewhere.slug, owned_item.pk])
    assert cast.client("coordinator").get(url).status_code == 404
    url = reverse("cities:workitem-status", args=[elsewhere.slug, owned_item.pk])
    assert cast.client("owner").post(url, {"status": "done"}).status_code == 404


# --- Joining and leaving -------------------------------------------------------------------


def test_a_technician_joins_and_then_leaves(cast, group):
    client = cast.client("owner")
    client.post(reverse("cities:group-join", args=[group.slug]))
    page = client.get(detail_url(group)).content.decode()
    assert cast.owner.technician.display_name in page
    assert reverse("cities:group-leave", args=[group.slug]) in page
    assert reverse("cities:group-join", args=[group.slug]) not in page

    client.post(reverse("cities:group-leave", args=[group.slug]))
    assert not GroupMembership.objects.filter(group=group).exists()
    assert (
        reverse("cities:group-join", args=[group.slug])
        in client.get(detail_url(group)).content.decode()
    )


def test_joining_twice_keeps_one_membership(cast, group):
    client = cast.client("owner")
    for _ in range(2):
        client.post(reverse("cities:group-join", args=[group.slug]))
    assert GroupMembership.objects.filter(group=group).count() == 1


def test_leaving_a_group_one_is_not_in_says_so(cast, group):
    response = cast.client("owner").post(
        reverse("cities:group-leave", args=[group.slug]), follow=True
    )
    assert "You were not a member" in str(list(response.context["messages"])[0])


def test_an_inactive_group_refuses_joins(cast, group):
    group.is_active = False
    group.save()
    client = cast.client("owner")
    assert (
        reverse("cities:group-join", args=[group.slug])
        not in client.get(detail_url(group)).content.decode()
    )
    response = client.post(reverse("cities:group-join", args=[group.slug]))
    assert response.status_code == 403
    assert not GroupMembership.objects.exists()


def test_members_may_still_leave_an_inactive_group(cast, group):
    join_group(group, cast.owner.technician)
    group.is_active = False
    group.save()
    response = cast.client("owner").post(reverse("cities:group-leave", args=[group.slug]))
    assert response.status_code == 302
    assert not GroupMembership.objects.exists()


def test_an_unapproved_technician_cannot_join(cast, group, unapproved_technician):
    client = Client()
    client.force_login(unapproved_technician)
    assert client.post(reverse("cities:group-join", args=[group.slug])).status_code == 403
    assert not GroupMembership.objects.exists()


# --- The list ------------------------------------------------------------------------------


def list_names(client, **params) -> list[str]:
    response = client.get(reverse("cities:group-list"), params)
    return [group.name for group in response.context["groups"]]


def test_the_list_shows_active_groups_and_inactive_ones_on_request(client, db):
    WorkingGroupFactory(name="Activo")
    WorkingGroupFactory(name="Cerrado", is_active=False)
    assert list_names(client) == ["Activo"]
    assert list_names(client, archived="1") == ["Cerrado"]
    assert "?archived=1" in client.get(reverse("cities:group-list")).content.decode()


def test_search_ignores_accents_and_case(client, db):
    WorkingGroupFactory(name="Energía y Clima")
    WorkingGroupFactory(name="Agua")
    assert list_names(client, q="ENERGIA") == ["Energía y Clima"]
    assert list_names(client, q="energía") == ["Energía y Clima"]


def test_the_list_filters_by_area_and_names_a_bad_area(client, db):
    WorkingGroupFactory(name="Datos", area=ExpertiseArea.DATA)
    WorkingGroupFactory(name="Agua", area=ExpertiseArea.WATER_WASTE)
    assert list_names(client, area="data") == ["Datos"]
    response = client.get(reverse("cities:group-list"), {"area": "nonsense", "q": "dat"})
    assert [g.name for g in response.context["groups"]] == ["Datos"]  # the valid filter holds
    assert "area" in response.context["form"].errors


def test_the_list_counts_members_and_their_cities(client, cast, group):
    for user in (cast.owner, cast.other):
        join_group(group, user.technician)
    join_group(group, TechnicianFactory(city=cast.owner_city))
    row = client.get(reverse("cities:group-list")).context["groups"][0]
    assert (row.member_count, row.city_count) == (3, 2)


def test_the_list_shows_the_next_scheduled_meeting_only(client, group):
    now = timezone.now()
    soon, later = now + timedelta(days=3), now + timedelta(days=10)
    MeetingFactory(group=group, starts_at=now - timedelta(days=1))  # past
    MeetingFactory(group=group, starts_at=now + timedelta(days=1), status="cancelled")
    MeetingFactory(group=group, starts_at=later)
    MeetingFactory(group=group, starts_at=soon)
    row = client.get(reverse("cities:group-list")).context["groups"][0]
    assert row.next_meeting_at == soon


def test_the_list_shows_dates_in_madrid_time(client, group):
    from datetime import UTC, datetime

    MeetingFactory(group=group, starts_at=datetime(2099, 7, 1, 8, 0, tzinfo=UTC))
    page = client.get(reverse("cities:group-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "10:00" in page  # 08:00 UTC is 10:00 in Madrid in summer


# --- The group's page ----------------------------------------------------------------------


def test_anonymous_visitors_see_counts_but_no_names(client, cast, owned_item):
    page = client.get(detail_url(owned_item.group)).content.decode()
    assert cast.owner.technician.display_name not in page
    assert "Aforos" in page
    assert cast.owner_city.name in page  # the owner's city, not the person


def test_overdue_items_are_marked_unless_closed(client, group):
    yesterday = timezone.localdate() - timedelta(days=1)
    late = WorkPlanItemFactory(group=group, due_date=yesterday, position=0)
    done = WorkPlanItemFactory(group=group, due_date=yesterday, position=1, status="done")
    future = WorkPlanItemFactory(group=group, due_date=yesterday + timedelta(days=9), position=2)
    items = {i.pk: i.is_overdue for i in client.get(detail_url(group)).context["items"]}
    assert items == {late.pk: True, done.pk: False, future.pk: False}


def test_the_plan_links_to_its_case_study_package_and_other_link(client, cast, group):
    page = case_study("Supermanzanas")
    pkg = package(cast.owner_city, "aforos")
    WorkPlanItemFactory(
        group=group, case_study=page, scenario_package=pkg, link="https://example.org/x"
    )
    body = client.get(detail_url(group)).content.decode()
    assert f'href="{page.url}"' in body
    assert f'href="{pkg.get_absolute_url()}"' in body
    assert 'href="https://example.org/x"' in body


@pytest.mark.parametrize("who", CAST)
def test_the_plan_links_a_private_package_only_for_who_may_see_it(cast, group, who):
    pkg = package(cast.owner_city, "privado", Visibility.CITY)
    WorkPlanItemFactory(group=group, scenario_package=pkg)
    body = cast.client(who).get(detail_url(group)).content.decode()
    assert (pkg.get_absolute_url() in body) is (who in {"coordinator", "owner"})


def test_an_unpublished_case_study_is_not_linked(client, group):
    page = case_study("Borrador")
    WorkPlanItemFactory(group=group, case_study=page)
    page.unpublish()
    assert client.get(detail_url(group)).context["items"][0].case_study_url is None


@pytest.mark.parametrize("who", CAST)
def test_meetings_are_split_into_upcoming_and_past_and_linked_for_members(cast, group, who):
    now = timezone.now()
    upcoming = MeetingFactory(group=group, title="Próxima")
    past = MeetingFactory(
        group=group,
        title="Anterior",
        starts_at=now - timedelta(days=30),
        ends_at=now - timedelta(days=30) + timedelta(hours=1),
    )
    response = cast.client(who).get(detail_url(group))
    assert response.context["upcoming_meetings"] == [upcoming]
    assert response.context["past_meetings"] == [past]
    linked = f'href="/meetings/{upcoming.pk}/"' in response.content.decode()
    assert linked is (who != "anonymous")


@pytest.mark.parametrize(
    ("who", "shown"),
    [("coordinator", True), ("owner", True), ("other", False), ("anonymous", False)],
)
def test_only_the_owner_and_coordinators_get_the_status_control(cast, owned_item, who, shown):
    body = cast.client(who).get(detail_url(owned_item.group)).content.decode()
    assert (item_url("status", owned_item) in body) is shown
    assert (item_url("move", owned_item) in body) is False  # a plan of one item does not move
    assert (item_url("edit", owned_item) in body) is (who == "coordinator")


# --- The work plan -------------------------------------------------------------------------


def test_the_item_owner_updates_its_status(cast, owned_item):
    response = cast.client("owner").post(item_url("status", owned_item), {"status": "in_progress"})
    assert response["Location"] == detail_url(owned_item.group) + "#plan"
    owned_item.refresh_from_db()
    assert owned_item.status == WorkPlanItem.Status.IN_PROGRESS
    assert owned_item.updated_by == cast.owner


def test_another_technician_cannot_update_the_status(cast, owned_item):
    join_group(owned_item.group, cast.other.technician)  # being a member is not enough
    response = cast.client("other").post(item_url("status", owned_item), {"status": "done"})
    assert response.status_code == 403
    owned_item.refresh_from_db()
    assert owned_item.status == WorkPlanItem.Status.PLANNED


@pytest.mark.parametrize("status", ["finished", ""])
def test_a_bad_status_is_refused_with_a_message(cast, owned_item, status):
    response = cast.client("owner").post(item_url("status", owned_item), {"status": status})
    assert response.status_code == 400
    assert "Unknown status" in response.content.decode()
    owned_item.refresh_from_db()
    assert owned_item.status == WorkPlanItem.Status.PLANNED


def plan_titles(group) -> list[str]:
    return list(WorkPlanItem.objects.filter(group=group).values_list("title", flat=True))


@pytest.fixture
def plan(group):
    return [WorkPlanItemFactory(group=group, title=t, position=i) for i, t in enumerate("ABC")]


def test_moving_an_item_swaps_it_with_its_neighbour(cast, plan):
    client = cast.client("coordinator")
    client.post(item_url("move", plan[0]), {"direction": "down"})
    assert plan_titles(plan[0].group) == ["B", "A", "C"]
    client.post(item_url("move", plan[2]), {"direction": "up"})
    assert plan_titles(plan[0].group) == ["B", "C", "A"]


def test_moving_past_the_end_changes_nothing(cast, plan):
    response = cast.client("coordinator").post(
        item_url("move", plan[0]), {"direction": "up"}, follow=True
    )
    assert plan_titles(plan[0].group) == ["A", "B", "C"]
    assert "already at that end" in str(list(response.context["messages"])[0])


def test_items_with_equal_positions_still_move(cast, group):
    first, second = (WorkPlanItemFactory(group=group, title=t, position=0) for t in "XY")
    cast.client("coordinator").post(item_url("move", second), {"direction": "up"})
    assert plan_titles(group) == ["Y", "X"]


def test_a_bad_direction_is_refused(cast, plan):
    response = cast.client("coordinator").post(item_url("move", plan[1]), {"direction": "sideways"})
    assert response.status_code == 400
    assert plan_titles(plan[0].group) == ["A", "B", "C"]


def test_new_items_go_to_the_end_of_the_plan(cast, plan):
    group = plan[0].group
    url = reverse("cities:workitem-create", args=[group.slug])
    cast.client("coordinator").post(url, {"title": "D", "status": "planned"})
    assert plan_titles(group) == ["A", "B", "C", "D"]
    assert WorkPlanItem.objects.get(title="D").position == 3


def test_an_item_can_be_filled_in_completely(cast, group):
    join_group(group, cast.owner.technician)
    page, pkg = case_study("Caso"), package(cast.other_city, "ruido")
    data = {
        "title": "Mapa de ruido",
        "description": "Con sensores.",
        "owner": cast.owner.technician.pk,
        "status": "blocked",
        "due_date": "2027-03-31",
        "case_study": page.pk,
        "scenario_package": pkg.pk,
        "link": "https://example.org/ruido",
    }
    url = reverse("cities:workitem-create", args=[group.slug])
    response = cast.client("coordinator").post(url, data)
    assert response.status_code == 302
    item = WorkPlanItem.objects.get()
    assert (item.owner, item.case_study_id, item.scenario_package, str(item.due_date)) == (
        cast.owner.technician,
        page.pk,
        pkg,
        "2027-03-31",
    )
    assert item.updated_by == cast.coordinator


def post_item(cast, group, **fields):
    data = {"title": "T", "status": "planned", **fields}
    url = reverse("cities:workitem-create", args=[group.slug])
    return cast.client("coordinator").post(url, data)


def test_the_owner_must_be_a_member_of_the_group(cast, group):
    response = post_item(cast, group, owner=cast.other.technician.pk)
    assert response.status_code == 200
    assert response.context["form"].errors["owner"] == [
        "The owner must be a member of this working group."
    ]
    assert not WorkPlanItem.objects.exists()


def test_an_owner_who_left_may_stay_on_the_item(cast, owned_item):
    GroupMembership.objects.filter(technician=cast.owner.technician).delete()
    data = {"title": "Aforos 2", "status": "planned", "owner": cast.owner.technician.pk}
    response = cast.client("coordinator").post(item_url("edit", owned_item), data)
    assert response.status_code == 302


def test_the_case_study_must_be_a_published_page(cast, group):
    draft = case_study("Borrador", live=False)
    response = post_item(cast, group, case_study=draft.pk)
    assert "case_study" in response.context["form"].errors
    assert not WorkPlanItem.objects.exists()


def test_the_site_home_is_not_offered_as_a_case_study(cast, group):
    """The list offered Wagtail's "Welcome to your new Wagtail site!" home page."""
    page = case_study("Caso")
    home = Site.objects.get(is_default_site=True).root_page
    choices = WorkPlanItemForm(group=group, user=cast.coordinator).fields["case_study"].queryset
    assert page in choices and home not in choices
    response = post_item(cast, group, case_study=home.pk)
    assert "case_study" in response.context["form"].errors


@pytest.mark.parametrize("due", ["0001-01-01", "1999-12-31", "9999-12-31"])
def test_a_due_date_centuries_away_is_refused(cast, group, due):
    response = post_item(cast, group, due_date=due)
    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["due_date"][0]
        .startswith("The due date must be between 2000 and ")
    )
    assert not WorkPlanItem.objects.exists()


def test_a_due_date_in_this_decade_is_accepted(cast, group):
    due = timezone.localdate() + timedelta(days=9 * 365)
    assert post_item(cast, group, due_date=due.isoformat()).status_code == 302


def test_the_scenario_package_must_be_visible_to_the_editor(cast, group):
    private = package(cast.owner_city, "privado", Visibility.CITY)
    data = {"title": "T", "status": "planned", "scenario_package": private.pk}
    assert not WorkPlanItemForm(data, group=group, user=cast.other).is_valid()
    assert WorkPlanItemForm(data, group=group, user=cast.owner).is_valid()


def test_a_bad_link_is_refused(cast, group):
    response = post_item(cast, group, link="not a url", due_date="31/31/2027")
    errors = response.context["form"].errors
    assert set(errors) == {"link", "due_date"}
    assert not WorkPlanItem.objects.exists()


def test_a_coordinator_deletes_an_item(cast, owned_item):
    response = cast.client("coordinator").post(item_url("delete", owned_item))
    assert response["Location"] == detail_url(owned_item.group) + "#plan"
    assert not WorkPlanItem.objects.exists()


# --- Creating and editing groups -----------------------------------------------------------


def create_group(cast, name: str):
    data = {"name": name, "area": "data", "remit": "R", "chair_city": cast.owner_city.pk}
    return cast.client("coordinator").post(reverse("cities:group-create"), data)


def test_a_new_group_gets_a_unique_slug(cast, group):
    create_group(cast, "Movilidad")
    create_group(cast, "Movilidad")
    slugs = set(WorkingGroup.objects.values_list("slug", flat=True))
    assert slugs == {"movilidad", "movilidad-2", "movilidad-3"}


def test_a_group_never_takes_the_new_groups_path(cast):
    create_group(cast, "New")
    group = WorkingGroup.objects.get()
    assert group.slug == "new-2"
    assert cast.client("anonymous").get(detail_url(group)).status_code == 200


def test_group_addresses_are_lower_case_on_the_pages_as_in_the_api(cast):
    """The pages make the address from the name; the model refuses upper case and any case
    of a page's path, whoever saves the group (the API, the admin)."""
    from django.core.exceptions import ValidationError

    create_group(cast, "ENERGÍA Urbana")
    assert WorkingGroup.objects.get().slug == "energia-urbana"
    for slug, error in (("NEW", "page of the site"), ("Energia", "in lower case")):
        group = WorkingGroup(
            name="E", slug=slug, area="data", remit="R", chair_city=cast.owner_city
        )
        with pytest.raises(ValidationError) as refused:
            group.full_clean()
        assert error in refused.value.message_dict["slug"][0]


def test_a_group_needs_its_fields(cast):
    response = cast.client("coordinator").post(reverse("cities:group-create"), {})
    assert set(response.context["form"].errors) == {"name", "area", "remit", "chair_city"}
    assert not WorkingGroup.objects.exists()


def group_form_data(cast, **fields):
    page = cast.client("coordinator").get(reverse("cities:group-create"))
    token = form_token(page)
    return {
        "name": "Energía",
        "area": ExpertiseArea.ENERGY,
        "remit": "Eficiencia energética municipal.",
        "chair_city": cast.other_city.pk,
        "submission": token,
        **fields,
    }


def test_the_web_form_moves_on_to_the_next_slug_when_one_is_taken_meanwhile(cast):
    WorkingGroupFactory(slug="energia")
    with mock.patch.object(WorkingGroup, "unique_slug", side_effect=["energia", "energia-2"]):
        response = cast.client("coordinator").post(
            reverse("cities:group-create"), group_form_data(cast)
        )
    assert response.status_code == 302
    assert WorkingGroup.objects.get(name="Energía").slug == "energia-2"


def test_a_group_form_sent_twice_creates_one_group(cast):
    """A double click on "create" made two groups."""
    data = group_form_data(cast)
    client = cast.client("coordinator")
    first = client.post(reverse("cities:group-create"), data)
    second = client.post(reverse("cities:group-create"), data, follow=True)
    group = WorkingGroup.objects.get(name="Energía")
    assert first["Location"] == second.redirect_chain[0][0] == detail_url(group)
    assert "already been sent" in second.content.decode()


def test_two_forms_make_two_groups_and_a_refused_form_may_be_sent_again(cast):
    client = cast.client("coordinator")
    refused = group_form_data(cast, chair_city="")
    assert client.post(reverse("cities:group-create"), refused).status_code == 200
    client.post(reverse("cities:group-create"), {**refused, "chair_city": cast.other_city.pk})
    client.post(reverse("cities:group-create"), group_form_data(cast))
    assert WorkingGroup.objects.filter(name="Energía").count() == 2


def test_a_work_plan_item_form_sent_twice_adds_one_item(cast, group):
    url = reverse("cities:workitem-create", args=[group.slug])
    client = cast.client("coordinator")
    token = form_token(client.get(url))
    data = {"title": "Aforos", "status": "planned", "submission": token}
    assert client.post(url, data).status_code == client.post(url, data).status_code == 302
    assert WorkPlanItem.objects.filter(title="Aforos").count() == 1


# --- Query counts --------------------------------------------------------------------------


def populate(group, n: int) -> None:
    """n members (from different cities), n plan items with links, n meetings."""
    for i in range(n):
        technician = TechnicianFactory()
        join_group(group, technician)
        WorkPlanItemFactory(
            group=group,
            owner=technician,
            position=i,
            due_date=timezone.localdate() - timedelta(days=i - 1),
            case_study=case_study(f"caso-{group.slug}-{i}"),
            scenario_package=package(technician.city, f"p{i}"),
            link="https://example.org/",
        )
        MeetingFactory(group=group, starts_at=timezone.now() + timedelta(days=i - n // 2 + 0.5))


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_group_page_makes_as_many_queries_for_9_rows_as_for_3(db):
    coordinator = make_coordinator()
    client = Client()
    client.force_login(coordinator)
    small, large = WorkingGroupFactory(), WorkingGroupFactory()
    populate(small, 3)
    populate(large, 9)
    client.get(detail_url(small))  # warm the caches (site root paths) shared by both pages
    three = count_queries(client, detail_url(small))
    nine = count_queries(client, detail_url(large))
    assert three == nine
    assert len(client.get(detail_url(large)).context["items"]) == 9


def test_the_group_list_makes_as_many_queries_for_9_groups_as_for_3(client, db):
    def make(n):
        WorkingGroup.objects.all().delete()
        for _ in range(n):
            group = WorkingGroupFactory(chair_city=CityFactory())
            join_group(group, TechnicianFactory())
            MeetingFactory(group=group)

    make(3)
    three = count_queries(client, reverse("cities:group-list"))
    make(9)
    nine = count_queries(client, reverse("cities:group-list"))
    assert three == nine
