"""Finding a date: proposed slots, members' availability, the coordinator's confirmation."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from cities.models import Meeting, MeetingSlot, SlotAvailability
from cities.models.meetings import MEETING_TZ
from cities.services import meetings as workflow
from tests.factories import MeetingFactory, TechnicianFactory, WorkingGroupFactory, join_group

# Next year's March: always in the future (and before the clocks change), on Madrid time.
Y = timezone.now().year + 1
DAY = datetime(Y, 3, 10, tzinfo=MEETING_TZ)


@pytest.fixture(autouse=True)
def english():
    """Assertions read the English source strings, whatever the translations say."""
    with translation.override("en"):
        yield


@pytest.fixture
def notices():
    with mock.patch("cities.tasks.send_meeting_notice.delay") as delay:
        yield delay


@pytest.fixture
def group(cast):
    group = WorkingGroupFactory(chair_city=cast.owner_city, slug="energia")
    join_group(group, cast.owner.technician)
    join_group(group, cast.other.technician)
    return group


def at(day: int, hour: int) -> datetime:
    return DAY.replace(day=day, hour=hour)


@pytest.fixture
def poll(cast, group):
    """A group meeting with three proposed dates (10, 11 and 12 March next year, 10:00-12:00)."""
    return workflow.create_meeting(
        created_by=cast.coordinator,
        kind=Meeting.Kind.GROUP,
        group=group,
        title="Plan de eficiencia energética",
        mode=Meeting.Mode.ONLINE,
        online_url="https://meet.example.org/energia",
        slots=[(at(d, 10), at(d, 12)) for d in (10, 11, 12)],
    )


def url(name: str, meeting) -> str:
    return reverse(f"cities:{name}", args=[meeting.pk])


def slot_data(pairs) -> dict:
    data = {"slots-TOTAL_FORMS": "4", "slots-INITIAL_FORMS": "0"}
    for i, (start, end) in enumerate(pairs):
        data[f"slots-{i}-starts_at"] = start
        data[f"slots-{i}-ends_at"] = end
    return data


def new_meeting_data(**overrides) -> dict:
    data = {
        "title": "Plan de eficiencia energética",
        "kind": "technical_committee",
        "mode": "hybrid",
        "location": "Ayuntamiento de Granada, sala 2",
        "online_url": "https://meet.example.org/energia",
        **slot_data(
            [
                (f"{Y}-03-10T10:00", f"{Y}-03-10T12:00"),
                (f"{Y}-03-11T10:00", f"{Y}-03-11T12:00"),
                (f"{Y}-03-12T16:30", f"{Y}-03-12T18:00"),
            ]
        ),
    }
    data.update(overrides)
    return data


def test_scheduling_end_to_end(cast, notices, django_capture_on_commit_callbacks):
    coordinator = cast.client("coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator.post(reverse("cities:meeting-create"), new_meeting_data())
    meeting = Meeting.objects.get()
    assert response["Location"] == url("meeting-detail", meeting)
    assert (meeting.status, meeting.starts_at, meeting.sequence) == ("scheduling", None, 0)
    first, second, third = meeting.slots.all()
    # The form's times are Madrid wall-clock times: 16:30 in March is 15:30 UTC.
    assert third.starts_at == datetime(Y, 3, 12, 15, 30, tzinfo=UTC)
    notices.assert_called_once_with(meeting.pk, "scheduling", 0)

    answers = {
        "owner": {first: "yes", second: "yes", third: "no"},
        "other": {first: "no", second: "if_need_be", third: "no"},
    }
    for who, theirs in answers.items():
        data = {f"slot_{slot.pk}": answer for slot, answer in theirs.items()}
        response = cast.client(who).post(url("meeting-availability", meeting), data)
        assert response.status_code == 302

    page = cast.client("owner").get(url("meeting-detail", meeting))
    grid = page.context["grid"]
    assert [column.counts for column in grid.columns] == [
        {"yes": 1, "if_need_be": 0, "no": 1},
        {"yes": 1, "if_need_be": 1, "no": 0},
        {"yes": 0, "if_need_be": 0, "no": 2},
    ]
    assert grid.best().slot == second
    assert [person for person, _cells in grid.rows] == sorted(
        [cast.owner, cast.other], key=lambda u: u.get_full_name().casefold()
    )
    assert page.context["availability_form"][f"slot_{second.pk}"].initial == "yes"

    notices.reset_mock()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = coordinator.post(url("meeting-confirm", meeting), {"slot": second.pk})
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.SCHEDULED
    assert (meeting.starts_at, meeting.ends_at) == (second.starts_at, second.ends_at)
    assert meeting.sequence == 1
    assert len(callbacks) == 1
    notices.assert_called_once_with(meeting.pk, "confirmed", 1)

    # Once the date is set, members answer the invitation instead of the poll.
    cast.client("other").post(url("meeting-rsvp", meeting), {"response": "going"})
    assert meeting.rsvps.get().user == cast.other
    response = cast.client("owner").post(
        url("meeting-availability", meeting), {f"slot_{first.pk}": "yes"}, follow=True
    )
    assert "The poll is closed: the meeting’s time was confirmed." in messages_of(response)


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 302), ("other", 302), ("anonymous", 302)]
)
def test_members_mark_availability_and_anonymous_are_sent_to_sign_in(cast, poll, who, status):
    slot = poll.slots.first()
    response = cast.client(who).post(url("meeting-availability", poll), {f"slot_{slot.pk}": "yes"})
    assert response.status_code == status
    answered = SlotAvailability.objects.filter(slot=slot, answer="yes")
    if who == "anonymous":
        assert reverse("account_login") in response["Location"]
        assert not answered.exists()
    else:
        assert answered.get().user == cast.users()[who]


def test_unapproved_technician_cannot_mark_availability(poll, unapproved_technician):
    client = Client()
    client.force_login(unapproved_technician)
    slot = poll.slots.first()
    assert (
        client.post(url("meeting-availability", poll), {f"slot_{slot.pk}": "yes"}).status_code
        == 403
    )
    assert not SlotAvailability.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_confirm_a_date(cast, poll, notices, who, status):
    slot = poll.slots.first()
    response = cast.client(who).post(url("meeting-confirm", poll), {"slot": slot.pk})
    assert response.status_code == status
    poll.refresh_from_db()
    assert (poll.status == Meeting.Status.SCHEDULED) is (who == "coordinator")


def test_changing_availability_keeps_one_answer_per_slot(cast, poll):
    slot = poll.slots.first()
    client = cast.client("owner")
    client.post(url("meeting-availability", poll), {f"slot_{slot.pk}": "yes"})
    client.post(url("meeting-availability", poll), {f"slot_{slot.pk}": "no"})
    assert SlotAvailability.objects.get().answer == "no"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Answer at least one of the proposed dates."),
        ({"slot_FIRST": "perhaps"}, "Select a valid choice."),
    ],
)
def test_bad_availability_is_refused_with_a_message(cast, poll, data, message):
    first = poll.slots.first()
    data = {key.replace("FIRST", str(first.pk)): value for key, value in data.items()}
    response = cast.client("owner").post(url("meeting-availability", poll), data, follow=True)
    assert message in response.content.decode()
    assert not SlotAvailability.objects.exists()


def test_availability_for_another_meetings_slot_saves_nothing(cast, poll, group):
    other = workflow.create_meeting(
        created_by=cast.coordinator,
        kind=Meeting.Kind.GROUP,
        group=group,
        title="Otra",
        mode=Meeting.Mode.ONLINE,
        online_url="https://meet.example.org/otra",
        slots=[(at(20, 9), at(20, 10)), (at(21, 9), at(21, 10))],
    )
    stranger = other.slots.first()
    own = poll.slots.first()
    # A slot id of another meeting is not a field of this poll's form: it is ignored, so the
    # answer has to be about this poll's own slots.
    data = {f"slot_{stranger.pk}": "yes", f"slot_{own.pk}": "no"}
    cast.client("owner").post(url("meeting-availability", poll), data)
    assert list(SlotAvailability.objects.values_list("slot", "answer")) == [(own.pk, "no")]


def test_confirming_a_slot_of_another_meeting_is_refused(cast, poll, group, notices):
    elsewhere = MeetingSlot.objects.create(
        meeting=MeetingFactory(group=group, status=Meeting.Status.SCHEDULING),
        starts_at=at(25, 9),
        ends_at=at(25, 10),
    )
    response = cast.client("coordinator").post(
        url("meeting-confirm", poll), {"slot": elsewhere.pk}, follow=True
    )
    assert "Choose one of the dates proposed for this meeting." in response.content.decode()
    poll.refresh_from_db()
    assert (poll.status, poll.sequence) == (Meeting.Status.SCHEDULING, 0)
    with pytest.raises(ValidationError, match="not proposed for this meeting"):
        workflow.confirm_slot(poll, elsewhere)


def test_a_date_is_confirmed_only_once(cast, poll):
    first, second, _third = poll.slots.all()
    workflow.confirm_slot(poll, first)
    response = cast.client("coordinator").post(
        url("meeting-confirm", poll), {"slot": second.pk}, follow=True
    )
    assert "This meeting is not looking for a date any more." in response.content.decode()
    poll.refresh_from_db()
    assert (poll.starts_at, poll.sequence) == (first.starts_at, 1)


def test_a_cancelled_poll_takes_no_answers(cast, poll):
    workflow.cancel_meeting(poll, "Se aplaza al otoño.")
    slot = poll.slots.first()
    response = cast.client("owner").post(
        url("meeting-availability", poll), {f"slot_{slot.pk}": "yes"}, follow=True
    )
    assert messages_of(response) == ["The poll is closed: the meeting was cancelled."]
    assert not SlotAvailability.objects.exists()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    ("close", "message"),
    [
        (
            lambda poll: workflow.confirm_slot(poll, poll.slots.first()),
            "The poll is closed: the meeting’s time was confirmed.",
        ),
        (
            lambda poll: workflow.cancel_meeting(poll, "Se aplaza al otoño."),
            "The poll is closed: the meeting was cancelled.",
        ),
    ],
    ids=["confirmed", "cancelled"],
)
def test_an_empty_answer_to_a_closed_poll_is_told_the_poll_is_closed(cast, poll, close, message):
    """Regression: a page left open sent nothing ticked to a poll closed since, and was told
    to "Answer at least one of the proposed dates", which it could not do."""
    close(poll)
    response = cast.client("owner").post(url("meeting-availability", poll), {}, follow=True)
    assert messages_of(response) == [message]
    assert not SlotAvailability.objects.exists()


def test_a_meeting_with_a_fixed_time_has_no_poll_to_answer(cast, group):
    meeting = MeetingFactory(group=group)
    response = cast.client("owner").post(url("meeting-availability", meeting), {}, follow=True)
    assert messages_of(response) == ["The poll is closed: the meeting’s time was confirmed."]


def test_detail_shows_the_grid_with_counts(cast, poll):
    first = poll.slots.first()
    SlotAvailability.objects.create(slot=first, user=cast.owner, answer="yes")
    SlotAvailability.objects.create(slot=first, user=TechnicianFactory().user, answer="if_need_be")
    page = cast.client("other").get(url("meeting-detail", poll)).content.decode()
    assert cast.owner.get_full_name() in page
    assert 'class="answer yes">Available<' in page
    assert f'name="slot_{first.pk}"' in page
    assert "Confirm this date" not in page  # only coordinators confirm
    assert "Confirm this date" in (
        cast.client("coordinator").get(url("meeting-detail", poll)).content.decode()
    )


@pytest.mark.parametrize(
    ("pairs", "field", "message"),
    [
        (
            [(f"{Y}-03-10T10:00", f"{Y}-03-10T09:00"), (f"{Y}-03-11T10:00", f"{Y}-03-11T12:00")],
            "ends_at",
            "The proposed date must end after it starts.",
        ),
        (
            [("2020-03-10T10:00", "2020-03-10T12:00"), (f"{Y}-03-11T10:00", f"{Y}-03-11T12:00")],
            "starts_at",
            "A proposed date cannot be in the past.",
        ),
        ([(f"{Y}-03-10T10:00", "")], "ends_at", "This field is required."),
    ],
)
def test_bad_slots_name_the_wrong_line(cast, notices, pairs, field, message):
    data = new_meeting_data(**{k: "" for k in new_meeting_data() if k.startswith("slots-")})
    data.update(slot_data(pairs))
    response = cast.client("coordinator").post(reverse("cities:meeting-create"), data)
    assert response.status_code == 200
    assert message in response.context["slot_formset"].errors[0][field]
    assert not Meeting.objects.exists()
    notices.assert_not_called()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            slot_data([(f"{Y}-03-10T10:00", f"{Y}-03-10T12:00")]),
            "Give the start and end, or propose at least 2 dates to choose from.",
        ),
        (
            {
                **slot_data(
                    [
                        (f"{Y}-03-10T10:00", f"{Y}-03-10T12:00"),
                        (f"{Y}-03-11T10:00", f"{Y}-03-11T12:00"),
                    ]
                ),
                "starts_at": f"{Y}-03-09T10:00",
                "ends_at": f"{Y}-03-09T11:00",
            },
            "Give either a fixed time or dates to choose from, not both.",
        ),
        (
            slot_data(
                [(f"{Y}-03-10T10:00", f"{Y}-03-10T12:00"), (f"{Y}-03-10T10:00", f"{Y}-03-10T12:00")]
            ),
            "The same date is proposed twice.",
        ),
    ],
)
def test_a_poll_needs_two_different_dates_and_no_fixed_time(cast, notices, data, message):
    post = {k: v for k, v in new_meeting_data().items() if not k.startswith("slots-")}
    post.update(data)
    response = cast.client("coordinator").post(reverse("cities:meeting-create"), post)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Meeting.objects.exists()
    notices.assert_not_called()


def test_more_dates_can_be_proposed_while_scheduling(
    poll, notices, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.propose_slots(poll, [(at(15, 10), at(15, 11))])
    assert poll.slots.count() == 4
    notices.assert_called_once_with(poll.pk, "scheduling", 0)
    with pytest.raises(ValidationError, match="proposed twice"):
        workflow.propose_slots(poll, [(at(15, 10), at(15, 11))])


def test_proposals_are_refused_once_a_date_is_set(poll):
    workflow.confirm_slot(poll, poll.slots.first())
    with pytest.raises(ValidationError, match="looking for a date"):
        workflow.propose_slots(poll, [(at(16, 10), at(16, 11))])


def test_editing_a_poll_keeps_its_time_to_the_chosen_slot(cast, poll, notices):
    data = {
        "title": "Plan de eficiencia (revisado)",
        "kind": "group",
        "group": poll.group.pk,
        "mode": "online",
        "online_url": "https://meet.example.org/energia",
        "starts_at": f"{Y}-03-01T10:00",  # not a field while a date is being found
        "ends_at": f"{Y}-03-01T11:00",
    }
    response = cast.client("coordinator").post(url("meeting-edit", poll), data)
    assert response.status_code == 302
    poll.refresh_from_db()
    assert (poll.title, poll.starts_at, poll.status) == (data["title"], None, "scheduling")
    notices.assert_not_called()


def test_the_best_slot_prefers_yes_then_if_need_be_then_the_earliest(cast, poll):
    first, second, third = poll.slots.all()
    for slot, answer in [(first, "if_need_be"), (second, "yes"), (third, "yes")]:
        SlotAvailability.objects.create(slot=slot, user=cast.owner, answer=answer)
    SlotAvailability.objects.create(slot=third, user=cast.other, answer="if_need_be")
    assert workflow.availability_grid(poll).best().slot == third
    SlotAvailability.objects.filter(user=cast.other).delete()
    poll = Meeting.objects.get(pk=poll.pk)
    assert workflow.availability_grid(poll).best().slot == second


def test_a_fixed_time_in_the_past_is_allowed_for_the_record(
    cast, notices, django_capture_on_commit_callbacks
):
    """Coordinators may record a meeting that already happened (to attach its minutes).

    Nobody is invited to it: regression, the invitations went out for a meeting in 2020.
    """
    start = timezone.now() - timedelta(days=3)
    with django_capture_on_commit_callbacks(execute=True):
        meeting = workflow.create_meeting(
            created_by=cast.coordinator,
            kind=Meeting.Kind.ASSEMBLY,
            title="Asamblea de 2026",
            mode=Meeting.Mode.IN_PERSON,
            location="Zaragoza",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
        )
    assert meeting.status == Meeting.Status.SCHEDULED
    notices.assert_not_called()


def test_the_service_checks_proposed_dates_like_the_form(cast, group):
    """The API proposes dates through the service: one date, a past one or one years ahead
    are refused there too (the API took a single date in 2020)."""
    base = {
        "created_by": cast.coordinator,
        "kind": Meeting.Kind.GROUP,
        "group": group,
        "title": "Sondeo",
        "mode": Meeting.Mode.ONLINE,
        "online_url": "https://m.example.org/a",
    }
    past = timezone.now() - timedelta(days=30)
    far = timezone.now() + timedelta(days=6 * 366)
    cases = {
        "at least two dates": [(at(10, 10), at(10, 12))],
        "in the past": [(past, past + timedelta(hours=1)), (at(10, 10), at(10, 12))],
        "years ahead": [(far, far + timedelta(hours=1)), (at(10, 10), at(10, 12))],
    }
    for message, slots in cases.items():
        with pytest.raises(ValidationError, match=message):
            workflow.create_meeting(slots=slots, **base)
    assert not Meeting.objects.exists()
