"""Calendar files (RFC 5545) of meetings, and the private feeds behind secret tokens."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from icalendar import Calendar

from cities import calendar
from cities.models import RSVP, CalendarFeedToken, Meeting
from cities.models.meetings import MEETING_TZ
from tests.factories import (
    AgendaItemFactory,
    MeetingFactory,
    TechnicianFactory,
    UserFactory,
    WorkingGroupFactory,
    join_group,
)

CAST = ["coordinator", "owner", "other", "anonymous"]
NOW = datetime(2027, 3, 1, 8, 30, tzinfo=UTC)
TITLE = "Movilidad, ruido; Móstoles y Alcalá: revisión"
DESCRIPTION = (
    "Revisión conjunta de los mapas de ruido y de las zonas de bajas emisiones de Móstoles y "
    "Alcalá de Henares: qué medir, cómo compartir los datos y qué calendario seguir."
)


@pytest.fixture(autouse=True)
def site(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://reci.example.org"
    settings.DEFAULT_FROM_EMAIL = "RECI <no-reply@reci.example.org>"


def parse(response_or_bytes) -> Calendar:
    content = getattr(response_or_bytes, "content", response_or_bytes)
    return Calendar.from_ical(content)


def only_event(cal: Calendar):
    (event,) = cal.walk("VEVENT")
    return event


def madrid(*args) -> datetime:
    return datetime(*args, tzinfo=MEETING_TZ)


@pytest.fixture
def dst_meeting(db):
    """A network-wide meeting on the Monday after Spain moves its clocks forward (2027-03-28)."""
    meeting = MeetingFactory(
        pk=4242,
        uid=uuid.UUID("3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60"),
        kind=Meeting.Kind.ASSEMBLY,
        group=None,
        title=TITLE,
        description=DESCRIPTION,
        mode=Meeting.Mode.HYBRID,
        location="Ayuntamiento de Alcalá, sala de plenos",
        online_url="https://meet.example.org/reci-ruido",
        starts_at=madrid(2027, 3, 29, 10),
        ends_at=madrid(2027, 3, 29, 12),
        sequence=2,
    )
    AgendaItemFactory(meeting=meeting, position=1, title="Bienvenida", duration_minutes=10)
    AgendaItemFactory(
        meeting=meeting,
        position=2,
        title="Mapas de ruido",
        presenter="Móstoles",
        duration_minutes=45,
    )
    Meeting.objects.filter(pk=meeting.pk).update(updated_at=datetime(2027, 2, 20, 17, tzinfo=UTC))
    return Meeting.objects.prefetch_related("agenda_items").get(pk=meeting.pk)


@pytest.fixture
def reader(db):
    """An invitee the file is addressed to, who has not answered yet."""
    return UserFactory(
        first_name="Lucía", last_name="Martín Sánchez", email="lucia.martin@granada.example.org"
    )


EXPECTED_DST_MEETING = (
    "BEGIN:VCALENDAR\r\n"
    "VERSION:2.0\r\n"
    "PRODID:-//RECI//Smart cities network portal//ES\r\n"
    "METHOD:REQUEST\r\n"
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Madrid\r\n"
    "COMMENT:This timezone only works from 2027-01-01 to 2028-01-01.\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:20270101T000000\r\n"
    "TZNAME:CET\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0100\r\n"
    "END:STANDARD\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "DTSTART:20270328T030000\r\n"
    "TZNAME:CEST\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:20271031T030000\r\n"
    "TZNAME:CET\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
    "BEGIN:VEVENT\r\n"
    "SUMMARY:Movilidad\\, ruido\\; Móstoles y Alcalá: revisión\r\n"
    "DTSTART;TZID=Europe/Madrid:20270329T100000\r\n"
    "DTEND;TZID=Europe/Madrid:20270329T120000\r\n"
    "DTSTAMP:20270301T083000Z\r\n"
    "UID:3f2b8c1e-9d4a-4e6b-8a7c-1b2c3d4e5f60@reci.example.org\r\n"
    "SEQUENCE:2\r\n"
    'ATTENDEE;CN="Lucía Martín Sánchez";PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTI\r\n'
    " CIPANT;RSVP=FALSE:mailto:lucia.martin@granada.example.org\r\n"
    "DESCRIPTION:Revisión conjunta de los mapas de ruido y de las zonas de baj\r\n"
    " as emisiones de Móstoles y Alcalá de Henares: qué medir\\, cómo compart\r\n"
    " ir los datos y qué calendario seguir.\\n\\nAgenda:\\n1. Bienvenida (10 minut\r\n"
    " es)\\n2. Mapas de ruido (Móstoles\\, 45 minutes)\r\n"
    "LAST-MODIFIED:20270220T170000Z\r\n"
    "LOCATION:Ayuntamiento de Alcalá\\, sala de plenos (https://meet.example.or\r\n"
    " g/reci-ruido)\r\n"
    "ORGANIZER;CN=RECI:mailto:no-reply@reci.example.org\r\n"
    "STATUS:CONFIRMED\r\n"
    "URL:https://reci.example.org/meetings/4242/\r\n"
    "END:VEVENT\r\n"
    "END:VCALENDAR\r\n"
)


# --- The file of one meeting --------------------------------------------------------------


def test_meeting_file_in_a_dst_week_is_exactly_this(dst_meeting, reader):
    with translation.override("en"):
        ics = calendar.meeting_calendar(dst_meeting, attendee=reader, now=NOW).to_ical()
    assert ics.decode("utf-8") == EXPECTED_DST_MEETING


def test_meeting_file_lines_are_short_crlf_terminated_and_keep_utf8_characters_whole(dst_meeting):
    # Two- and three-byte characters everywhere, so that folds land next to them.
    dst_meeting.description = "ñandú € " * 40
    ics = calendar.meeting_calendar(dst_meeting, now=NOW).to_ical()
    assert ics.endswith(b"\r\n")
    lines = ics.split(b"\r\n")[:-1]
    assert b"\n" not in b"".join(lines)  # no bare LF: every line ends with CRLF
    assert all(len(line) <= 75 for line in lines), max(lines, key=len)
    for line in lines:
        line.decode("utf-8")  # a character split across a fold would not decode
    assert sum(line.startswith(b" ") for line in lines) >= 5
    assert str(only_event(parse(ics))["DESCRIPTION"]).startswith("ñandú € " * 40)


def test_meeting_file_parses_back_with_every_field(dst_meeting, reader):
    cal = parse(calendar.meeting_calendar(dst_meeting, attendee=reader, now=NOW).to_ical())
    assert (cal["VERSION"], cal["METHOD"]) == ("2.0", "REQUEST")
    assert cal["PRODID"] == calendar.PRODID
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Madrid"
    assert tz.walk("STANDARD") and tz.walk("DAYLIGHT")
    event = only_event(cal)
    assert event.start == madrid(2027, 3, 29, 10)
    assert event.start.utcoffset() == timedelta(hours=2)  # summer time from 28 March
    assert event["DTSTART"].params["TZID"] == "Europe/Madrid"
    assert event.end == madrid(2027, 3, 29, 12)
    assert event["UID"] == f"{dst_meeting.uid}@reci.example.org"
    assert event["SEQUENCE"] == 2
    assert event["STATUS"] == "CONFIRMED"
    assert event["SUMMARY"] == TITLE
    assert event["URL"] == "https://reci.example.org/meetings/4242/"
    assert event["LOCATION"].startswith("Ayuntamiento de Alcalá, sala de plenos")
    assert "2. Mapas de ruido (Móstoles" in event["DESCRIPTION"]
    assert event["DTSTAMP"].dt == NOW
    assert event["LAST-MODIFIED"].dt == datetime(2027, 2, 20, 17, tzinfo=UTC)
    attendee = event["ATTENDEE"]
    assert attendee == "mailto:lucia.martin@granada.example.org"
    assert attendee.params["CN"] == "Lucía Martín Sánchez"
    assert (attendee.params["PARTSTAT"], attendee.params["RSVP"]) == ("NEEDS-ACTION", "FALSE")


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_meeting_file_is_for_members(cast, who, status):
    meeting = MeetingFactory(group=WorkingGroupFactory(chair_city=cast.owner_city))
    response = cast.client(who).get(reverse("cities:meeting-ics", args=[meeting.pk]))
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
        return
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="meeting-{meeting.pk}.ics"'
    assert "private" in response["Cache-Control"]
    assert only_event(parse(response))["SUMMARY"] == meeting.title


def test_meeting_file_is_refused_to_an_unapproved_technician(unapproved_technician):
    client = Client()
    client.force_login(unapproved_technician)
    meeting = MeetingFactory()
    assert client.get(reverse("cities:meeting-ics", args=[meeting.pk])).status_code == 403


def test_meeting_file_of_a_missing_meeting_or_one_without_a_date_is_404(cast):
    client = cast.client("owner")
    undated = MeetingFactory(status=Meeting.Status.SCHEDULING, starts_at=None, ends_at=None)
    assert client.get(reverse("cities:meeting-ics", args=[undated.pk])).status_code == 404
    assert client.get(reverse("cities:meeting-ics", args=[undated.pk + 1000])).status_code == 404


def test_a_rescheduled_meeting_keeps_its_uid_and_raises_its_sequence(cast):
    meeting = MeetingFactory()
    url = reverse("cities:meeting-ics", args=[meeting.pk])
    client = cast.client("owner")
    before = only_event(parse(client.get(url)))
    # What the meetings workflow does on a change of time: move it and bump the sequence.
    meeting.starts_at += timedelta(days=1)
    meeting.ends_at += timedelta(days=1)
    meeting.sequence += 1
    meeting.save()
    after = only_event(parse(client.get(url)))
    assert after["UID"] == before["UID"]
    assert after["SEQUENCE"] == before["SEQUENCE"] + 1
    assert after.start == before.start + timedelta(days=1)


def meeting_of_the_owners_group(cast, **fields) -> Meeting:
    group = WorkingGroupFactory(chair_city=cast.owner_city)
    join_group(group, cast.owner.technician)
    return MeetingFactory(group=group, **fields)


@pytest.mark.parametrize(("response", "partstat"), [(None, "NEEDS-ACTION"), ("maybe", "TENTATIVE")])
def test_an_invitees_file_is_a_request_addressed_to_them(cast, response, partstat):
    """Regression: METHOD:REQUEST without ATTENDEE, which RFC 5546 (3.2.2) requires."""
    meeting = meeting_of_the_owners_group(cast)
    if response:
        RSVP.objects.create(meeting=meeting, user=cast.owner, response=response)
    cal = parse(cast.client("owner").get(reverse("cities:meeting-ics", args=[meeting.pk])))
    assert cal["METHOD"] == "REQUEST"
    attendee = only_event(cal)["ATTENDEE"]
    assert attendee == f"mailto:{cast.owner.email}"
    assert attendee.params["CN"] == cast.owner.get_full_name()
    assert attendee.params["PARTSTAT"] == partstat


def test_a_reader_who_is_not_invited_gets_a_copy_to_file(cast):
    meeting = meeting_of_the_owners_group(cast)  # "other" is not in the group
    url = reverse("cities:meeting-ics", args=[meeting.pk])
    cal = parse(cast.client("other").get(url))
    assert cal["METHOD"] == "PUBLISH"
    event = only_event(cal)
    assert "ATTENDEE" not in event
    invitation = only_event(parse(cast.client("owner").get(url)))
    assert (event["UID"], event["SEQUENCE"]) == (invitation["UID"], invitation["SEQUENCE"])


def test_a_cancelled_meeting_file_is_a_cancel(cast):
    meeting = meeting_of_the_owners_group(
        cast,
        status=Meeting.Status.CANCELLED,
        sequence=3,
        cancellation_reason="Huelga de transporte",
    )
    url = reverse("cities:meeting-ics", args=[meeting.pk])
    cal = parse(cast.client("owner").get(url))
    assert cal["METHOD"] == "CANCEL"
    event = only_event(cal)
    assert event["ATTENDEE"] == f"mailto:{cast.owner.email}"  # RFC 5546 3.2.5
    assert event["STATUS"] == "CANCELLED"
    assert event["SEQUENCE"] == 3
    assert "Huelga de transporte" in event["DESCRIPTION"]
    copy = parse(cast.client("other").get(url))  # not invited
    assert copy["METHOD"] == "PUBLISH"
    assert only_event(copy)["STATUS"] == "CANCELLED"


# --- Calendar settings and tokens --------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 200), ("owner", 200), ("other", 200), ("anonymous", 302)]
)
def test_calendar_settings_are_for_signed_in_members(cast, who, status):
    response = cast.client(who).get(reverse("cities:calendar-settings"))
    assert response.status_code == status
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))


def test_calendar_settings_are_refused_to_an_unapproved_technician(unapproved_technician):
    client = Client()
    client.force_login(unapproved_technician)
    assert client.get(reverse("cities:calendar-settings")).status_code == 403
    assert client.post(reverse("cities:calendar-token")).status_code == 403
    assert not CalendarFeedToken.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"), [("coordinator", 302), ("owner", 302), ("other", 302), ("anonymous", 302)]
)
def test_members_create_their_own_feed_token(cast, who, status):
    response = cast.client(who).post(reverse("cities:calendar-token"))
    assert response.status_code == status
    user = cast.users()[who]
    if who == "anonymous":
        assert response["Location"].startswith(reverse("account_login"))
        assert not CalendarFeedToken.objects.exists()
    else:
        assert response["Location"] == reverse("cities:calendar-settings")
        assert CalendarFeedToken.objects.get().user == user


def test_token_is_changed_only_by_post(cast):
    assert cast.client("owner").get(reverse("cities:calendar-token")).status_code == 405


def test_settings_page_shows_the_private_and_group_feed_urls(cast):
    group = WorkingGroupFactory(name="Movilidad sostenible")
    join_group(group, cast.owner.technician)
    WorkingGroupFactory(name="Agua y residuos")  # not the owner's
    client = cast.client("owner")
    page = client.get(reverse("cities:calendar-settings")).content.decode()
    assert "meetings.ics" not in page
    client.post(reverse("cities:calendar-token"))
    token = CalendarFeedToken.objects.get(user=cast.owner).token
    page = client.get(reverse("cities:calendar-settings")).content.decode()
    assert f"http://testserver{reverse('cities:private-feed', args=[token])}" in page
    assert reverse("cities:group-feed", args=[token, group.slug]) in page
    assert "Agua y residuos" not in page


def test_regenerating_kills_the_old_feed_url_and_the_new_one_works(cast):
    client = cast.client("owner")
    client.post(reverse("cities:calendar-token"))
    old = CalendarFeedToken.objects.get(user=cast.owner).token
    client.post(reverse("cities:calendar-token"), {"action": "regenerate"})
    new = CalendarFeedToken.objects.get(user=cast.owner, revoked_at__isnull=True).token
    assert new != old
    feed = Client()  # a calendar client: no session at all
    assert feed.get(reverse("cities:private-feed", args=[old])).status_code == 404
    assert feed.get(reverse("cities:private-feed", args=[new])).status_code == 200


def test_revoking_kills_every_feed_url(cast):
    group = WorkingGroupFactory()
    token = calendar.regenerate_feed_token(cast.owner).token
    cast.client("owner").post(reverse("cities:calendar-token"), {"action": "revoke"})
    assert not CalendarFeedToken.objects.filter(revoked_at__isnull=True).exists()
    feed = Client()
    assert feed.get(reverse("cities:private-feed", args=[token])).status_code == 404
    assert feed.get(reverse("cities:group-feed", args=[token, group.slug])).status_code == 404


# --- Private feeds -----------------------------------------------------------------------


@pytest.fixture
def owner_token(cast):
    return calendar.regenerate_feed_token(cast.owner).token


@pytest.mark.parametrize("who", CAST)
def test_private_feed_answers_to_the_token_whoever_is_signed_in(cast, owner_token, who):
    client = cast.client(who)
    response = client.get(reverse("cities:private-feed", args=[owner_token]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("inline")
    assert parse(response)["METHOD"] == "PUBLISH"


@pytest.mark.parametrize("who", CAST)
def test_a_revoked_token_is_404_even_for_its_owner_or_another_technician(cast, owner_token, who):
    calendar.revoke_feed_tokens(cast.owner)
    response = cast.client(who).get(reverse("cities:private-feed", args=[owner_token]))
    assert response.status_code == 404


def test_an_unknown_token_is_404(db):
    assert Client().get(reverse("cities:private-feed", args=["no-such-token"])).status_code == 404


def test_the_token_of_someone_no_longer_a_member_is_404(cast, owner_token):
    cast.owner.technician.approved = False
    cast.owner.technician.save()
    assert Client().get(reverse("cities:private-feed", args=[owner_token])).status_code == 404


def feed_summaries(token: str) -> dict[str, str]:
    response = Client().get(reverse("cities:private-feed", args=[token]))
    return {str(e["SUMMARY"]): str(e["STATUS"]) for e in parse(response).walk("VEVENT")}


def test_private_feed_holds_my_groups_and_network_meetings_from_90_days_ago(cast, owner_token):
    mine, theirs = WorkingGroupFactory(), WorkingGroupFactory()
    join_group(mine, cast.owner.technician)
    now = timezone.now()
    MeetingFactory(group=mine, title="Mi grupo")
    MeetingFactory(group=theirs, title="Otro grupo")
    MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None, title="Asamblea")
    MeetingFactory(group=mine, title="Hace 80 días", starts_at=now - timedelta(days=80))
    MeetingFactory(group=mine, title="Hace 100 días", starts_at=now - timedelta(days=100))
    MeetingFactory(group=mine, title="Anulada", status=Meeting.Status.CANCELLED)
    MeetingFactory(group=mine, title="Sin fecha", status="scheduling", starts_at=None, ends_at=None)
    assert feed_summaries(owner_token) == {
        "Mi grupo": "CONFIRMED",
        "Asamblea": "CONFIRMED",
        "Hace 80 días": "CONFIRMED",
        "Anulada": "CANCELLED",
    }


def test_a_coordinators_feed_holds_every_group_meeting(cast):
    MeetingFactory(title="Grupo A")
    MeetingFactory(kind=Meeting.Kind.TECHNICAL_COMMITTEE, group=None, title="Comité")
    token = calendar.regenerate_feed_token(cast.coordinator).token
    assert set(feed_summaries(token)) == {"Grupo A", "Comité"}


def test_private_feed_has_the_madrid_timezone_and_one_event_per_meeting(cast, owner_token):
    MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None, starts_at=madrid(2027, 3, 29, 10))
    MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None, starts_at=madrid(2027, 11, 2, 10))
    cal = parse(Client().get(reverse("cities:private-feed", args=[owner_token])))
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "Europe/Madrid" and tz.walk("DAYLIGHT") and tz.walk("STANDARD")
    offsets = sorted(e.start.utcoffset() for e in cal.walk("VEVENT"))
    assert offsets == [timedelta(hours=1), timedelta(hours=2)]


def test_private_feed_queries_do_not_grow_with_the_meetings(cast, owner_token):
    def count_queries(n: int) -> int:
        for _ in range(n):
            AgendaItemFactory(meeting=MeetingFactory(kind="assembly", group=None))
        with CaptureQueriesContext(connection) as queries:
            response = Client().get(reverse("cities:private-feed", args=[owner_token]))
        assert len(parse(response).walk("VEVENT")) == Meeting.objects.count()
        return len(queries)

    assert count_queries(2) == count_queries(6)


@pytest.mark.parametrize("who", CAST)
def test_group_feed_holds_only_that_groups_meetings(cast, owner_token, who):
    group = WorkingGroupFactory()
    MeetingFactory(group=group, title="De este grupo")
    MeetingFactory(title="De otro grupo")
    MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None, title="Asamblea")
    response = cast.client(who).get(reverse("cities:group-feed", args=[owner_token, group.slug]))
    assert response.status_code == 200
    assert "private" in response["Cache-Control"]
    cal = parse(response)
    assert [str(e["SUMMARY"]) for e in cal.walk("VEVENT")] == ["De este grupo"]


def test_group_feed_of_an_unknown_group_or_with_a_bad_token_is_404(cast, owner_token):
    group = WorkingGroupFactory()
    feed = Client()
    assert feed.get(reverse("cities:group-feed", args=[owner_token, "nada"])).status_code == 404
    assert feed.get(reverse("cities:group-feed", args=["nope", group.slug])).status_code == 404


def test_feed_descriptions_speak_their_owners_language(cast):
    english = TechnicianFactory(city=cast.owner_city, languages="en,es").user
    AgendaItemFactory(meeting=MeetingFactory(kind="assembly", group=None), duration_minutes=5)
    token = calendar.regenerate_feed_token(english).token
    response = Client(headers={"accept-language": "es"}).get(
        reverse("cities:private-feed", args=[token])
    )
    assert "(5 minutes)" in str(only_event(parse(response))["DESCRIPTION"])


def test_a_meeting_at_the_end_of_the_calendar_does_not_break_the_file(cast):
    """Regression: time zone rules were asked up to year 10000 (ValueError, a 500 in feeds).

    Such a meeting can no longer be saved through the forms or the API; one already stored
    must not take every feed down with it.
    """
    start = madrid(9999, 12, 31, 22)
    meeting = MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None, starts_at=start)
    Meeting.objects.filter(pk=meeting.pk).update(ends_at=start + timedelta(minutes=59))
    meeting.refresh_from_db()
    parsed = Calendar.from_ical(calendar.meeting_calendar(meeting).to_ical())
    assert parsed.walk("VEVENT")[0].start == start


def test_the_message_mentions_previous_links_only_when_there_were_some(cast):
    client = cast.client("owner")
    first = client.post(reverse("cities:calendar-token"), headers={"accept-language": "en"})
    assert [str(m) for m in get_messages(first.wsgi_request)] == [
        "Your private calendar links are ready."
    ]
    again = client.post(reverse("cities:calendar-token"), headers={"accept-language": "en"})
    # The first message was never shown (no page in between): the new one comes last.
    assert [str(m) for m in get_messages(again.wsgi_request)][-1] == (
        "New private calendar links created; the previous ones no longer work."
    )
