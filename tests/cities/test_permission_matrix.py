"""The permission matrix: every page and API endpoint of the network, with the whole cast.

The cast (tests/conftest.py): a coordinator, a technician of the owning city (Granada), one of
another city (Móstoles) and an anonymous visitor. A row names a URL, its arguments (a key of
ARGS, built from the `world` fixture), the method and each member's status. `admins=True` makes
both technicians admins of their own cities first: Granada's admin may act on Granada, Móstoles's
may not. A refused request leaves the row's `state` as it was; a successful POST (a signed-in
redirect on pages, a 200/201 on the API) must change it, so the rows post valid bodies.
The completeness tests fail for a URL without a row. Rules: cities/permissions.py, docs/network.md.
"""

from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import NamedTuple

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
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
COORDINATORS_DO = who(302, 403, 403)  # a POST: the coordinator is redirected, done
MEMBERS_DO = who(302, 302, 302)
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


def column(model, field: str) -> Callable:
    return lambda w: sorted(model.objects.values_list("pk", field))


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
    start, hour = timezone.now() - timedelta(hours=2), timedelta(hours=1)
    poll = MeetingFactory(group=group, status="scheduling", starts_at=None, ends_at=None)
    soon = (timezone.now() + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
    applicant, town = UserFactory(), MunicipalityFactory()
    EmailAddress.objects.create(user=applicant, email=applicant.email, verified=True)
    pdf = SimpleUploadedFile("orden.pdf", b"%PDF-1.4 agenda")
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
        past=MeetingFactory(group=group, starts_at=start, ends_at=start + hour),
        poll=poll,
        slot=MeetingSlot.objects.create(meeting=poll, starts_at=soon, ends_at=soon + hour),
        attachment=workflow.add_attachment(
            meeting, title="Orden del día", file=pdf, uploaded_by=cast.coordinator
        ),
        application=MembershipApplication.objects.create(
            municipality=town, applicant=applicant, applicant_position="CIO", tier="full"
        ),
        pending=TechnicianFactory(city=cast.owner_city, approved=False, position="Jefa"),
        feed_token=CalendarFeedToken.objects.create(user=cast.owner).token,
        revoked_token=revoked.token,
        free_municipality=MunicipalityFactory(),
    )


def make_city_admins(cast) -> None:
    technicians = Technician.objects.filter(user__in=[cast.owner, cast.other])
    technicians.update(role=Technician.Role.CITY_ADMIN)


# Bodies: valid wherever the view would save something.
PROFILE = {"first_name": "Lucía", "last_name": "Martín", "position": "Ingeniera", "languages": "es"}
NEW_GROUP = {"name": "Agua", "area": "water_waste", "remit": "Ciclo del agua.", "is_active": "on"}
NEW_ITEM = {"title": "Encuesta", "status": "planned"}
CITY_BODY = {"website": "https://granada.es/", "tier": "full"}
APPROVE = {"decision": "approve"}
CANCEL = {"reason": "Huelga de transporte"}
MINUTES = {"minutes": "Se aprobó el plan."}
SOON = (timezone.now() + timedelta(days=10)).replace(microsecond=0)
BODY = {
    "apply": lambda w: {
        "municipality_q": w.free_municipality.name,
        "municipality": w.free_municipality.ine_code,
        "applicant_position": "Alcaldesa",
        "motivation": "Gemelos digitales.",
    },
    "join": lambda w: {"city": w.cast.other_city.pk, "position": "Técnico"},
    "new_group": lambda w: {**NEW_GROUP, "chair_city": w.granada.pk},
    "group": lambda w: {**NEW_GROUP, "name": "Movilidad activa", "chair_city": w.granada.pk},
    "item": lambda w: {"title": "Aforos de bicis", "status": "planned", "owner": w.owner.pk},
    "available": lambda w: {f"slot_{w.slot.pk}": "yes"},
    "confirm": lambda w: {"slot": w.slot.pk},
    "attendees": lambda w: {"attendees": [w.cast.owner.pk]},
    "meeting": lambda w: {
        **{"kind": "group", "group": w.group.slug, "title": "Seguimiento", "mode": "online"},
        "online_url": "https://meet.example.org/seguimiento",
        "starts_at": SOON.isoformat(),
        "ends_at": (SOON + timedelta(hours=2)).isoformat(),
        "status": "scheduled",
    },
}

# States: what a refused POST must leave as it was.
CITY_STATE = value(City, "granada")
APPLICATION_STATE = value(MembershipApplication, "application")
PENDING_STATE = value(Technician, "pending")
ITEM_STATE = value(WorkPlanItem, "item")


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
    post("membership-apply", who(403, 403, 403), "", BODY["apply"], count(MembershipApplication)),
    get("membership-list", COORDINATORS),
    get("membership-decide", COORDINATORS, "application"),
    post("membership-decide", COORDINATORS_DO, "application", APPROVE, APPLICATION_STATE),
    get("membership-mine", MEMBERS),
    # People. Coordinators act for the whole network: they neither join a city (they could
    # approve their own request) nor apply for one.
    get("technician-request", who(403, 403, 403)),
    post("technician-request", who(403, 403, 403), "", BODY["join"], count(Technician)),
    get("technician-requests", COORDINATORS, note="plain technicians"),
    get("technician-requests", MEMBERS, admins=True),  # each admin sees their own city's
    get("technician-decide", COORDINATORS, "pending", note="plain technicians"),
    get("technician-decide", who(200, 200, 403), "pending", admins=True),
    post("technician-decide", who(302, 302, 403), "pending", APPROVE, PENDING_STATE, admins=True),
    get("technician-list", MEMBERS),
    get("technician-detail", MEMBERS, "owner"),
    # Each technician edits their own profile; a coordinator has none.
    get("profile-edit", who(403, 200, 200)),
    post("profile-edit", who(403, 302, 302), "", PROFILE, column(Technician, "position")),
    # Working groups and work plans: the item's owner changes its status, and only that.
    get("group-list", PUBLIC),
    get("group-detail", PUBLIC, "group"),
    get("group-create", COORDINATORS),
    post("group-create", COORDINATORS_DO, "", BODY["new_group"], count(WorkingGroup)),
    get("group-edit", COORDINATORS, "group"),
    post("group-edit", COORDINATORS_DO, "group", BODY["group"], value(WorkingGroup, "group")),
    post("group-join", who(403, 302, 302), "open_group", state=count(GroupMembership)),
    post("group-leave", who(403, 302, 302), "group", state=count(GroupMembership)),
    get("workitem-create", COORDINATORS, "group"),
    post("workitem-create", COORDINATORS_DO, "group", NEW_ITEM, count(WorkPlanItem)),
    get("workitem-edit", COORDINATORS, "item"),
    post("workitem-edit", COORDINATORS_DO, "item", BODY["item"], value(WorkPlanItem, "item")),
    post("workitem-delete", COORDINATORS_DO, "item", state=count(WorkPlanItem)),
    post("workitem-move", COORDINATORS_DO, "item", {"direction": "down"}, ITEM_STATE),
    post("workitem-status", who(302, 302, 403), "item", {"status": "done"}, ITEM_STATE),
    # Meetings.
    get("meeting-list", MEMBERS),
    get("meeting-detail", MEMBERS, "meeting"),
    get("meeting-create", COORDINATORS),
    post("meeting-create", FORM_AGAIN, state=count(Meeting)),
    get("meeting-edit", COORDINATORS, "meeting"),
    post("meeting-edit", FORM_AGAIN, "meeting", state=value(Meeting, "meeting")),
    get("meeting-cancel", COORDINATORS, "meeting"),
    post("meeting-cancel", COORDINATORS_DO, "meeting", CANCEL, value(Meeting, "meeting")),
    get("meeting-agenda", COORDINATORS, "meeting"),
    post("meeting-agenda", FORM_AGAIN, "meeting", state=count(AgendaItem)),
    get("meeting-attachment-add", COORDINATORS, "meeting"),
    post("meeting-attachment-add", FORM_AGAIN, "meeting", state=count(MeetingAttachment)),
    get("meeting-attachment", MEMBERS, "attachment"),
    post("meeting-rsvp", MEMBERS_DO, "meeting", {"response": "going"}, count(RSVP)),
    post("meeting-availability", MEMBERS_DO, "poll", BODY["available"], count(SlotAvailability)),
    post("meeting-confirm", COORDINATORS_DO, "poll", BODY["confirm"], value(Meeting, "poll")),
    get("meeting-attendance", COORDINATORS, "past"),
    post("meeting-attendance", COORDINATORS_DO, "past", BODY["attendees"], count(Attendance)),
    get("meeting-minutes", COORDINATORS, "past"),
    post("meeting-minutes", COORDINATORS_DO, "past", MINUTES, value(Meeting, "past")),
    # Calendars. A feed's secret token is its only credential: whoever holds it reads it.
    get("meeting-ics", MEMBERS, "meeting"),
    get("calendar-settings", MEMBERS),
    post("calendar-token", MEMBERS_DO, state=count(CalendarFeedToken)),
    get("private-feed", PUBLIC, "feed"),
    get("private-feed", NOT_FOUND, "revoked", note="revoked"),
    get("group-feed", PUBLIC, "group_feed"),
    get("group-feed", NOT_FOUND, "revoked_group_feed", note="revoked"),
    # The API token page (cities.views.tokens, outside the namespace).
    get("api-token", MEMBERS, ns=""),
    post("api-token", MEMBERS_DO, state=count(Token), ns=""),
]


def cases(rows):
    ids = [" ".join(filter(None, [r.method, r.name, r.note, "admins" * r.admins])) for r in rows]
    return [
        pytest.param(r, m, id=f"{i} [{m}]") for r, i in zip(rows, ids, strict=True) for m in CAST
    ]


@pytest.mark.parametrize(("row", "member"), cases(ROWS))
def test_pages(cast, world, row, member):
    if row.admins:
        make_city_admins(cast)
    before = row.state(world) if row.state else None
    client = cast.client(member)
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

api = Row  # the route's name as the router gives it (no namespace)
# Anonymous callers get 401 (TokenAuthentication's WWW-Authenticate), never a login page; a
# method the viewset does not offer is a 405, before or after authentication.
API_PUBLIC = who(200, 200, 200, 200)
API_MEMBERS = who(200, 200, 200, 401)
API_CREATE = who(201, 403, 403, 401)
API_COORDINATORS = who(200, 403, 403, 401)
CITY_ADMINS = who(200, 200, 403, 401)
NO_METHOD = who(405, 405, 405, 405)
NO_METHOD_SIGNED_IN = who(405, 405, 405, 401)
WG_BODY = {"slug": "agua", "chair_city": "mostoles", **NEW_GROUP}
MEMBERSHIPS = count(GroupMembership)
NAZARI, TIER = {"description": "Ciudad nazarí."}, {"tier": "associate"}
POSITION, REMIT, TITLE = {"position": "Ingeniera"}, {"remit": "Datos."}, {"title": "Plan revisado"}

TECHNICIAN_STATE, GROUP_STATE = value(Technician, "owner"), value(WorkingGroup, "group")
MEETING_STATE = value(Meeting, "meeting")

API_ROWS = [
    api("city-list", "GET", API_PUBLIC),
    api("city-detail", "GET", API_PUBLIC, "granada"),
    api("city-list", "POST", NO_METHOD, data={"name": "Nueva"}, state=count(City)),
    api("city-detail", "PATCH", API_COORDINATORS, "granada", NAZARI, CITY_STATE, note="plain"),
    api("city-detail", "PATCH", CITY_ADMINS, "granada", NAZARI, CITY_STATE, admins=True),
    # The tier is the coordinators' alone, even for the city's own admin.
    api("city-detail", "PATCH", API_COORDINATORS, "granada", TIER, CITY_STATE, True, "tier"),
    api("city-detail", "DELETE", NO_METHOD, "granada", state=count(City)),
    api("technician-list", "GET", API_MEMBERS),
    api("technician-detail", "GET", API_MEMBERS, "owner"),
    api("technician-list", "POST", NO_METHOD_SIGNED_IN, state=count(Technician)),
    # One's own profile only, not even a coordinator's.
    api("technician-detail", "PATCH", who(403, 200, 403, 401), "owner", POSITION, TECHNICIAN_STATE),
    api("technician-detail", "DELETE", NO_METHOD_SIGNED_IN, "owner", state=count(Technician)),
    api("working-group-list", "GET", API_PUBLIC),
    api("working-group-detail", "GET", API_PUBLIC, "group"),
    api("working-group-list", "POST", API_CREATE, data=WG_BODY, state=count(WorkingGroup)),
    api("working-group-detail", "PATCH", API_COORDINATORS, "group", REMIT, GROUP_STATE),
    api("working-group-detail", "DELETE", NO_METHOD, "group", state=count(WorkingGroup)),
    api("working-group-join", "POST", who(403, 200, 200, 401), "open_group", state=MEMBERSHIPS),
    api("working-group-leave", "POST", who(403, 200, 200, 401), "group", state=MEMBERSHIPS),
    api("meeting-list", "GET", API_MEMBERS),
    api("meeting-detail", "GET", API_MEMBERS, "meeting"),
    api("meeting-list", "POST", API_CREATE, data=BODY["meeting"], state=count(Meeting)),
    api("meeting-detail", "PATCH", API_COORDINATORS, "meeting", TITLE, MEETING_STATE),
    api("meeting-detail", "DELETE", NO_METHOD_SIGNED_IN, "meeting", state=count(Meeting)),
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
    return getattr(viewset, "__module__", "").startswith("cities.")


def test_every_api_route_has_rows():
    from reci.urls import router

    basenames = {basename for _prefix, viewset, basename in router.registry if from_cities(viewset)}
    assert basenames == {"city", "technician", "working-group", "meeting"}
    routes = {p.name for p in router.urls if p.name and from_cities(getattr(p.callback, "cls", ""))}
    assert routes - {r.name for r in API_ROWS} == set()
    # List, retrieve, create, update and delete of every basename, each tried by the cast.
    wanted = ["list GET", "detail GET", "list POST", "detail PATCH", "detail DELETE"]
    tried = {f"{r.name} {r.method}" for r in API_ROWS}
    assert {f"{basename}-{w}" for basename in basenames for w in wanted} <= tried


def test_a_city_admin_does_not_change_the_tier_on_the_page(cast, world):
    make_city_admins(cast)
    url = reverse("cities:city-edit", args=["granada"])
    response = cast.client("owner").post(url, {**CITY_BODY, "tier": "associate"})
    assert response.status_code == 302  # saved, without the tier (CityForm drops the field)
    world.granada.refresh_from_db()
    assert (world.granada.tier, world.granada.website) == ("full", CITY_BODY["website"])
