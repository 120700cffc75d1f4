"""What the site's menu needs to know about the person reading the page."""

from django.utils.functional import SimpleLazyObject

from .models import is_coordinator
from .permissions import approved_technician, can_use_api_token, is_unattached


def _role(user) -> dict:
    technician = approved_technician(user)
    coordinator = is_coordinator(user)
    return {
        "is_member": coordinator or technician is not None,
        "is_coordinator": coordinator,
        "is_city_admin": technician is not None and technician.is_city_admin,
        "can_use_api_token": can_use_api_token(user),
        # Signed in, attached to no city and waiting for nothing: the menu offers "Join a
        # city" and "Apply for membership". permissions.is_newcomer without its verified
        # address on purpose: the link still shows, and the page says to verify it first.
        "can_join_a_city": is_unattached(user),
        # The page of their request to join a city, while it waits for its decision.
        "has_pending_request": technician is None
        and user.is_authenticated
        and getattr(user, "technician", None) is not None,
        # Their own applications, pending or decided, for anyone not (yet) in a city.
        "has_no_city": user.is_authenticated
        and not coordinator
        and not hasattr(user, "technician"),
    }


def network(request) -> dict:
    """The reader's role in the network, for base.html's menu.

    Lazy: the queries run only when a template reads it, once per request.
    """
    return {"network_role": SimpleLazyObject(lambda: _role(request.user))}
