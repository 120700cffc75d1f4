"""The permission matrix: every page and API endpoint of the network, with the whole cast.

The cast (tests/conftest.py): a coordinator, a technician of the owning city (Granada), a
technician of another city (Móstoles) and an anonymous visitor. Each row of ROWS (pages) and
API_ROWS (/api/v1/) names a URL, the arguments it takes from the `world` fixture (a key of
ARGS), the HTTP method and the status each member of the cast gets. A row with `admins=True`
first makes both technicians the city admins of their own cities (Technician.role), so that it
checks object-level ownership: Granada's admin may act on Granada, Móstoles's admin may not.

A POST is refused when the answer is a 4xx or, for an anonymous visitor, the way to sign in; a
refused POST leaves the row's `state` as it was. A signed-in POST answered with a redirect
(pages) or a 200/201 (API) is a success and must change the state: the rows post valid bodies
wherever the view would save something, so that "nothing changed" is not vacuous.

test_every_view_has_a_row and test_every_api_route_has_rows fail for a URL without a row.
Rules: cities/permissions.py and docs/network.md ("Roles and who may do what").
"""

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cities.models import (
    RSVP,
    AgendaItem,
    Attendance,
    CalendarFeedToken,
    City,
    GroupMembership,
    Meeting,
    MeetingAttachment,
    MeetingSlot,
    MembershipApplication,
    SlotAvailability,
    Technician,
    WorkingGroup,
    WorkPlanItem,
)
from cities.services import meetings as workflow
from tests.factories import (
    AgendaItemFactory,
    MeetingFactory,
    MunicipalityFactory,
    TechnicianFactory,
    UserFactory,
    WorkingGroupFactory,
    WorkPlanItemFactory,
    join_group,
)

CAST = ("coordinator", "owner", "other", "anonymous")
LOGIN = "login"  # a 302 to account_login


def who(coordinator, owner, other, anonymous=LOGIN) -> dict:
    return {"coordinator": coordinator, "owner": owner, "other": other, "anonymous": anonymous}


PUBLIC = who(200, 200, 200, 200)
MEMBERS = who(200, 200, 200)
COORDINATORS = who(200, 403, 403)
NOT_FOUND = who(404, 404, 404, 404)
DONE_BY_COORDINATORS = who(302, 403, 403)  # a POST: the coordinator is redirected, done
DONE_BY_MEMBERS = who(302, 302, 302)
FORM_AGAIN = who(200, 403, 403)  # an empty POST: the coordinator gets the form and its errors


class Row(NamedTuple):
    name: str
    method: str
    expected: dict
    args: str = ""  # a key of ARGS
    data: dict | Callable = {}  # noqa: RUF012 (never mutated)
    state: Callable | None = None  # what a refused POST must leave as it was
    admins: bool = False
    note: str = ""

    def url(self, w) -> str:
        return reverse(self.name, args=ARGS[self.args](w))

    def body(self, w) -> dict:
        return self.data(w) if callable(self.data) else self.data


def get(name, expected, args="", ns="cities:", **kwargs) -> Row:
    return Row(ns + name, "GET", expected, args, **kwargs)


def post(name, expected, args="", data={}, state=None, ns="cities:", **kwargs) -> Row:  # noqa: B006
    return Row(ns + name, "POST", expected, args, data, state, **kwargs)


def count(model) -> Callable:
    return lambda w: model.objects.count()


def value(model, attr: str) -> Callable:
    """Every column of one object of the world, as the database has it."""
    return lambda w: model.objects.filter(pk=getattr(w, attr).pk).values_list().first()


ARGS = {
    "": lambda w: [],
    "granada": lambda w: [w.granada.slug],
    "group": lambda w: [w.group.slug],
    "open_group": lambda w: [w.open_group.slug],
    "item": lambda w: [w.group.slug, w.item.pk],
    "meeting": lambda w: [w.meeting.pk],
    "past": lambda w: [w.past.pk],
    "poll": lambda w: [w.poll.pk],
    "attachment": lambda w: [w.meeting.pk, w.attachment.pk],
    "application": lambda w: [w.application.pk],
    "pending": lambda w: [w.pending.pk],
    "owner": lambda w: [w.owner.pk],
    "feed": lambda w: [w.feed_token],
    "revoked": lambda w: [w.revoked_token],
    "group_feed": lambda w: [w.feed_token, w.group.slug],
    "revoked_group_feed": lambda w: [w.revoked_token, w.group.slug],
}


@pytest.fixture
def world(cast):
    # Signing up verifies the address (ACCOUNT_EMAIL_VERIFICATION = "mandatory"): so does the cast.
    for user in (cast.coordinator, cast.owner, cast.other):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    owner, other = cast.owner.technician, cast.other.technician
    group = WorkingGroupFactory(chair_city=cast.owner_city, slug="movilidad")
    join_group(group, owner)
    join_group(group, other)
    meeting = MeetingFactory(group=group, title="Reunión de movilidad")
    AgendaItemFactory(meeting=meeting, title="Bienvenida")
    start = timezone.now() - timedelta(hours=2)
    poll = MeetingFactory(group=group, status="scheduling", starts_at=None, ends_at=None)
    soon = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    applicant = UserFactory()
    EmailAddress.objects.create(user=applicant, email=applicant.email, verified=True)
    revoked = CalendarFeedToken.objects.create(user=cast.owner, revoked_at=timezone.now())
    WorkPlanItemFactory(group=group, title="Inventario", position=1)
    return SimpleNamespace(
        cast=cast,
        granada=cast.owner_city,
        owner=owner,
        group=group,
        open_group=WorkingGroupFactory(chair_city=cast.other_city, slug="energia"),
        item=WorkPlanItemFactory(group=group, owner=owner, title="Aforos", position=0),
        meeting=meeting,
        past=MeetingFactory(group=group, starts_at=start, ends_at=start + timedelta(hours=1)),
        poll=poll,
        slot=MeetingSlot.objects.create(
            meeting=poll, starts_at=soon, ends_at=soon + timedelta(hours=1)
        ),
        attachment=workflow.add_attachment(
            meeting,
            title="Orden del día",
            file=SimpleUploadedFile("orden.pdf", b"%PDF-1.4 agenda"),
            uploaded_by=cast.coordinator,
        ),
        application=MembershipApplication.objects.create(
            municipality=MunicipalityFactory(),
            applicant=applicant,
            applicant_position="Jefa de innovación",
            tier="full",
            motivation="Compartir gemelos digitales.",
        ),
        pending=TechnicianFactory(city=cast.owner_city, approved=False, position="Jefa"),
        feed_token=CalendarFeedToken.objects.create(user=cast.owner).token,
        revoked_token=revoked.token,
        free_municipality=MunicipalityFactory(),
    )


def make_city_admins(cast) -> None:
    Technician.objects.filter(user__in=[cast.owner, cast.other]).update(role="city_admin")


# Bodies: valid wherever the view would save something.
def apply_body(w) -> dict:
    town = w.free_municipality
    return {
        "municipality_q": town.name,
        "municipality": town.ine_code,
        "applicant_position": "Alcaldesa",
        "motivation": "Gemelos digitales.",
    }


PROFILE = {"first_name": "Lucía", "last_name": "Martín", "position": "Ingeniera", "languages": "es"}
NEW_GROUP = {"name": "Agua", "area": "water_waste", "remit": "Ciclo del agua.", "is_active": "on"}
NEW_ITEM = {"title": "Encuesta", "status": "planned"}
CITY_BODY = {"website": "https://granada.es/", "tier": "full"}
APPROVE = {"decision": "approve"}
CANCEL = {"reason": "Huelga de transporte"}
MINUTES = {"minutes": "Se aprobó el plan."}


def join_body(w):
    return {"city": w.cast.other_city.pk, "position": "Técnico"}


def new_group_body(w):
    return {**NEW_GROUP, "chair_city": w.granada.pk}


def group_body(w):
    return {**NEW_GROUP, "name": "Movilidad activa", "chair_city": w.granada.pk}


def item_body(w):
    return {"title": "Aforos de bicis", "status": "planned", "owner": w.owner.pk}


def available(w):
    return {f"slot_{w.slot.pk}": "yes"}


def confirm(w):
    return {"slot": w.slot.pk}


def attendees(w):
    return {"attendees": [w.cast.owner.pk]}


# States: what a refused POST must leave as it was.
CITY_STATE = value(City, "granada")
APPLICATION_STATE = value(MembershipApplication, "application")
PENDING_STATE = value(Technician, "pending")
ITEM_STATE = value(WorkPlanItem, "item")


def positions(w):
    return sorted(Technician.objects.values_list("pk", "position"))


# --- the pages: every url name of the `cities` namespace --------------------------------------

ROWS = [
    # The directory and membership applications.
    get("city-list", PUBLIC),
    get("city-detail", PUBLIC, "granada"),
    get("city-edit", COORDINATORS, "granada", note="plain technicians"),
    get("city-edit", who(200, 200, 403), "granada", admins=True),
    post("city-edit", who(302, 302, 403), "granada", CITY_BODY, CITY_STATE, admins=True),
    # A technician acts for one city and coordinators decide applications: none of them applies.
    get("membership-apply", who(403, 403, 403)),
    post("membership-apply", who(403, 403, 403), "", apply_body, count(MembershipApplication)),
    get("membership-list", COORDINATORS),
    get("membership-decide", COORDINATORS, "application"),
    post("membership-decide", DONE_BY_COORDINATORS, "application", APPROVE, APPLICATION_STATE),
    get("membership-mine", MEMBERS),
    # People. Coordinators act for the whole network: they neither join a city (they could
    # approve their own request) nor apply for one.
    get("technician-request", who(403, 403, 403)),
    post("technician-request", who(403, 403, 403), "", join_body, count(Technician)),
    get("technician-requests", COORDINATORS, note="plain technicians"),
    get("technician-requests", MEMBERS, admins=True),  # each admin sees their own city's
    get("technician-decide", COORDINATORS, "pending", note="plain technicians"),
    get("technician-decide", who(200, 200, 403), "pending", admins=True),
    post("technician-decide", who(302, 302, 403), "pending", APPROVE, PENDING_STATE, admins=True),
    get("technician-list", MEMBERS),
    get("technician-detail", MEMBERS, "owner"),
    # Each technician edits their own profile; a coordinator has none.
    get("profile-edit", who(403, 200, 200)),
    post("profile-edit", who(403, 302, 302), "", PROFILE, positions),
    # Working groups and work plans: the item's owner changes its status, and only that.
    get("group-list", PUBLIC),
    get("group-detail", PUBLIC, "group"),
    get("group-create", COORDINATORS),
    post("group-create", DONE_BY_COORDINATORS, "", new_group_body, count(WorkingGroup)),
    get("group-edit", COORDINATORS, "group"),
    post("group-edit", DONE_BY_COORDINATORS, "group", group_body, value(WorkingGroup, "group")),
    post("group-join", who(403, 302, 302), "open_group", state=count(GroupMembership)),
    post("group-leave", who(403, 302, 302), "group", state=count(GroupMembership)),
    get("workitem-create", COORDINATORS, "group"),
    post("workitem-create", DONE_BY_COORDINATORS, "group", NEW_ITEM, count(WorkPlanItem)),
    get("workitem-edit", COORDINATORS, "item"),
    post("workitem-edit", DONE_BY_COORDINATORS, "item", item_body, value(WorkPlanItem, "item")),
    post("workitem-delete", DONE_BY_COORDINATORS, "item", state=count(WorkPlanItem)),
    post("workitem-move", DONE_BY_COORDINATORS, "item", {"direction": "down"}, ITEM_STATE),
    post("workitem-status", who(302, 302, 403), "item", {"status": "done"}, ITEM_STATE),
    # Meetings.
    get("meeting-list", MEMBERS),
    get("meeting-detail", MEMBERS, "meeting"),
    get("meeting-create", COORDINATORS),
    post("meeting-create", FORM_AGAIN, state=count(Meeting)),
    get("meeting-edit", COORDINATORS, "meeting"),
    post("meeting-edit", FORM_AGAIN, "meeting", state=value(Meeting, "meeting")),
    get("meeting-cancel", COORDINATORS, "meeting"),
    post("meeting-cancel", DONE_BY_COORDINATORS, "meeting", CANCEL, value(Meeting, "meeting")),
    get("meeting-agenda", COORDINATORS, "meeting"),
    post("meeting-agenda", FORM_AGAIN, "meeting", state=count(AgendaItem)),
    get("meeting-attachment-add", COORDINATORS, "meeting"),
    post("meeting-attachment-add", FORM_AGAIN, "meeting", state=count(MeetingAttachment)),
    get("meeting-attachment", MEMBERS, "attachment"),
    post("meeting-rsvp", DONE_BY_MEMBERS, "meeting", {"response": "going"}, count(RSVP)),
    post("meeting-availability", DONE_BY_MEMBERS, "poll", available, count(SlotAvailability)),
    post("meeting-confirm", DONE_BY_COORDINATORS, "poll", confirm, value(Meeting, "poll")),
    get("meeting-attendance", COORDINATORS, "past"),
    post("meeting-attendance", DONE_BY_COORDINATORS, "past", attendees, count(Attendance)),
    get("meeting-minutes", COORDINATORS, "past"),
    post("meeting-minutes", DONE_BY_COORDINATORS, "past", MINUTES, value(Meeting, "past")),
    # Calendars. A feed's secret token is its only credential: whoever holds it reads it.
    get("meeting-ics", MEMBERS, "meeting"),
    get("calendar-settings", MEMBERS),
    post("calendar-token", DONE_BY_MEMBERS, state=count(CalendarFeedToken)),
    get("private-feed", PUBLIC, "feed"),
    get("private-feed", NOT_FOUND, "revoked", note="revoked"),
    get("group-feed", PUBLIC, "group_feed"),
    get("group-feed", NOT_FOUND, "revoked_group_feed", note="revoked"),
    # The API token page (cities.views.tokens, outside the namespace).
    get("api-token", MEMBERS, ns=""),
    post("api-token", DONE_BY_MEMBERS, state=count(Token), ns=""),
]


def client_for(cast, member: str) -> Client:
    client = Client(headers={"accept-language": "en"})
    user = cast.users()[member]
    if user.is_authenticated:
        client.force_login(user)
    return client


def cases(rows):
    ids = [" ".join(filter(None, [r.method, r.name, r.note])) for r in rows]
    return [
        pytest.param(r, m, id=f"{i} [{m}]") for r, i in zip(rows, ids, strict=True) for m in CAST
    ]


@pytest.mark.parametrize(("row", "member"), cases(ROWS))
def test_pages(cast, world, row, member):
    if row.admins:
        make_city_admins(cast)
    before = row.state(world) if row.state else None
    client = client_for(cast, member)
    response = getattr(client, row.method.lower())(row.url(world), row.body(world))
    if response.streaming:
        b"".join(response.streaming_content)
    expected = row.expected[member]
    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected
    if row.state:  # a signed-in redirect is a success; anything else changes nothing
        assert (row.state(world) != before) is (expected == 302), (before, row.state(world))


# --- the API: the endpoints the cities app registers on the router ----------------------------


def meeting_body(w) -> dict:
    starts = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
    return {
        "kind": "group",
        "group": w.group.slug,
        "title": "Seguimiento",
        "mode": "online",
        "online_url": "https://meet.example.org/seguimiento",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "status": "scheduled",
    }


def api(name, method, expected, args="", data={}, state=None, **kwargs) -> Row:  # noqa: B006
    return Row(name, method, expected, args, data, state, **kwargs)


# Anonymous callers get 401 (TokenAuthentication's WWW-Authenticate), never a login page; a
# method the viewset does not offer is a 405, before or after authentication.
API_PUBLIC = who(200, 200, 200, 200)
API_MEMBERS = who(200, 200, 200, 401)
API_CREATE = who(201, 403, 403, 401)
API_COORDINATORS = who(200, 403, 403, 401)
NO_SUCH_METHOD = who(405, 405, 405, 405)
NO_SUCH_METHOD_FOR_MEMBERS = who(405, 405, 405, 401)
WG_BODY = {"slug": "agua", "chair_city": "mostoles", **NEW_GROUP}
MEMBERSHIPS = count(GroupMembership)
NAZARI = {"description": "Ciudad nazarí."}  # no tier: only coordinators change it
POSITION, REMIT, TITLE = {"position": "Ingeniera"}, {"remit": "Datos."}, {"title": "Plan revisado"}

TECHNICIAN_STATE = value(Technician, "owner")
GROUP_STATE = value(WorkingGroup, "group")
MEETING_STATE = value(Meeting, "meeting")

API_ROWS = [
    api("city-list", "GET", API_PUBLIC),
    api("city-detail", "GET", API_PUBLIC, "granada"),
    api("city-list", "POST", NO_SUCH_METHOD, data={"name": "Nueva"}, state=count(City)),
    api("city-detail", "PATCH", API_COORDINATORS, "granada", NAZARI, CITY_STATE, note="plain"),
    api(
        "city-detail",
        "PATCH",
        who(200, 200, 403, 401),
        "granada",
        NAZARI,
        CITY_STATE,
        admins=True,
    ),
    api("city-detail", "DELETE", NO_SUCH_METHOD, "granada", state=count(City)),
    api("technician-list", "GET", API_MEMBERS),
    api("technician-detail", "GET", API_MEMBERS, "owner"),
    api("technician-list", "POST", NO_SUCH_METHOD_FOR_MEMBERS, state=count(Technician)),
    # One's own profile only, not even a coordinator's.
    api("technician-detail", "PATCH", who(403, 200, 403, 401), "owner", POSITION, TECHNICIAN_STATE),
    api(
        "technician-detail", "DELETE", NO_SUCH_METHOD_FOR_MEMBERS, "owner", state=count(Technician)
    ),
    api("working-group-list", "GET", API_PUBLIC),
    api("working-group-detail", "GET", API_PUBLIC, "group"),
    api("working-group-list", "POST", API_CREATE, data=WG_BODY, state=count(WorkingGroup)),
    api("working-group-detail", "PATCH", API_COORDINATORS, "group", REMIT, GROUP_STATE),
    api("working-group-detail", "DELETE", NO_SUCH_METHOD, "group", state=count(WorkingGroup)),
    api("working-group-join", "POST", who(403, 200, 200, 401), "open_group", state=MEMBERSHIPS),
    api("working-group-leave", "POST", who(403, 200, 200, 401), "group", state=MEMBERSHIPS),
    api("meeting-list", "GET", API_MEMBERS),
    api("meeting-detail", "GET", API_MEMBERS, "meeting"),
    api("meeting-list", "POST", API_CREATE, data=meeting_body, state=count(Meeting)),
    api("meeting-detail", "PATCH", API_COORDINATORS, "meeting", TITLE, MEETING_STATE),
    api("meeting-detail", "DELETE", NO_SUCH_METHOD_FOR_MEMBERS, "meeting", state=count(Meeting)),
    api("meeting-rsvp", "POST", API_MEMBERS, "meeting", {"response": "going"}, count(RSVP)),
]


def api_client_for(cast, member: str) -> APIClient:
    """Token authentication, as the API's programs use it (no session, CSRF enforced)."""
    client = APIClient(enforce_csrf_checks=True)
    user = cast.users()[member]
    if user.is_authenticated:
        token, _created = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.mark.parametrize(("row", "member"), cases(API_ROWS))
def test_api(cast, world, row, member):
    if row.admins:
        make_city_admins(cast)
    before = row.state(world) if row.state else None
    call = getattr(api_client_for(cast, member), row.method.lower())
    body = {"data": row.body(world), "format": "json"} if row.method != "GET" else {}
    response = call(row.url(world), **body)
    expected = row.expected[member]
    assert response.status_code == expected, response.content
    if row.state:
        assert (row.state(world) != before) is (expected in (200, 201)), response.content


# --- completeness: a new view or route without a row fails here -------------------------------


def url_names(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from url_names(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name


def test_every_view_has_a_row():
    names = {name for name in url_names(get_resolver()) if name.startswith("cities:")}
    assert len(names) > 30  # the walk went through the includes
    assert names - {r.name for r in ROWS} == set()


def from_cities(viewset) -> bool:
    return viewset.__module__.startswith("cities.")


def test_every_api_route_has_rows():
    from reci.urls import router

    basenames = {basename for _prefix, viewset, basename in router.registry if from_cities(viewset)}
    assert basenames == {"city", "technician", "working-group", "meeting"}
    routes = {p.name for p in router.urls if p.name and from_cities(getattr(p.callback, "cls", ""))}
    assert routes - {r.name for r in API_ROWS} == set()
    # List, retrieve, create, update and delete of every basename, each tried by the cast.
    tried = {(r.name, r.method) for r in API_ROWS}
    for basename in basenames:
        for suffix, method in [("list", "GET"), ("detail", "GET"), ("list", "POST")]:
            assert (f"{basename}-{suffix}", method) in tried
        assert {(f"{basename}-detail", m) for m in ("PATCH", "DELETE")} <= tried
