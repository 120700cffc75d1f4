"""Who may see and change what in the network's directory, groups and meetings.

DESIGN.md, "People and roles". Every view and API endpoint calls these functions
explicitly; tests/cities/test_permission_matrix.py checks them with the cast.
"""

from allauth.account.models import EmailAddress

from .models import (
    City,
    Meeting,
    MembershipApplication,
    Technician,
    WorkingGroup,
    WorkPlanItem,
    is_coordinator,
)


def is_member(user) -> bool:
    """A signed-in approved technician of a member city, or a coordinator.

    Without loading the city (city_of would): the menu asks this on every page.
    """
    return is_coordinator(user) or approved_technician(user) is not None


def can_use_api_token(user) -> bool:
    """API tokens (/account/api-token/) are for the network's members."""
    return is_member(user)


def approved_technician(user) -> Technician | None:
    if not user.is_authenticated:
        return None
    technician = getattr(user, "technician", None)
    return technician if technician is not None and technician.approved else None


def can_edit_city(user, city: City) -> bool:
    """The city's own admins and the coordinators edit a city's profile."""
    if is_coordinator(user):
        return True
    technician = approved_technician(user)
    return technician is not None and technician.is_city_admin and technician.city_id == city.pk


def can_approve_technician(user, technician: Technician) -> bool:
    """A request to join a city is decided by that city's admins or by a coordinator."""
    return can_edit_city(user, technician.city)


def can_manage_membership(user) -> bool:
    """Membership applications, working groups, meetings, agendas and minutes: coordinators."""
    return is_coordinator(user)


def pending_application(user) -> MembershipApplication | None:
    """The membership application `user` submitted that waits for a coordinator, if any."""
    if not user.is_authenticated:
        return None
    return (
        MembershipApplication.objects.filter(
            applicant_id=user.pk, status=MembershipApplication.Status.PENDING
        )
        .select_related("municipality")
        .first()
    )


def is_unattached(user) -> bool:
    """Signed in, not a coordinator, and nothing asked yet: no request to join a city
    (pending or approved) and no membership application waiting for its decision.

    One request at a time: an applicant approved as the admin of a new city while their
    request to join another one waits (or the reverse) would belong to two cities.
    """
    if not user.is_authenticated or is_coordinator(user) or hasattr(user, "technician"):
        return False
    return pending_application(user) is None


def is_newcomer(user) -> bool:
    """An unattached user (see is_unattached) with a verified address.

    Not a coordinator: coordinators act for the whole network and decide requests and
    applications, so one who joined a city could approve their own request.
    """
    if not is_unattached(user):
        return False
    return EmailAddress.objects.filter(user=user, verified=True).exists()


def can_apply_for_membership(user) -> bool:
    """A newcomer applies on behalf of a municipality (technicians belong to a city already)."""
    return is_newcomer(user)


def can_request_to_join(user) -> bool:
    """A newcomer asks to become a technician of one member city."""
    return is_newcomer(user)


def can_view_technicians(user) -> bool:
    """The people directory is for the network's members, not the public."""
    return is_member(user)


def can_join_group(user, group: WorkingGroup) -> bool:
    return group.is_active and approved_technician(user) is not None


def can_manage_group(user, group: WorkingGroup) -> bool:
    return is_coordinator(user)


def can_update_work_item(user, item: WorkPlanItem) -> bool:
    """Coordinators manage the plan; an item's owner updates its status."""
    if is_coordinator(user):
        return True
    technician = approved_technician(user)
    return technician is not None and item.owner_id == technician.pk


def can_view_meeting(user, meeting: Meeting) -> bool:
    """Meetings (with their links, agendas and minutes) are for the network's members."""
    return is_member(user)


def can_manage_meeting(user, meeting: Meeting | None = None) -> bool:
    return is_coordinator(user)


def can_respond_to_meeting(user, meeting: Meeting) -> bool:
    """RSVP and availability: any member, for a meeting that is not cancelled."""
    return is_member(user) and not meeting.is_cancelled
