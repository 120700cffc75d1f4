"""The demo network (cities/demo.py, `manage.py seed_network`): real places, invented people."""

from datetime import UTC, datetime, timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from cities.demo import (
    COORDINATOR_EMAIL,
    DEMO_PASSWORD,
    SEED,
    ensure_coordinator,
    network_counts,
    pick_municipalities,
    seed_network,
)
from cities.models import (
    COORDINATORS_GROUP,
    RSVP,
    City,
    Meeting,
    MembershipTier,
    Municipality,
    SizeBand,
    SlotAvailability,
    Technician,
    WorkingGroup,
    WorkPlanItem,
    is_coordinator,
)
from cities.models.meetings import MEETING_TZ
from cities.municipalities import load_reference_table
from tests.factories import CityFactory, TechnicianFactory

# A Thursday evening in winter (Madrid is UTC+1), and one in summer (UTC+2).
NOW = datetime(2026, 12, 3, 20, 30, tzinfo=UTC)
SUMMER_NOW = datetime(2026, 7, 2, 20, 30, tzinfo=UTC)


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """One seeding shared by the read-only tests of a class, rolled back after them."""
    with django_db_blocker.unblock(), transaction.atomic():
        if Municipality.objects.count() < 8000:
            load_reference_table(Municipality)
        yield seed_network(now=NOW)
        transaction.set_rollback(True)


def snapshot():
    """What a re-run must leave as it is: the rows and the dates of every meeting."""
    meetings = Meeting.objects.values_list("uid", "starts_at", "ends_at", "sequence", "status")
    return {
        "counts": network_counts(),
        "users": set(get_user_model().objects.values_list("username", "email")),
        "cities": set(City.objects.values_list("ine_code", "slug", "joined_on")),
        "meetings": set(meetings),
    }


def test_seeding_again_finds_the_same_rows(municipalities):
    seed_network(now=NOW)
    first = snapshot()
    seed_network(now=NOW + timedelta(hours=30))  # later the same week
    assert snapshot() == first


def test_the_same_seed_picks_the_same_cities_and_another_seed_others(municipalities):
    codes = [place.ine_code for place in pick_municipalities(SEED)]
    assert [place.ine_code for place in pick_municipalities(SEED)] == codes
    assert len(set(codes)) == len(codes)
    assert {place.ine_code for place in pick_municipalities(SEED + 1)} != set(codes)


def test_meetings_start_on_madrid_time_in_summer_too(municipalities):
    seed_network(now=SUMMER_NOW)
    meetings = Meeting.objects.filter(kind=Meeting.Kind.GROUP, starts_at__isnull=False)
    hours = {meeting.starts_at.astimezone(MEETING_TZ).hour for meeting in meetings}
    assert hours <= {10, 16}
    poll = Meeting.objects.get(status=Meeting.Status.SCHEDULING)
    assert {slot.starts_at.astimezone(MEETING_TZ).hour for slot in poll.slots.all()} <= {10, 16}


def test_an_existing_city_is_linked_to_the_table_and_staffed_not_duplicated(municipalities):
    # What an older `make demo` left: Granada by its INE code, not linked to the table.
    City.objects.create(name="Granada", slug="granada", ine_code="18087", population=1)
    seed_network(now=NOW)
    granada = City.objects.get(ine_code="18087")
    assert City.objects.filter(name="Granada").count() == 1
    assert granada.municipality_id == "18087" and granada.latitude is not None
    assert granada.population == 1  # what was there is kept; only blanks are filled in
    assert granada.technicians.filter(role=Technician.Role.CITY_ADMIN).count() == 1


def test_reseeding_a_later_week_moves_the_meetings_along_without_new_rows(municipalities):
    seed_network(now=NOW)
    counts = network_counts()
    cancelled = Meeting.objects.filter(starts_at__gt=NOW, kind=Meeting.Kind.GROUP).first()
    cancelled.status = Meeting.Status.CANCELLED
    cancelled.save()
    later = NOW + timedelta(weeks=3)
    seed_network(now=later)
    assert network_counts() == counts
    moved = Meeting.objects.exclude(pk=cancelled.pk).filter(status=Meeting.Status.SCHEDULED)
    assert all(meeting.sequence == 1 for meeting in moved)
    assert moved.filter(starts_at__gt=later).count() >= 5
    poll = Meeting.objects.get(status=Meeting.Status.SCHEDULING)
    assert all(slot.starts_at > later for slot in poll.slots.all())
    left_alone = Meeting.objects.get(pk=cancelled.pk)
    assert (left_alone.starts_at, left_alone.sequence) == (cancelled.starts_at, 0)


def test_the_command_refuses_a_database_without_debug_unless_forced(municipalities, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_network")
    assert not City.objects.exists()


def test_the_command_seeds_with_the_given_seed(municipalities, settings, capsys):
    settings.DEBUG = True
    call_command("seed_network", "--seed", "7")
    out = capsys.readouterr().out
    assert f"{City.objects.count()} member cities" in out
    assert DEMO_PASSWORD in out
    picked = {place.ine_code for place in pick_municipalities(7)}
    assert set(City.objects.values_list("ine_code", flat=True)) == picked


def test_the_command_explains_an_empty_municipality_table(db, settings):
    settings.DEBUG = True
    Municipality.objects.all().delete()
    with pytest.raises(CommandError, match="load_municipalities"):
        call_command("seed_network")


@pytest.mark.usefixtures("seeded")
class TestTheSeededNetwork:
    """Read-only checks of one seeding (the module's other tests seed for themselves)."""

    def test_at_least_40_member_cities_of_every_size_band_from_many_regions(self, db):
        cities = list(City.objects.select_related("municipality"))
        assert len(cities) >= 40
        assert {city.size_band for city in cities} == set(SizeBand.values)
        assert len({city.region for city in cities}) >= 12
        for city in cities:
            assert city.municipality is not None and city.municipality.pk == city.ine_code
            assert city.population == city.municipality.population
            assert city.joined_on is not None and city.joined_on < NOW.date()

    def test_tiers_follow_the_model_rule(self, db):
        for city in City.objects.all():
            small = city.population < 20_000
            assert city.tier == (MembershipTier.ASSOCIATE if small else MembershipTier.FULL), city

    def test_every_technician_is_invented_under_example_org_with_a_verified_address(self, db):
        technicians = Technician.objects.select_related("user")
        assert technicians.count() >= 40
        for technician in technicians:
            user = technician.user
            assert user.email.endswith("@example.org"), user.email
            assert EmailAddress.objects.filter(user=user, email=user.email, verified=True).exists()
            assert technician.approved and technician.areas.exists()
            assert "es" in technician.language_codes()
        assert technicians.first().user.check_password(DEMO_PASSWORD)

    def test_every_city_has_one_admin_as_contact_and_one_to_four_technicians(self, db):
        for city in City.objects.prefetch_related("technicians"):
            technicians = list(city.technicians.all())
            admins = [t for t in technicians if t.role == Technician.Role.CITY_ADMIN]
            assert 1 <= len(technicians) <= 4, city
            assert admins == [city.contact], city

    def test_the_coordinator_signs_in_with_the_demo_password(self, db, client):
        user = get_user_model().objects.get(email=COORDINATOR_EMAIL)
        assert user.groups.filter(name=COORDINATORS_GROUP).exists()
        assert EmailAddress.objects.filter(user=user, verified=True, primary=True).exists()
        assert client.login(username=user.username, password=DEMO_PASSWORD)

    def test_working_groups_have_a_remit_a_full_member_chair_members_and_a_work_plan(self, db):
        groups = WorkingGroup.objects.select_related("chair_city")
        assert 6 <= groups.count() <= 8
        assert len({group.area for group in groups}) == groups.count()
        for group in groups:
            assert group.remit and group.chair_city.tier == MembershipTier.FULL
            members = set(group.members.all())
            assert len(members) >= 3, group
            items = list(group.work_items.all())
            assert len(items) >= 3
            assert all(item.owner in members and item.due_date for item in items)
        statuses = set(WorkPlanItem.objects.values_list("status", flat=True))
        assert {WorkPlanItem.Status.DONE, WorkPlanItem.Status.IN_PROGRESS} <= statuses

    def test_past_meetings_have_published_minutes_and_attendance(self, db):
        past = Meeting.objects.filter(starts_at__lt=NOW)
        assert past.filter(kind=Meeting.Kind.GROUP).count() >= WorkingGroup.objects.count()
        assert past.filter(kind=Meeting.Kind.TECHNICAL_COMMITTEE).exists()
        for meeting in past:
            assert meeting.minutes and NOW > meeting.minutes_published_at > meeting.ends_at
            assert meeting.attendance.exists() and meeting.agenda_items.exists()
            assert not meeting.rsvps.exists()

    def test_upcoming_meetings_are_scheduled_in_the_next_weeks_with_agendas_and_rsvps(self, db):
        upcoming = Meeting.objects.filter(starts_at__gt=NOW)
        assert upcoming.count() >= 5
        assert upcoming.filter(kind=Meeting.Kind.ASSEMBLY).count() == 1
        assert upcoming.filter(kind=Meeting.Kind.TECHNICAL_COMMITTEE).count() == 1
        for meeting in upcoming:
            assert meeting.status == Meeting.Status.SCHEDULED
            assert meeting.starts_at < NOW + timedelta(weeks=8)
            assert meeting.agenda_items.count() >= 3
            assert meeting.rsvps.exists() and not meeting.attendance.exists()
            assert not meeting.minutes
        responses = set(RSVP.objects.values_list("response", flat=True))
        assert responses == set(RSVP.Response.values)

    def test_one_meeting_is_still_finding_a_date_among_three_slots(self, db):
        meeting = Meeting.objects.get(status=Meeting.Status.SCHEDULING)
        assert meeting.starts_at is None and meeting.group is not None
        slots = list(meeting.slots.all())
        assert len(slots) == 3 and all(slot.starts_at > NOW for slot in slots)
        answered = SlotAvailability.objects.filter(slot__meeting=meeting)
        assert answered.exists()
        assert set(answered.values_list("user", flat=True)) <= set(
            meeting.group.members.values_list("user", flat=True)
        )

    def test_every_meeting_passes_the_model_validation(self, db):
        for meeting in Meeting.objects.all():
            meeting.full_clean()


def test_the_coordinator_is_no_technician_even_in_an_older_demo_database(municipalities):
    """Regression: the scenario demo made the coordinator a technician of Granada, so the
    coordinator could join groups and decide their own requests."""
    coordinator = ensure_coordinator()
    TechnicianFactory(user=coordinator, city=CityFactory(), approved=True)
    seed_network(now=NOW)
    assert not Technician.objects.filter(user=coordinator).exists()
    assert is_coordinator(coordinator)
