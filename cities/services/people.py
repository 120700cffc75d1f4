"""People: a user's request to join a city, its decision, and a technician's own profile."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import notifications
from ..models import City, ExpertiseArea, MembershipApplication, Technician, TechnicianArea
from ..permissions import pending_application
from ..text import fold
from .membership import lock_user


def applied_for_membership(application: MembershipApplication) -> str:
    """Why a user whose membership application is pending may not ask to join a city."""
    return _(
        "You applied for membership on behalf of %(name)s. Wait for the coordinators' "
        "decision before asking to join a city."
    ) % {"name": application.municipality.name}


NAME_FIELDS = ("first_name", "last_name")


def set_names(user, first_name: str = "", last_name: str = "") -> None:
    """Give `user` the first and last name typed (a blank one keeps the name they have) and
    save them; raise ValidationError, naming the field, if either is still missing.

    A technician, and the applicant who becomes their city's admin, must have a name: the
    people directory, its search, the digest and the API know people by it (sign-up asks
    only an e-mail address). Call it inside the transaction of the request it goes with.
    """
    names = {
        "first_name": (first_name or "").strip() or user.first_name,
        "last_name": (last_name or "").strip() or user.last_name,
    }
    missing = {
        field: _("The network's members know each other by name: give your first and last name.")
        for field, value in names.items()
        if not value
    }
    if missing:
        raise ValidationError(missing, code="name_missing")
    if any(getattr(user, field) != value for field, value in names.items()):
        for field, value in names.items():
            setattr(user, field, value)
        user.save(update_fields=list(NAME_FIELDS))


@transaction.atomic
def request_to_join(
    user, city: City, position: str, first_name: str = "", last_name: str = ""
) -> Technician:
    """Ask to become a technician of `city`; the request waits for its admins or a coordinator.

    The user's first and last name are saved with the request (set_names), or neither is.
    Refused while the user's membership application waits for its decision: approving it
    makes them the admin of another city.
    """
    lock_user(user)
    if (application := pending_application(user)) is not None:
        raise ValidationError(applied_for_membership(application), code="application_pending")
    set_names(user, first_name, last_name)
    technician, created = Technician.objects.get_or_create(
        user=user,
        defaults={"city": city, "position": position, "approved": False},
    )
    if not created:
        raise ValidationError(
            _("You already asked to join %(city)s.") % {"city": technician.city.name}
        )
    return technician


def pending_requests_for(user) -> QuerySet[Technician]:
    """The requests `user` may decide: every city's for a coordinator, their own city's
    for a city admin, none for anyone else."""
    from ..permissions import approved_technician, is_coordinator

    pending = Technician.objects.filter(approved=False).select_related("user", "city")
    if is_coordinator(user):
        return pending.order_by("requested_at")
    technician = approved_technician(user)
    if technician is not None and technician.is_city_admin:
        return pending.filter(city_id=technician.city_id).order_by("requested_at")
    return pending.none()


@transaction.atomic
def decide_request(technician: Technician, by, approve: bool, reason: str = "") -> bool:
    """Approve or decline a request to join a city; False if there was nothing to do.

    Approving sets approved, approved_at and approved_by. Declining deletes the request,
    so that the user may ask another city; the notice carries the user's and the city's
    ids, which outlive the row. Approving an approved technician changes nothing and
    sends no second notice; an approved technician is never "declined" here.
    """
    from ..permissions import can_approve_technician

    if not can_approve_technician(by, technician):
        raise PermissionDenied(_("Only the city's admins and the coordinators decide requests."))
    locked = Technician.objects.select_for_update().filter(pk=technician.pk).first()
    if locked is None or locked.approved:
        return False
    if approve:
        locked.approved, locked.approved_at, locked.approved_by = True, timezone.now(), by
        locked.save(update_fields=["approved", "approved_at", "approved_by"])
    else:
        locked.delete()
    notifications.technician_request_decided(locked.user_id, locked.city_id, approve, reason)
    return True


@transaction.atomic
def update_profile(technician: Technician, *, areas, languages, **fields) -> Technician:
    """Save a technician's own profile: user names, profile fields, areas and languages."""
    user = technician.user
    for name in ("first_name", "last_name"):
        if name in fields:
            setattr(user, name, fields.pop(name))
    user.save(update_fields=["first_name", "last_name"])
    for name, value in fields.items():
        setattr(technician, name, value)
    technician.set_languages(languages)
    technician.save()  # refreshes search_text from the new name and position
    technician.areas.exclude(area__in=areas).delete()
    existing = set(technician.areas.values_list("area", flat=True))
    TechnicianArea.objects.bulk_create(
        TechnicianArea(technician=technician, area=area) for area in areas if area not in existing
    )
    return technician


def language_filter(code: str) -> Q:
    """Technicians who speak `code` (languages are stored comma-separated)."""
    return (
        Q(languages=code)
        | Q(languages__startswith=f"{code},")
        | Q(languages__endswith=f",{code}")
        | Q(languages__contains=f",{code},")
    )


def search_filter(query: str) -> Q:
    """Every word of `query`, accents and case aside, in a technician's name, position,
    city or bio (search_text) or in the name of one of their areas as the reader sees it
    (the label in the active language)."""
    condition = Q()
    for word in fold(query).split():
        codes = [code for code, label in ExpertiseArea.choices if word in fold(str(label))]
        with_area = TechnicianArea.objects.filter(area__in=codes).values("technician_id")
        condition &= Q(search_text__contains=word) | Q(pk__in=with_area)
    return condition


def filter_directory(queryset: QuerySet[Technician], filters: dict) -> QuerySet[Technician]:
    """Apply the directory's cleaned filters (q, city, area, group, language) to `queryset`."""
    if filters.get("q"):
        queryset = queryset.filter(search_filter(filters["q"]))
    if filters.get("city"):
        queryset = queryset.filter(city=filters["city"])
    if filters.get("area"):
        with_area = TechnicianArea.objects.filter(area=filters["area"]).values("technician_id")
        queryset = queryset.filter(pk__in=with_area)
    if filters.get("group"):
        queryset = queryset.filter(pk__in=filters["group"].memberships.values("technician_id"))
    if filters.get("language"):
        queryset = queryset.filter(language_filter(filters["language"]))
    return queryset
