"""Meeting pages: who may see and manage them, RSVPs, agenda, files, attendance, minutes."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from cities.forms import meetings as meeting_forms
from cities.models import (
    RSVP,
    AgendaItem,
    Attendance,
    Meeting,
    MeetingAttachment,
    MeetingSlot,
    SlotAvailability,
)
from cities.models.meetings import EARLIEST, MEETING_TZ, span_errors
from cities.services import meetings as workflow
from tests.conftest import form_token
from tests.factories import (
    AgendaItemFactory,
    MeetingFactory,
    TechnicianFactory,
    WorkingGroupFactory,
    join_group,
)

CAST = ["coordinator", "owner", "other", "anonymous"]
MEMBERS_SEE = [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
COORDINATORS_ONLY = [("coordinator", 200), ("owner", 403), ("other", 403), ("anonymous", 302)]


@pytest.fixture(autouse=True)
def english():
    """Assertions read the English source strings, whatever the translations say."""
    with translation.override("en"):
        yield


@pytest.fixture
def notices():
    """The Celery task's delay, mocked: what the on-commit callbacks would have queued."""
    with mock.patch("cities.tasks.send_meeting_notice.delay") as delay:
        yield delay


@pytest.fixture
def group(cast):
    group = WorkingGroupFactory(chair_city=cast.owner_city, slug="movilidad")
    join_group(group, cast.owner.technician)
    return group


@pytest.fixture
def meeting(group):
    return MeetingFactory(group=group, title="Reunión de movilidad")


@pytest.fixture
def past_meeting(group):
    start = timezone.now() - timedelta(hours=2)
    return MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=1))


@pytest.fixture
def attachment(meeting, cast):
    return workflow.add_attachment(
        meeting,
        title="Orden del día",
        file=SimpleUploadedFile("orden.pdf", b"%PDF-1.4 agenda"),
        uploaded_by=cast.coordinator,
    )


def url(name: str, *args) -> str:
    return reverse(f"cities:{name}", args=args)


def assert_sent_to_login(response):
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


# Permission matrix: every page, every member of the cast.

PAGES = [
    ("meeting-list", None, MEMBERS_SEE),
    ("meeting-detail", "meeting", MEMBERS_SEE),
    ("meeting-create", None, COORDINATORS_ONLY),
    ("meeting-edit", "meeting", COORDINATORS_ONLY),
    ("meeting-cancel", "meeting", COORDINATORS_ONLY),
    ("meeting-agenda", "meeting", COORDINATORS_ONLY),
    ("meeting-attachment-add", "meeting", COORDINATORS_ONLY),
    ("meeting-attendance", "past_meeting", COORDINATORS_ONLY),
    ("meeting-minutes", "past_meeting", COORDINATORS_ONLY),
]


@pytest.mark.parametrize(
    ("name", "fixture", "who", "status"),
    [(name, fixture, who, status) for name, fixture, matrix in PAGES for who, status in matrix],
)
def test_page_permissions(cast, request, name, fixture, who, status):
    args = [request.getfixturevalue(fixture).pk] if fixture else []
    response = cast.client(who).get(url(name, *args))
    assert response.status_code == status
    if who == "anonymous":
        assert_sent_to_login(response)


@pytest.mark.parametrize(("who", "status"), MEMBERS_SEE)
def test_attachment_download_permissions(cast, meeting, attachment, who, status):
    response = cast.client(who).get(url("meeting-attachment", meeting.pk, attachment.pk))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == b"%PDF-1.4 agenda"
        assert response["Content-Disposition"].startswith("attachment")
    else:
        assert_sent_to_login(response)


@pytest.mark.parametrize("name", ["meeting-list", "meeting-detail", "meeting-attachment"])
def test_unapproved_technician_is_refused(meeting, attachment, unapproved_technician, name):
    client = Client(headers={"accept-language": "en"})
    client.force_login(unapproved_technician)
    args = {"meeting-list": [], "meeting-detail": [meeting.pk]}.get(
        name, [meeting.pk, attachment.pk]
    )
    assert client.get(url(name, *args)).status_code == 403


def test_missing_meeting_is_404(cast):
    assert cast.client("owner").get(url("meeting-detail", 999_999)).status_code == 404


def test_attachment_of_another_meeting_is_404(cast, attachment, group):
    other_meeting = MeetingFactory(group=group)
    response = cast.client("owner").get(url("meeting-attachment", other_meeting.pk, attachment.pk))
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 403), ("other", 403), ("anonymous", 302)]
)
def test_only_coordinators_cancel(cast, meeting, notices, who, status):
    response = cast.client(who).post(url("meeting-cancel", meeting.pk), {"reason": "Huelga"})
    assert response.status_code == status
    meeting.refresh_from_db()
    assert meeting.is_cancelled is (who == "coordinator")


@pytest.mark.parametrize("who", CAST)
def test_members_rsvp_and_anonymous_are_sent_to_sign_in(cast, meeting, who):
    response = cast.client(who).post(url("meeting-rsvp", meeting.pk), {"response": "going"})
    assert response.status_code == 302
    answered = RSVP.objects.filter(meeting=meeting, response="going")
    if who == "anonymous":
        assert_sent_to_login(response)
        assert not answered.exists()
    else:
        assert response["Location"] == url("meeting-detail", meeting.pk)
        assert answered.get().user == cast.users()[who]


def test_rsvp_needs_a_signed_in_member(meeting, unapproved_technician):
    client = Client(headers={"accept-language": "en"})
    client.force_login(unapproved_technician)
    assert client.post(url("meeting-rsvp", meeting.pk), {"response": "going"}).status_code == 403
    assert not RSVP.objects.exists()


def test_rsvp_is_post_only(cast, meeting):
    assert cast.client("owner").get(url("meeting-rsvp", meeting.pk)).status_code == 405


# The detail page.


def test_detail_shows_time_on_madrid_time_in_the_local_format(cast, group):
    start = datetime(2027, 7, 1, 10, 0, tzinfo=MEETING_TZ)  # 08:00 UTC, summer time
    meeting = MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=2))
    client = cast.client("owner", language="es")
    page = client.get(url("meeting-detail", meeting.pk)).content.decode()
    assert "1 de julio de 2027, 10:00" in page
    assert "12:00" in page
    assert f'href="/meetings/{meeting.pk}/meeting.ics"' in page
    assert meeting.online_url in page


def test_detail_shows_agenda_in_order_and_attachments(cast, meeting, attachment):
    AgendaItemFactory(meeting=meeting, title="Segundo punto", position=2)
    AgendaItemFactory(meeting=meeting, title="Primer punto", position=1)
    page = cast.client("other").get(url("meeting-detail", meeting.pk)).content.decode()
    assert page.index("Primer punto") < page.index("Segundo punto")
    assert url("meeting-attachment", meeting.pk, attachment.pk) in page
    assert "/media/" not in page


def test_rsvp_counts_per_response(cast, meeting):
    for response in ["going", "going", "maybe"]:
        RSVP.objects.create(meeting=meeting, user=TechnicianFactory().user, response=response)
    RSVP.objects.create(meeting=meeting, user=cast.owner, response="not_going")
    response = cast.client("owner").get(url("meeting-detail", meeting.pk))
    assert response.context["rsvp_counts"] == [("Going", 2), ("Maybe", 1), ("Not going", 1)]
    assert response.context["rsvp_form"].initial == {"response": "not_going"}
    assert workflow.rsvp_counts(meeting) == {"going": 2, "maybe": 1, "not_going": 1}


def test_changing_an_rsvp_keeps_one_answer(cast, meeting):
    client = cast.client("owner")
    client.post(url("meeting-rsvp", meeting.pk), {"response": "going"})
    client.post(url("meeting-rsvp", meeting.pk), {"response": "not_going"})
    assert RSVP.objects.get(meeting=meeting).response == "not_going"


def test_unknown_rsvp_response_is_refused_with_a_message(cast, meeting):
    response = cast.client("owner").post(
        url("meeting-rsvp", meeting.pk), {"response": "yes please"}, follow=True
    )
    assert "Choose going, maybe or not going." in response.content.decode()
    assert not RSVP.objects.exists()


def test_rsvp_to_a_cancelled_meeting_is_refused(cast, meeting):
    meeting.status = Meeting.Status.CANCELLED
    meeting.save()
    response = cast.client("owner").post(
        url("meeting-rsvp", meeting.pk), {"response": "going"}, follow=True
    )
    assert "This meeting is cancelled." in response.content.decode()
    assert not RSVP.objects.exists()


def test_rsvp_closes_when_the_meeting_starts(cast, past_meeting):
    """Regression: members answered "going" to a meeting that was over."""
    detail = url("meeting-detail", past_meeting.pk)
    assert (
        url("meeting-rsvp", past_meeting.pk)
        not in cast.client("owner").get(detail).content.decode()
    )
    response = cast.client("owner").post(
        url("meeting-rsvp", past_meeting.pk), {"response": "going"}, follow=True
    )
    assert response.redirect_chain == [(detail, 302)]
    assert "Answers close when the meeting starts" in response.content.decode()
    assert not RSVP.objects.exists()


def test_rsvp_to_a_meeting_still_finding_a_date_is_refused(cast, meeting):
    make_polling(meeting)
    response = cast.client("owner").post(
        url("meeting-rsvp", meeting.pk), {"response": "going"}, follow=True
    )
    assert "Only a scheduled meeting takes RSVPs." in response.content.decode()
    assert not RSVP.objects.exists()


def test_detail_query_count_does_not_grow_with_content(cast, group, django_assert_num_queries):
    def build(n: int) -> Meeting:
        meeting = MeetingFactory(group=group)
        for i in range(n):
            AgendaItemFactory(meeting=meeting, position=i)
            user = TechnicianFactory().user
            RSVP.objects.create(meeting=meeting, user=user, response="going")
            MeetingAttachment.objects.create(
                meeting=meeting, title=f"Doc {i}", file=f"meetings/x/{i}.pdf"
            )
            slot = MeetingSlot.objects.create(
                meeting=meeting,
                starts_at=meeting.starts_at + timedelta(days=i + 1),
                ends_at=meeting.starts_at + timedelta(days=i + 1, hours=1),
            )
            SlotAvailability.objects.create(slot=slot, user=user, answer="yes")
            Attendance.objects.create(meeting=meeting, user=user)
        return meeting

    client = cast.client("owner")

    def count(meeting) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url("meeting-detail", meeting.pk)).status_code == 200
        return len(queries)

    small, large = build(3), build(9)
    assert count(small) == count(large)
    for meeting in (small, large):  # the same with the availability grid on the page
        meeting.status = Meeting.Status.SCHEDULING
        meeting.save()
    assert count(small) == count(large)


# The list.


def test_list_separates_upcoming_and_past(cast, meeting, past_meeting, group):
    polling = MeetingFactory(
        group=group, status=Meeting.Status.SCHEDULING, starts_at=None, ends_at=None
    )
    client = cast.client("owner")
    upcoming = list(client.get(url("meeting-list")).context["page"])
    past = list(client.get(url("meeting-list"), {"when": "past"}).context["page"])
    assert upcoming == [polling, meeting]
    assert past == [past_meeting]


def test_list_filters_by_group_and_kind(cast, meeting):
    other_group = MeetingFactory(title="Energía")
    assembly = MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None, title="Asamblea")
    client = cast.client("owner")
    by_group = client.get(url("meeting-list"), {"group": "movilidad"}).context["page"]
    by_kind = client.get(url("meeting-list"), {"kind": "assembly"}).context["page"]
    assert list(by_group) == [meeting]
    assert list(by_kind) == [assembly]
    assert other_group in list(client.get(url("meeting-list")).context["page"])
    assert client.get(url("meeting-list"), {"group": "nope"}).status_code == 404


def test_list_is_paginated_with_constant_queries(cast, group):
    client = cast.client("owner")
    MeetingFactory.create_batch(5, group=group)
    with CaptureQueriesContext(connection) as few:
        client.get(url("meeting-list"))
    MeetingFactory.create_batch(20, group=WorkingGroupFactory())
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("meeting-list"))
    assert len(few) == len(many)
    page = response.context["page"]
    assert (len(page), page.paginator.num_pages) == (20, 2)
    assert len(client.get(url("meeting-list"), {"page": 2}).context["page"]) == 5


# Creating and editing.


# Next January: always ahead, so a new meeting on that day is never in the past.
NEXT_YEAR = timezone.now().year + 1


def meeting_data(**overrides) -> dict:
    data = {
        "title": "Comité técnico de invierno",
        "kind": "technical_committee",
        "mode": "online",
        "online_url": "https://meet.example.org/comite",
        "starts_at": f"{NEXT_YEAR}-01-20T10:00",
        "ends_at": f"{NEXT_YEAR}-01-20T12:00",
        "slots-TOTAL_FORMS": "4",
        "slots-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_creating_a_meeting_with_a_fixed_time_invites(
    cast, notices, django_capture_on_commit_callbacks
):
    client = cast.client("coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("meeting-create"), meeting_data())
    meeting = Meeting.objects.get()
    assert response["Location"] == url("meeting-detail", meeting.pk)
    assert meeting.status == Meeting.Status.SCHEDULED
    assert meeting.starts_at == datetime(NEXT_YEAR, 1, 20, 10, 0, tzinfo=MEETING_TZ)
    assert meeting.created_by == cast.coordinator
    notices.assert_called_once_with(meeting.pk, "invitation", 0)


def test_a_meeting_form_sent_twice_creates_one_meeting_and_one_invitation(
    cast, notices, django_capture_on_commit_callbacks
):
    """Sending /meetings/new/ twice made two meetings, and both sent invitations."""
    client = cast.client("coordinator")
    token = form_token(client.get(url("meeting-create")))
    data = meeting_data(submission=token)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url("meeting-create"), data)
        second = client.post(url("meeting-create"), data, follow=True)
    meeting = Meeting.objects.get()
    assert first["Location"] == second.redirect_chain[0][0] == url("meeting-detail", meeting.pk)
    assert "already been sent" in second.content.decode()
    notices.assert_called_once_with(meeting.pk, "invitation", 0)


def test_a_refused_meeting_form_may_be_corrected_and_sent_again(cast):
    client = cast.client("coordinator")
    token = form_token(client.get(url("meeting-create")))
    refused = meeting_data(submission=token, online_url="")
    assert client.post(url("meeting-create"), refused).status_code == 200
    data = meeting_data(submission=token)
    assert client.post(url("meeting-create"), data)["Location"].startswith("/")
    assert Meeting.objects.count() == 1


def test_a_meeting_the_service_refused_may_be_sent_again_with_the_same_form(cast):
    """The token is released when saving fails, or the corrected form would be a 'repeat'."""
    client = cast.client("coordinator")
    data = meeting_data(submission="token-1")
    refusal = ValidationError("Los coordinadores están de vacaciones.")
    with mock.patch.object(workflow, "create_meeting", side_effect=refusal):
        assert client.post(url("meeting-create"), data).status_code == 200
    assert client.post(url("meeting-create"), data).status_code == 302
    assert Meeting.objects.count() == 1


def test_new_meeting_form_preselects_the_group(cast, group):
    response = cast.client("coordinator").get(url("meeting-create"), {"group": "movilidad"})
    assert response.context["form"].initial == {"kind": "group", "group": group}


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"ends_at": f"{NEXT_YEAR}-01-20T09:00"},
            "ends_at",
            "The meeting must end after it starts.",
        ),
        ({"online_url": ""}, "online_url", "An online or hybrid meeting needs a link."),
        ({"mode": "in_person"}, "location", "An in-person or hybrid meeting needs a place."),
        ({"kind": "group"}, "group", "A working group meeting needs its group."),
        ({"ends_at": ""}, "ends_at", "Give the time the meeting ends."),
        ({"starts_at": "", "ends_at": ""}, "starts_at", "propose at least 2 dates"),
        ({"starts_at": "tomorrow"}, "starts_at", "Enter a valid date/time."),
        (
            {"starts_at": "0001-01-01T10:00", "ends_at": "0001-01-01T12:00"},
            "starts_at",
            "A meeting cannot start before the year 2000.",
        ),
    ],
)
def test_bad_meeting_input_names_the_field(cast, notices, overrides, field, message):
    response = cast.client("coordinator").post(url("meeting-create"), meeting_data(**overrides))
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert not Meeting.objects.exists()
    notices.assert_not_called()


def test_editing_the_time_bumps_the_sequence_and_tells_invitees(
    cast, meeting, notices, django_capture_on_commit_callbacks
):
    data = meeting_data(kind="group", group=meeting.group.pk, title="Nuevo título")
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("coordinator").post(url("meeting-edit", meeting.pk), data)
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.title, meeting.sequence) == ("Nuevo título", 1)
    assert meeting.starts_at == datetime(NEXT_YEAR, 1, 20, 10, 0, tzinfo=MEETING_TZ)
    notices.assert_called_once_with(meeting.pk, "changed", 1)


def test_editing_only_the_title_is_not_a_new_calendar_revision(
    cast, meeting, notices, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update_meeting(meeting, title="Otro título")
    meeting.refresh_from_db()
    assert (meeting.title, meeting.sequence) == ("Otro título", 0)
    notices.assert_not_called()


def test_a_new_link_is_a_change(meeting, notices, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update_meeting(meeting, online_url="https://meet.example.org/otra")
    assert Meeting.objects.get().sequence == 1
    notices.assert_called_once_with(meeting.pk, "changed", 1)


def madrid_input(moment: datetime) -> str:
    return timezone.localtime(moment, MEETING_TZ).strftime("%Y-%m-%dT%H:%M")


def test_an_upcoming_meeting_cannot_be_moved_into_the_past(cast, meeting, notices):
    """Regression: a move into 2020 was saved and sent everyone a "meeting changed"."""
    data = meeting_data(starts_at="2020-01-20T10:00", ends_at="2020-01-20T12:00")
    response = cast.client("coordinator").post(url("meeting-edit", meeting.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"] == [
        "An upcoming meeting cannot be moved into the past."
    ]
    assert Meeting.objects.get().starts_at == meeting.starts_at
    notices.assert_not_called()


def test_a_meeting_already_held_may_be_corrected_without_telling_everyone(
    cast, past_meeting, notices, django_capture_on_commit_callbacks
):
    """Correcting a held meeting's record sent every invitee a "meeting changed" notice."""
    earlier = past_meeting.starts_at - timedelta(days=1)
    data = meeting_data(
        starts_at=madrid_input(earlier), ends_at=madrid_input(earlier + timedelta(hours=1))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = cast.client("coordinator").post(url("meeting-edit", past_meeting.pk), data)
    assert response.status_code == 302
    corrected = Meeting.objects.get()
    assert corrected.starts_at == earlier.replace(second=0, microsecond=0)
    assert corrected.sequence == past_meeting.sequence + 1  # calendars still take the fix
    notices.assert_not_called()


def test_a_meeting_already_held_cannot_be_moved_into_the_future(cast, past_meeting, notices):
    """Regression: a held meeting moved to next year reopened its RSVPs, showed minutes
    published before its date and sent every invitee a "meeting changed"."""
    data = meeting_data(starts_at=f"{NEXT_YEAR}-02-01T10:00", ends_at=f"{NEXT_YEAR}-02-01T11:00")
    response = cast.client("coordinator").post(url("meeting-edit", past_meeting.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors["starts_at"] == [
        "A meeting already held cannot be moved into the future."
    ]
    kept = Meeting.objects.get()
    assert (kept.starts_at, kept.ends_at, kept.sequence) == (
        past_meeting.starts_at,
        past_meeting.ends_at,
        past_meeting.sequence,
    )
    notices.assert_not_called()


def test_a_meeting_already_held_cannot_be_stretched_into_the_future(past_meeting):
    """Ending later than now is no longer in the past, even if it started before."""
    later = timezone.now() + timedelta(hours=1)
    with pytest.raises(ValidationError) as refused:
        workflow.update_meeting(past_meeting, ends_at=later)
    assert refused.value.message_dict == {
        "ends_at": ["A meeting already held cannot be moved into the future."]
    }


def test_a_meeting_under_way_cannot_be_moved_into_the_future(cast, meeting, notices):
    """Regression: a meeting in progress, with attendance recorded, moved to later in the
    month kept its attendance and minutes and reopened RSVPs."""
    started = timezone.now() - timedelta(minutes=30)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=started, ends_at=started + timedelta(hours=2)
    )
    meeting.refresh_from_db()
    later = timezone.now() + timedelta(days=10)
    response = cast.api_client("coordinator").patch(
        f"/api/v1/meetings/{meeting.pk}/",
        {"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "starts_at": ["A meeting that has started cannot be moved into the future."]
    }
    # Running late: its end may still move.
    workflow.update_meeting(meeting, ends_at=started + timedelta(hours=3))
    assert Meeting.objects.get().ends_at == started + timedelta(hours=3)


def test_an_upcoming_meeting_moved_later_tells_the_invitees(
    cast, meeting, notices, django_capture_on_commit_callbacks
):
    later = meeting.starts_at + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.update_meeting(meeting, starts_at=later, ends_at=later + timedelta(hours=1))
    notices.assert_called_once_with(meeting.pk, "changed", meeting.sequence + 1)


AUDIENCE_FIXED = (
    "Who a meeting is for (its kind and working group) is fixed when it is created: "
    "cancel it and create a new one."
)


def test_the_edit_form_keeps_who_the_meeting_is_for(cast, meeting, group, notices):
    """Regression: moving a meeting to another group invited nobody and told nobody."""
    other = WorkingGroupFactory(slug="energia")
    client = cast.client("coordinator")
    form_page = client.get(url("meeting-edit", meeting.pk))
    assert {"kind", "group"}.isdisjoint(form_page.context["form"].fields)
    assert AUDIENCE_FIXED in form_page.content.decode()
    data = meeting_data(kind="assembly", group=other.pk, title="Nuevo título")
    assert client.post(url("meeting-edit", meeting.pk), data).status_code == 302
    meeting.refresh_from_db()
    assert (meeting.title, meeting.kind, meeting.group) == ("Nuevo título", "group", group)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [({"group": "other"}, {"group"}), ({"kind": "assembly", "group": None}, {"kind", "group"})],
)
def test_a_meetings_kind_and_group_cannot_be_changed(meeting, notices, changes, fields):
    changes = {
        name: WorkingGroupFactory() if value == "other" else value
        for name, value in changes.items()
    }
    with pytest.raises(ValidationError) as refused:
        workflow.update_meeting(meeting, **changes)
    assert refused.value.message_dict == {name: [AUDIENCE_FIXED] for name in fields}
    workflow.update_meeting(meeting, kind="group", group=meeting.group, title="Igual")  # unchanged
    assert Meeting.objects.get().title == "Igual"
    notices.assert_not_called()


def test_a_cancelled_meeting_cannot_be_edited(cast, meeting):
    workflow.cancel_meeting(meeting, "Huelga")
    client = cast.client("coordinator")
    response = client.post(url("meeting-edit", meeting.pk), meeting_data(), follow=True)
    assert "A cancelled meeting cannot be changed." in response.content.decode()
    assert Meeting.objects.get().title == meeting.title


# Cancelling.


def test_cancelling_keeps_the_row_and_bumps_the_sequence(
    cast, meeting, notices, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cast.client("coordinator").post(
            url("meeting-cancel", meeting.pk), {"reason": "Coincide con la huelga."}
        )
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.CANCELLED
    assert meeting.cancellation_reason == "Coincide con la huelga."
    assert meeting.sequence == 1
    notices.assert_called_once_with(meeting.pk, "cancelled", 1)
    page = cast.client("owner").get(url("meeting-detail", meeting.pk)).content.decode()
    assert "Coincide con la huelga." in page
    assert meeting.online_url not in page


def test_cancelling_needs_a_reason(cast, meeting, notices):
    response = cast.client("coordinator").post(url("meeting-cancel", meeting.pk), {"reason": "  "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"] == ["This field is required."]
    meeting.refresh_from_db()
    assert (meeting.status, meeting.sequence) == (Meeting.Status.SCHEDULED, 0)
    notices.assert_not_called()


def test_cancelling_twice_is_refused(cast, meeting):
    workflow.cancel_meeting(meeting, "Huelga")
    response = cast.client("coordinator").post(
        url("meeting-cancel", meeting.pk), {"reason": "Otra vez"}, follow=True
    )
    assert "This meeting is already cancelled." in response.content.decode()
    meeting.refresh_from_db()
    assert (meeting.cancellation_reason, meeting.sequence) == ("Huelga", 1)


# Agenda.


def test_coordinator_adds_reorders_and_deletes_agenda_items(cast, meeting):
    first = AgendaItemFactory(meeting=meeting, title="Bienvenida", position=1)
    second = AgendaItemFactory(meeting=meeting, title="Presupuesto", position=2)
    gone = AgendaItemFactory(meeting=meeting, title="Ruegos", position=3)
    data = {"agenda-TOTAL_FORMS": "5", "agenda-INITIAL_FORMS": "3"}
    for i, (item, position, delete) in enumerate(
        [(first, 20, ""), (second, 5, ""), (gone, 3, "on")]
    ):
        data |= {
            f"agenda-{i}-id": item.pk,
            f"agenda-{i}-position": position,
            f"agenda-{i}-title": item.title,
            f"agenda-{i}-DELETE": delete,
        }
    data |= {"agenda-3-position": "10", "agenda-3-title": "Movilidad escolar"}
    data |= {"agenda-4-title": "Ruegos y preguntas"}  # no position: goes last
    response = cast.client("coordinator").post(url("meeting-agenda", meeting.pk), data)
    assert response.status_code == 302
    items = AgendaItem.objects.filter(meeting=meeting)
    assert [(i.position, i.title) for i in items] == [
        (1, "Presupuesto"),
        (2, "Movilidad escolar"),
        (3, "Bienvenida"),
        (4, "Ruegos y preguntas"),
    ]


def test_agenda_item_needs_a_title(cast, meeting):
    data = {"agenda-TOTAL_FORMS": "1", "agenda-INITIAL_FORMS": "0", "agenda-0-position": "1"}
    data["agenda-0-presenter"] = "Ana"
    response = cast.client("coordinator").post(url("meeting-agenda", meeting.pk), data)
    assert response.status_code == 200
    assert response.context["formset"].errors[0]["title"] == ["This field is required."]
    assert not AgendaItem.objects.exists()


# Attachments.


def test_coordinator_uploads_an_attachment(cast, meeting):
    upload = SimpleUploadedFile("acta previa.pdf", b"%PDF-1.4 previous")
    response = cast.client("coordinator").post(
        url("meeting-attachment-add", meeting.pk), {"file": upload, "title": ""}
    )
    assert response.status_code == 302
    attachment = MeetingAttachment.objects.get()
    assert (attachment.title, attachment.uploaded_by) == ("acta previa.pdf", cast.coordinator)
    assert attachment.file.name.startswith(f"meetings/{meeting.uid}/")


def test_a_file_sent_twice_is_attached_once(cast, meeting):
    client = cast.client("coordinator")
    add = url("meeting-attachment-add", meeting.pk)
    token = form_token(client.get(add))
    for _ in range(2):
        upload = SimpleUploadedFile("informe.pdf", b"%PDF-1.4 informe")
        assert client.post(add, {"file": upload, "submission": token}).status_code == 302
    assert MeetingAttachment.objects.count() == 1


def test_attachment_over_20_mb_is_refused_with_the_limit():
    upload = SimpleUploadedFile("big.zip", b"x")
    upload.size = 20 * 1024 * 1024 + 1
    form = meeting_forms.AttachmentForm(data={"title": "Grande"}, files={"file": upload})
    assert not form.is_valid()
    # Not "20.0 MB; ... at most 20.0 MB", which a tester read as a contradiction.
    assert form.errors["file"] == ["The file is 20.1\xa0MB; attachments may be at most 20.0\xa0MB."]
    upload.size = 45 * 1024 * 1024
    form = meeting_forms.AttachmentForm(data={"title": "Grande"}, files={"file": upload})
    assert form.errors["file"] == ["The file is 45.0\xa0MB; attachments may be at most 20.0\xa0MB."]


def test_upload_page_shows_the_size_error(cast, meeting, monkeypatch):
    monkeypatch.setattr(meeting_forms, "ATTACHMENT_MAX_BYTES", 10)
    upload = SimpleUploadedFile("informe.pdf", b"more than ten bytes")
    response = cast.client("coordinator").post(
        url("meeting-attachment-add", meeting.pk), {"file": upload}
    )
    assert response.status_code == 200
    assert "attachments may be at most 10" in response.content.decode()
    assert not MeetingAttachment.objects.exists()


def test_a_cancelled_meetings_agenda_and_files_are_closed(cast, meeting):
    """Regression: the agenda of a cancelled meeting could be edited and files attached to it."""
    AgendaItemFactory(meeting=meeting, title="Bienvenida", position=1)
    workflow.cancel_meeting(meeting, "Huelga")
    client = cast.client("coordinator")
    agenda = {"agenda-TOTAL_FORMS": "1", "agenda-INITIAL_FORMS": "0", "agenda-0-title": "Nuevo"}
    upload = SimpleUploadedFile("orden.pdf", b"%PDF-1.4 agenda")
    refusals = [
        ("meeting-agenda", agenda, "The agenda of a cancelled meeting cannot be changed."),
        (
            "meeting-attachment-add",
            {"file": upload},
            "Files cannot be attached to a cancelled meeting.",
        ),
    ]
    for name, data, message in refusals:
        for response in (
            client.get(url(name, meeting.pk)),
            client.post(url(name, meeting.pk), data),
        ):
            assert response["Location"] == url("meeting-detail", meeting.pk)
        assert message in client.get(url("meeting-detail", meeting.pk)).content.decode()
    with pytest.raises(ValidationError, match="cannot be attached to a cancelled meeting"):
        workflow.add_attachment(meeting, title="Acta", file=upload, uploaded_by=cast.coordinator)
    assert [item.title for item in AgendaItem.objects.all()] == ["Bienvenida"]
    assert not MeetingAttachment.objects.exists()


def test_a_meeting_already_held_still_takes_files(cast, past_meeting):
    upload = SimpleUploadedFile("diapositivas.pdf", b"%PDF-1.4 slides")
    response = cast.client("coordinator").post(
        url("meeting-attachment-add", past_meeting.pk), {"file": upload}
    )
    assert response.status_code == 302
    assert MeetingAttachment.objects.get().meeting == past_meeting


# Attendance.


def test_invitees_of_a_group_meeting_are_its_members_and_whoever_answered(cast, past_meeting):
    RSVP.objects.create(meeting=past_meeting, user=cast.other, response="going")
    TechnicianFactory()  # an approved technician outside the group
    assert set(workflow.invitees(past_meeting)) == {cast.owner, cast.other}


def test_invitees_of_a_network_meeting_are_all_approved_technicians(cast, unapproved_technician):
    assembly = MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None)
    assert set(workflow.invitees(assembly)) == {cast.owner, cast.other}


def test_coordinator_records_attendance(cast, past_meeting):
    client = cast.client("coordinator")
    response = client.post(
        url("meeting-attendance", past_meeting.pk), {"attendees": [cast.owner.pk]}
    )
    assert response.status_code == 302
    assert [a.user for a in Attendance.objects.all()] == [cast.owner]
    page = cast.client("other").get(url("meeting-detail", past_meeting.pk)).content.decode()
    assert cast.owner.get_full_name() in page
    client.post(url("meeting-attendance", past_meeting.pk), {})
    assert not Attendance.objects.exists()


def test_attendance_only_lists_invitees(cast, past_meeting):
    response = cast.client("coordinator").post(
        url("meeting-attendance", past_meeting.pk), {"attendees": [cast.other.pk]}
    )
    assert response.status_code == 200
    assert "Select a valid choice." in response.context["form"].errors["attendees"][0]
    assert not Attendance.objects.exists()


def test_attendance_waits_for_the_meeting_to_start(cast, meeting):
    response = cast.client("coordinator").get(url("meeting-attendance", meeting.pk), follow=True)
    assert "Attendance is recorded once the meeting has started." in response.content.decode()
    with pytest.raises(ValidationError, match="once the meeting has started"):
        workflow.record_attendance(meeting, [cast.owner])


# Minutes.


def test_minutes_are_shown_to_members_only_once_published(
    cast, past_meeting, notices, django_capture_on_commit_callbacks
):
    coordinator = cast.client("coordinator")
    detail = url("meeting-detail", past_meeting.pk)
    with django_capture_on_commit_callbacks(execute=True):
        coordinator.post(url("meeting-minutes", past_meeting.pk), {"minutes": "Se acordó X."})
    assert "Se acordó X." not in cast.client("owner").get(detail).content.decode()
    assert "Se acordó X." in coordinator.get(detail).content.decode()
    notices.assert_not_called()

    with django_capture_on_commit_callbacks(execute=True):
        minutes = {"minutes": "Se acordó X e Y.", "publish": ""}
        coordinator.post(url("meeting-minutes", past_meeting.pk), minutes)
    past_meeting.refresh_from_db()
    assert past_meeting.minutes_published
    assert "Se acordó X e Y." in cast.client("owner").get(detail).content.decode()
    notices.assert_called_once_with(past_meeting.pk, "minutes", 0)


def test_empty_minutes_cannot_be_published(cast, past_meeting, notices):
    response = cast.client("coordinator").post(
        url("meeting-minutes", past_meeting.pk), {"minutes": " ", "publish": ""}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["minutes"] == [
        "Write the minutes before publishing them."
    ]
    assert not Meeting.objects.get().minutes_published
    notices.assert_not_called()


@pytest.mark.parametrize("data", [{"minutes": "  ", "publish": "1"}, {"minutes": "  "}])
def test_published_minutes_cannot_be_blanked(cast, past_meeting, notices, data):
    """Regression: publishing blank minutes again said "published" and emptied them."""
    workflow.save_minutes(past_meeting, "Se acordó X.", publish=True)
    response = cast.client("coordinator").post(url("meeting-minutes", past_meeting.pk), data)
    assert response.status_code == 200
    assert response.context["form"].errors["minutes"] == [
        "Write the minutes before publishing them."
    ]
    past_meeting.refresh_from_db()
    assert past_meeting.minutes == "Se acordó X."
    assert past_meeting.minutes_published


def make_polling(meeting) -> Meeting:
    meeting.status, meeting.starts_at, meeting.ends_at = Meeting.Status.SCHEDULING, None, None
    meeting.save()
    return meeting


def make_cancelled(meeting) -> Meeting:
    meeting.status, meeting.cancellation_reason = Meeting.Status.CANCELLED, "Huelga"
    meeting.save()
    return meeting


@pytest.mark.parametrize("finding_a_date", [False, True], ids=["future", "finding a date"])
def test_minutes_are_published_only_once_the_meeting_has_taken_place(
    cast, meeting, notices, django_capture_on_commit_callbacks, finding_a_date
):
    """Regression: minutes of a future meeting were published and announced to everyone."""
    unheld = make_polling(meeting) if finding_a_date else meeting
    client = cast.client("coordinator")
    minutes_url = url("meeting-minutes", unheld.pk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(minutes_url, {"minutes": "Se acordó X.", "publish": "1"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Minutes are published once the meeting has taken place."
    ]
    unheld.refresh_from_db()
    assert (unheld.minutes, unheld.minutes_published) == ("", False)
    notices.assert_not_called()
    assert "Save and publish" not in client.get(minutes_url).content.decode()
    # A draft may still be written ahead.
    assert client.post(minutes_url, {"minutes": "Borrador"}).status_code == 302
    unheld.refresh_from_db()
    assert (unheld.minutes, unheld.minutes_published) == ("Borrador", False)


def test_a_cancelled_meeting_has_no_minutes(cast, past_meeting, notices):
    """Regression: the minutes of a cancelled meeting were published to every invitee."""
    make_cancelled(past_meeting)
    client = cast.client("coordinator")
    for data in ({"minutes": "Se acordó X.", "publish": "1"}, {"minutes": "Borrador"}):
        response = client.post(url("meeting-minutes", past_meeting.pk), data, follow=True)
        assert "A cancelled meeting has no minutes." in response.content.decode()
    with pytest.raises(ValidationError, match="A cancelled meeting has no minutes."):
        workflow.save_minutes(past_meeting, "Se acordó X.", publish=True)
    past_meeting.refresh_from_db()
    assert (past_meeting.minutes, past_meeting.minutes_published) == ("", False)
    notices.assert_not_called()


@pytest.mark.parametrize("name", ["virus.exe", "page.html", "script.js", "no-extension"])
def test_attachment_of_a_program_or_web_page_is_refused_naming_the_type(cast, meeting, name):
    """Regression: .exe and .html files were stored and served to every member."""
    upload = SimpleUploadedFile(name, b"MZ...")
    response = cast.client("coordinator").post(
        url("meeting-attachment-add", meeting.pk), {"file": upload, "title": ""}
    )
    assert response.status_code == 200
    error = response.context["form"].errors["file"][0]
    assert "are not accepted" in error and "pdf" in error
    assert not MeetingAttachment.objects.exists()


def test_a_meeting_far_in_the_future_is_refused(cast):
    """Regression: a meeting in the year 9999 broke every member's calendar feed (500)."""
    response = cast.client("coordinator").post(
        url("meeting-create"),
        meeting_data(starts_at="9999-12-31T23:00", ends_at="9999-12-31T23:59"),
    )
    assert response.status_code == 200
    assert "at most 5 years ahead" in str(response.context["form"].errors)
    assert not Meeting.objects.exists()


def test_a_meeting_of_more_than_a_week_is_refused(cast):
    response = cast.client("coordinator").post(
        url("meeting-create"),
        meeting_data(starts_at=f"{NEXT_YEAR}-01-20T10:00", ends_at=f"{NEXT_YEAR}-02-20T10:00"),
    )
    assert "at most 7 days" in str(response.context["form"].errors)
    assert not Meeting.objects.exists()


def last_sunday(year: int, month: int) -> datetime:
    """The day Madrid's clocks change: the last Sunday of March (forward) or October (back)."""
    day = datetime(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def spring_forward(hour: int, minute: int = 30) -> datetime:
    """A Madrid time on next year's night the clocks go from 02:00 to 03:00 (fold=0)."""
    return last_sunday(NEXT_YEAR, 3).replace(hour=hour, minute=minute, tzinfo=MEETING_TZ)


def test_meeting_times_are_compared_as_instants_not_wall_clocks():
    """Regression: 02:30 (which does not exist, read as +01:00) to 03:30 (+02:00) passed as
    an hour, though both are the same instant, and the database refused it with its
    constraint's own text."""
    assert span_errors(spring_forward(2), spring_forward(3)) == {
        "ends_at": "The meeting must end after it starts."
    }
    # A week on the wall clock across the change is a week less an hour: not too long.
    start = spring_forward(3) - timedelta(days=7)
    assert span_errors(start, start + timedelta(days=7)) == {}


def test_a_time_that_does_not_exist_is_refused_with_a_reason_not_a_database_error(
    group, cast, notices
):
    with pytest.raises(ValidationError) as refused:
        workflow.create_meeting(
            created_by=cast.coordinator,
            kind="group",
            group=group,
            title="Reunión de primavera",
            online_url="https://meet.example.org/primavera",
            starts_at=spring_forward(2),
            ends_at=spring_forward(3),
        )
    assert refused.value.message_dict == {"ends_at": ["The meeting must end after it starts."]}
    assert not Meeting.objects.exists()


def madrid_lacks(moment: datetime) -> str:
    return (
        f"{moment:%Y-%m-%d %H:%M:%S} couldn’t be interpreted in time zone Europe/Madrid; "
        "it may be ambiguous or it may not exist."
    )


@pytest.mark.parametrize(
    ("start_hour", "end_hour", "field"),
    [(2, 3, "starts_at"), (1, 2, "ends_at")],
)
def test_a_time_madrid_does_not_have_gets_one_error_not_a_contradictory_second(
    cast, meeting, notices, start_hour, end_hour, field
):
    """Regression: the refused time left the meeting's old one in place, and the span checks
    measured from it: 02:30-03:30 also read "A meeting lasts at most 7 days." and
    01:30-02:30 "The meeting must end after it starts."."""
    start, end = spring_forward(start_hour), spring_forward(end_hour)
    data = meeting_data(starts_at=f"{start:%Y-%m-%dT%H:%M}", ends_at=f"{end:%Y-%m-%dT%H:%M}")
    response = cast.client("coordinator").post(url("meeting-edit", meeting.pk), data)
    assert response.status_code == 200
    refused = start if field == "starts_at" else end
    assert response.context["form"].errors == {field: [madrid_lacks(refused)]}
    assert Meeting.objects.get().starts_at == meeting.starts_at
    notices.assert_not_called()


def test_the_time_the_form_accepted_is_still_checked_when_the_other_is_refused(cast, meeting):
    data = meeting_data(starts_at="1999-03-28T10:00", ends_at=f"{spring_forward(2):%Y-%m-%dT%H:%M}")
    response = cast.client("coordinator").post(url("meeting-edit", meeting.pk), data)
    assert response.context["form"].errors == {
        "starts_at": ["A meeting cannot start before the year 2000."],
        "ends_at": [madrid_lacks(spring_forward(2))],
    }


def test_two_spellings_of_one_proposed_date_are_the_same_date(group, cast, notices):
    """Regression: 02:30 and 03:30 on the spring-forward night passed as two dates, and the
    database refused the second row."""
    end = spring_forward(5)
    with pytest.raises(ValidationError) as refused:
        workflow.create_meeting(
            created_by=cast.coordinator,
            kind="group",
            group=group,
            title="Reunión de primavera",
            online_url="https://meet.example.org/primavera",
            slots=[(spring_forward(2), end), (spring_forward(3), end)],
        )
    assert refused.value.messages == ["The same date is proposed twice."]
    assert not Meeting.objects.exists()


def test_the_same_time_given_on_madrid_time_is_not_a_move(group, notices):
    """An edit repeating the stored time is no new calendar revision, even at 02:30 on the
    night the clocks go back (Python never finds a time of the repeated hour equal to one
    in another zone, so it looked moved and everyone was told)."""
    start = last_sunday(NEXT_YEAR, 10).replace(hour=0, minute=30, tzinfo=UTC)  # 02:30 CEST
    meeting = MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=2))
    workflow.update_meeting(
        meeting,
        starts_at=timezone.localtime(meeting.starts_at, MEETING_TZ),
        ends_at=timezone.localtime(meeting.ends_at, MEETING_TZ),
    )
    assert Meeting.objects.get().sequence == meeting.sequence
    notices.assert_not_called()


def test_no_meeting_or_proposed_date_starts_before_2000():
    """One floor for the forms, the API and the proposed dates (span_errors)."""
    late_1999 = datetime(1999, 12, 31, 23, 0, tzinfo=MEETING_TZ)
    hour = timedelta(hours=1)
    assert span_errors(late_1999, late_1999 + hour) == {
        "starts_at": "A meeting cannot start before the year 2000."
    }
    assert span_errors(EARLIEST, EARLIEST + hour) == {}
