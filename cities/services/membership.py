"""Membership applications: a municipality asks to join the network, a coordinator decides."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import notifications
from ..models import City, MembershipApplication, Municipality, Technician

Status = MembershipApplication.Status


def member_city_of(municipality: Municipality) -> City | None:
    """The member city of this municipality, if it has joined already."""
    return City.objects.filter(
        Q(municipality=municipality) | Q(ine_code=municipality.ine_code)
    ).first()


def lock_user(user) -> None:
    """Lock the user's row until the transaction ends.

    A request to join a city and a membership application take this lock before they
    check for each other, so two sent at the same moment are decided one after the other.
    """
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))


def asked_to_join(technician: Technician) -> str:
    """Why a user with a pending request to join a city may not apply for membership."""
    return _(
        "You asked to join %(city)s. Wait for its decision before applying for membership."
    ) % {"city": technician.city.name}


def pending_application_of(municipality: Municipality) -> MembershipApplication | None:
    return MembershipApplication.objects.filter(
        municipality=municipality, status=Status.PENDING
    ).first()


def _pending_for_update(application_id: int) -> MembershipApplication:
    """Lock the application row, so that two coordinators cannot decide it at once."""
    application = (
        MembershipApplication.objects.select_for_update(of=("self",))
        .select_related("municipality", "applicant")
        .get(pk=application_id)
    )
    if application.status != Status.PENDING:
        raise ValidationError(
            _("This application was already decided (%(status)s). Nothing was changed.")
            % {"status": application.get_status_display()}
        )
    return application


def _mark_decided(application: MembershipApplication, status: str, by, reason: str) -> None:
    application.status = status
    application.decided_at = timezone.now()
    application.decided_by = by
    application.decision_reason = reason
    application.save()
    notifications.membership_decided(application)


@transaction.atomic
def approve_application(application_id: int, by, reason: str = "") -> City:
    """Make the municipality a member city, with the applicant as its approved city admin.

    All or nothing: an application decided already, a municipality that became a member
    meanwhile or an applicant who joined another city raise ValidationError.
    """
    application = _pending_for_update(application_id)
    municipality, applicant = application.municipality, application.applicant
    if member_city_of(municipality) is not None:
        raise ValidationError(
            _("%(name)s is already a member of the network.") % {"name": municipality.name}
        )
    existing = Technician.objects.filter(user=applicant).select_related("city").first()
    if existing is not None:
        raise ValidationError(
            _(
                "The applicant is already registered with %(city)s and cannot become "
                "admin of another city."
            )
            % {"city": existing.city}
        )
    city = City.from_municipality(
        municipality, website=application.website, joined_on=timezone.localdate()
    )
    city.save()
    city.contact = Technician.objects.create(
        user=applicant,
        city=city,
        role=Technician.Role.CITY_ADMIN,
        approved=True,
        requested_at=application.created_at,
        approved_at=timezone.now(),
        approved_by=by,
        position=application.applicant_position,
    )
    city.save(update_fields=["contact"])
    application.city = city
    _mark_decided(application, Status.APPROVED, by, reason)
    return city


@transaction.atomic
def decline_application(application_id: int, by, reason: str) -> MembershipApplication:
    """Decline an application; the reason is required because the applicant reads it."""
    if not reason.strip():
        raise ValidationError(_("Give a reason to decline: the applicant will read it."))
    application = _pending_for_update(application_id)
    _mark_decided(application, Status.DECLINED, by, reason.strip())
    return application
