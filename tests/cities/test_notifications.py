"""E-mail notices through Celery: who gets them, in which language, with which calendar file."""

import email
import time
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from smtplib import SMTPServerDisconnected

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar

from cities import notifications, tasks
from cities.models import RSVP, Meeting, MembershipApplication, Technician
from reci.celery import app
from tests.factories import (
    CityFactory,
    MeetingFactory,
    MunicipalityFactory,
    TechnicianFactory,
    UserFactory,
    WorkingGroupFactory,
    join_group,
)
from twins.models import ScenarioPackage, Visibility


@pytest.fixture(autouse=True)
def site(settings):
    settings.WAGTAILADMIN_BASE_URL = "https://reci.example.org"


def recipients() -> set[str]:
    return {address for message in mail.outbox for address in message.to}


def message_to(user):
    (message,) = [m for m in mail.outbox if m.to == [user.email]]
    return message


def ics_of(message) -> Calendar:
    (part,) = message.attachments
    assert part.get_content_type() == "text/calendar"
    cal = Calendar.from_ical(part.get_payload(decode=True))
    assert part.get_param("method") == cal["METHOD"]  # mail clients read the MIME parameter
    return cal


@pytest.fixture
def group_meeting(cast):
    group = WorkingGroupFactory(chair_city=cast.owner_city)
    join_group(group, cast.owner.technician)
    return MeetingFactory(group=group, title="Zonas de bajas emisiones")


# --- Meeting notices ---------------------------------------------------------------------


def test_group_meeting_invitation_goes_to_its_members_and_the_coordinators(
    cast, group_meeting, unapproved_technician
):
    sent = tasks.send_meeting_notice(group_meeting.pk, "invitation", group_meeting.sequence)
    assert sent == 2
    assert recipients() == {cast.owner.email, cast.coordinator.email}


def test_network_meeting_invitation_goes_to_every_approved_technician(cast, unapproved_technician):
    meeting = MeetingFactory(kind=Meeting.Kind.ASSEMBLY, group=None)
    tasks.send_meeting_notice(meeting.pk, "invitation", meeting.sequence)
    assert recipients() == {cast.owner.email, cast.other.email, cast.coordinator.email}


@pytest.mark.parametrize("event", ["invitation", "confirmed", "changed"])
def test_calendar_notices_carry_the_meetings_request_file(cast, group_meeting, event):
    tasks.send_meeting_notice(group_meeting.pk, event, group_meeting.sequence)
    message = message_to(cast.owner)
    assert group_meeting.title in message.subject
    cal = ics_of(message)
    assert cal["METHOD"] == "REQUEST"
    (event_component,) = cal.walk("VEVENT")
    assert event_component["UID"] == f"{group_meeting.uid}@reci.example.org"
    assert event_component["ATTENDEE"] == f"mailto:{cast.owner.email}"  # RFC 5546 3.2.2
    assert f"https://reci.example.org/meetings/{group_meeting.pk}/" in message.body


def test_cancellation_notice_carries_a_cancel_file_and_the_reason(cast, group_meeting):
    group_meeting.status = Meeting.Status.CANCELLED
    group_meeting.cancellation_reason = "Coincide con el pleno municipal"
    group_meeting.sequence += 1
    group_meeting.save()
    tasks.send_meeting_notice(group_meeting.pk, "cancelled", group_meeting.sequence)
    message = message_to(cast.owner)
    assert "Coincide con el pleno municipal" in message.body
    cal = ics_of(message)
    assert cal["METHOD"] == "CANCEL"
    assert cal.walk("VEVENT")[0]["STATUS"] == "CANCELLED"
    assert cal.walk("VEVENT")[0]["ATTENDEE"] == f"mailto:{cast.owner.email}"  # RFC 5546 3.2.5


def test_each_recipients_file_names_them_with_their_answer(cast, group_meeting):
    """Regression: the e-mailed REQUEST had no ATTENDEE at all."""
    RSVP.objects.create(meeting=group_meeting, user=cast.owner, response="going")
    tasks.send_meeting_notice(group_meeting.pk, "changed", group_meeting.sequence)
    for user, partstat in ((cast.owner, "ACCEPTED"), (cast.coordinator, "NEEDS-ACTION")):
        (event,) = ics_of(message_to(user)).walk("VEVENT")
        attendees = event.get("ATTENDEE")
        assert not isinstance(attendees, list)  # the recipient alone, not the whole list
        assert attendees == f"mailto:{user.email}"
        assert attendees.params["PARTSTAT"] == partstat
        assert attendees.params["RSVP"] == "FALSE"  # answers are given on the portal


@pytest.mark.parametrize("event", ["scheduling", "minutes"])
def test_notices_that_change_no_calendar_have_no_file(cast, group_meeting, event):
    tasks.send_meeting_notice(group_meeting.pk, event, group_meeting.sequence)
    assert message_to(cast.owner).attachments == []


def test_a_notice_older_than_the_meetings_last_change_is_skipped(cast, group_meeting):
    old_sequence = group_meeting.sequence
    group_meeting.starts_at += timedelta(hours=2)
    group_meeting.ends_at += timedelta(hours=2)
    group_meeting.sequence += 1
    group_meeting.save()
    assert tasks.send_meeting_notice(group_meeting.pk, "invitation", old_sequence) == 0
    assert mail.outbox == []
    assert tasks.send_meeting_notice(group_meeting.pk, "changed", group_meeting.sequence) == 2


def test_a_notice_about_a_deleted_meeting_sends_nothing(db):
    assert tasks.send_meeting_notice(999_999, "invitation", 0) == 0


def test_each_recipient_reads_the_notice_in_their_language(cast, group_meeting):
    english = TechnicianFactory(city=cast.owner_city, languages="en,es")
    catalan = TechnicianFactory(city=cast.owner_city, languages="ca,en")  # no Catalan UI yet
    for technician in (english, catalan):
        join_group(group_meeting.group, technician)
    cast.owner.technician.languages = "es"
    cast.owner.technician.save()
    tasks.send_meeting_notice(group_meeting.pk, "invitation", group_meeting.sequence)
    # The meeting kind's label is translated in the project's locale.
    assert "Working group meeting" in message_to(english.user).body
    assert "Reunión de grupo de trabajo" in message_to(cast.owner).body
    assert settings.LANGUAGE_CODE == "es"
    assert "Reunión de grupo de trabajo" in message_to(catalan.user).body


def test_meeting_times_are_on_madrid_time(cast, group_meeting):
    group_meeting.starts_at = datetime(2027, 7, 6, 8, 0, tzinfo=UTC)
    group_meeting.ends_at = group_meeting.starts_at + timedelta(hours=1)
    group_meeting.save()
    cast.owner.technician.languages = "en"
    cast.owner.technician.save()
    tasks.send_meeting_notice(group_meeting.pk, "invitation", group_meeting.sequence)
    assert "10 a.m." in message_to(cast.owner).body  # 08:00 UTC is 10:00 in Madrid in July


class DownMailServer(BaseEmailBackend):
    attempts = 0

    def send_messages(self, messages):
        DownMailServer.attempts += 1
        raise SMTPServerDisconnected("connection refused")


def test_a_notice_is_retried_while_the_mail_server_is_down(cast, group_meeting, settings):
    settings.EMAIL_BACKEND = f"{__name__}.DownMailServer"
    DownMailServer.attempts = 0
    result = tasks.send_meeting_notice.apply(
        args=[group_meeting.pk, "invitation", group_meeting.sequence]
    )
    assert result.failed()
    assert DownMailServer.attempts == 1 + tasks.MAIL_RETRY["max_retries"]


# --- Reminders ---------------------------------------------------------------------------


def test_reminder_goes_once_for_meetings_starting_in_24_to_25_hours(cast, group_meeting):
    now = timezone.now()
    group_meeting.starts_at = now + timedelta(hours=24, minutes=30)
    group_meeting.ends_at = group_meeting.starts_at + timedelta(hours=1)
    group_meeting.save()
    MeetingFactory(group=group_meeting.group, starts_at=now + timedelta(hours=23))
    MeetingFactory(group=group_meeting.group, starts_at=now + timedelta(hours=26))
    MeetingFactory(
        group=group_meeting.group,
        starts_at=now + timedelta(hours=24, minutes=10),
        status=Meeting.Status.CANCELLED,
    )
    assert tasks.emails.send_meeting_reminders(now) == 2
    assert all(group_meeting.title in m.subject for m in mail.outbox)
    group_meeting.refresh_from_db()
    assert group_meeting.reminder_sent_for == group_meeting.starts_at
    assert tasks.emails.send_meeting_reminders(now) == 0
    assert len(mail.outbox) == 2


def test_a_rescheduled_meeting_gets_a_new_reminder(cast, group_meeting):
    now = timezone.now()
    group_meeting.starts_at = now + timedelta(hours=24, minutes=30)
    group_meeting.ends_at = group_meeting.starts_at + timedelta(hours=1)
    group_meeting.save()
    tasks.emails.send_meeting_reminders(now)
    group_meeting.starts_at += timedelta(days=2)
    group_meeting.ends_at += timedelta(days=2)
    group_meeting.save()
    later = now + timedelta(days=2)
    assert tasks.emails.send_meeting_reminders(later) == 2
    assert len(mail.outbox) == 4


def test_the_reminder_task_runs_with_the_current_time(cast, group_meeting):
    group_meeting.starts_at = timezone.now() + timedelta(hours=24, minutes=30)
    group_meeting.ends_at = group_meeting.starts_at + timedelta(hours=1)
    group_meeting.save()
    assert tasks.send_meeting_reminders() == 2


# --- Weekly digest -----------------------------------------------------------------------


@pytest.fixture
def news(cast):
    """A week of network life: a city joined, a technician approved, a package published."""
    now = timezone.now()
    city = CityFactory(name="Alcobendas", joined_on=timezone.localdate() - timedelta(days=2))
    newcomer = TechnicianFactory(city=city, approved_at=now - timedelta(days=1))
    newcomer.user.first_name, newcomer.user.last_name = "Lucía", "Gómez"
    newcomer.user.save()
    ScenarioPackage.objects.create(owner_city=city, slug="ruido", title="Calles escolares")
    ScenarioPackage.objects.create(
        owner_city=city, slug="privado", title="Borrador privado", visibility=Visibility.CITY
    )
    return city


def test_weekly_digest_tells_the_weeks_news(cast, news):
    group = WorkingGroupFactory()
    join_group(group, cast.owner.technician)
    MeetingFactory(group=group, title="Reunión de mi grupo")
    MeetingFactory(title="Reunión de otro grupo")
    MeetingFactory(
        kind="assembly",
        group=None,
        title="Asamblea lejana",
        starts_at=timezone.now() + timedelta(30),
    )
    tasks.send_weekly_digest()
    body = message_to(cast.owner).body
    assert "Reunión de mi grupo" in body
    assert "Reunión de otro grupo" not in body
    assert "Asamblea lejana" not in body  # more than two weeks away
    assert "Alcobendas" in body
    assert "Lucía Gómez" in body
    assert "Calles escolares" in body
    assert "Borrador privado" not in body  # another city's private package
    assert "Borrador privado" in message_to(Technician.objects.get(city=news).user).body


def test_weekly_digest_is_not_sent_twice_within_six_days(cast, news):
    now = timezone.now()
    first = tasks.emails.send_weekly_digest(now)
    assert first == len(mail.outbox) > 0
    assert tasks.emails.send_weekly_digest(now + timedelta(days=5)) == 0
    # A week later there is news again: a new member city.
    CityFactory(name="Getafe", joined_on=timezone.localdate() + timedelta(days=6))
    assert tasks.emails.send_weekly_digest(now + timedelta(days=7)) == first


def test_nobody_gets_an_empty_digest(cast):
    assert tasks.send_weekly_digest() == 0
    assert mail.outbox == []
    assert not Technician.objects.filter(digest_sent_at__isnull=False).exists()


def test_the_digest_goes_only_to_subscribed_approved_technicians(cast, news, unapproved_technician):
    cast.other.technician.weekly_digest = False
    cast.other.technician.save()
    tasks.send_weekly_digest()
    assert cast.owner.email in recipients()
    assert cast.other.email not in recipients()
    assert unapproved_technician.email not in recipients()
    assert cast.coordinator.email not in recipients()  # not a technician


# --- Membership decisions ----------------------------------------------------------------


def application(status: str, reason: str = "") -> MembershipApplication:
    return MembershipApplication.objects.create(
        municipality=MunicipalityFactory(name="Villanueva del Río"),
        applicant=UserFactory(),
        applicant_position="Concejal de innovación",
        tier="full",
        motivation="Compartir gemelos digitales",
        status=status,
        decision_reason=reason,
    )


def test_approved_membership_is_announced_to_the_applicant(db):
    approved = application(MembershipApplication.Status.APPROVED)
    assert tasks.send_membership_decision(approved.pk) == 1
    message = message_to(approved.applicant)
    assert "Villanueva del Río" in message.subject
    assert "Villanueva del Río" in message.body


def test_declined_membership_notice_gives_the_reason(db):
    declined = application(MembershipApplication.Status.DECLINED, "Falta el acuerdo del pleno")
    tasks.send_membership_decision(declined.pk)
    assert "Falta el acuerdo del pleno" in message_to(declined.applicant).body


def test_an_undecided_application_sends_nothing(db):
    assert tasks.send_membership_decision(application("pending").pk) == 0
    assert mail.outbox == []


def test_approved_technician_is_told(cast):
    user = cast.owner
    assert tasks.send_technician_decision(user.pk, cast.owner_city.pk, True, "") == 1
    assert "Granada" in message_to(user).subject


def test_declined_technician_is_told_why_even_with_the_request_deleted(cast):
    user = UserFactory()  # the declined request is deleted before the notice goes out
    tasks.send_technician_decision(user.pk, cast.owner_city.pk, False, "No trabaja en Granada")
    body = message_to(user).body
    assert "No trabaja en Granada" in body
    assert "Granada" in body


# --- Scheduling and the worker -----------------------------------------------------------


def test_the_beat_schedule_names_the_reminder_and_digest_tasks():
    app.loader.import_default_modules()
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule == {"cities.tasks.send_meeting_reminders", "cities.tasks.send_weekly_digest"}
    assert schedule <= set(app.tasks)
    digest = settings.CELERY_BEAT_SCHEDULE["weekly-digest"]["schedule"]
    assert (digest.hour, digest.minute, digest.day_of_week) == ({7}, {0}, {1})
    assert settings.CELERY_TIMEZONE == "Europe/Madrid"


def wait_for_mail(folder, timeout: float, worker) -> list:
    """The messages the file backend wrote (one file per connection, messages split by dashes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("*.log"))
        if files:
            time.sleep(1)  # let the backend finish the file
            chunks = b"".join(f.read_bytes() for f in files).split(b"-" * 79)
            return [email.message_from_bytes(c.strip()) for c in chunks if c.strip()]
        time.sleep(0.2)
    raise AssertionError(f"no e-mail after {timeout} s\n{worker.log()}")


@pytest.mark.worker
@pytest.mark.timeout(180)
def test_a_committed_meeting_change_reaches_the_invitees_through_the_worker(
    cast, start_worker, tmp_path
):
    outbox = tmp_path / "mail"
    worker = start_worker(
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        RECI_EMAIL_FILE_PATH=outbox,
    )
    meeting = MeetingFactory(kind="assembly", group=None, title="Asamblea de primavera")
    with transaction.atomic():
        meeting.sequence += 1
        meeting.save()
        notifications.meeting_event(meeting, "changed")
        assert not outbox.exists()  # nothing is queued before the commit
    messages = wait_for_mail(outbox, 60, worker)
    assert {m["To"] for m in messages} == {
        cast.owner.email,
        cast.other.email,
        cast.coordinator.email,
    }
    for message in messages:
        assert "Asamblea de primavera" in str(make_header(decode_header(message["Subject"])))
        (ics,) = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
        event = Calendar.from_ical(ics.get_payload(decode=True)).walk("VEVENT")[0]
        assert event["SEQUENCE"] == meeting.sequence
