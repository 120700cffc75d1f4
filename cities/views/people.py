"""People pages: joining a city, deciding requests, profiles and the members' directory.

Each view checks permission explicitly (cities/permissions.py): anonymous visitors are
sent to sign in, signed-in users without the right get 403, unknown objects 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from ..forms.people import DecisionForm, DirectoryFilterForm, JoinCityForm, ProfileForm
from ..models import Language, Technician, WorkingGroup, is_coordinator
from ..permissions import (
    approved_technician,
    can_approve_technician,
    can_request_to_join,
    can_view_technicians,
    pending_application,
)
from ..services import people

DIRECTORY_PAGE_SIZE = 50
LANGUAGE_NAMES = dict(Language.choices)


@login_required
def technician_request(request):
    """A verified user without a city asks to join one; a pending request shows its state."""
    own = Technician.objects.select_related("city").filter(user_id=request.user.pk).first()
    if own is not None and not own.approved:
        return pending_request(request, own)
    if not can_request_to_join(request.user):
        raise PermissionDenied(refusal_to_join(request.user, own))
    form = JoinCityForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            technician = people.request_to_join(request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your request to join %(city)s was sent to its admins.")
                % {"city": technician.city.name},
            )
            return redirect("cities:technician-request")
    return render(request, "cities/people/technician_request.html", {"form": form})


def pending_request(request, own: Technician):
    """The page of a request waiting for its decision; a second request (a form sent again
    from another tab, say) is not sent, and the page says why."""
    if request.method == "POST":
        messages.info(
            request,
            _("Your request to join %(city)s is already pending; it was not sent again.")
            % {"city": own.city.name},
        )
        return redirect("cities:technician-request")
    return render(request, "cities/people/technician_request.html", {"pending": own})


def refusal_to_join(user, own: Technician | None) -> str:
    if is_coordinator(user):
        return _("Coordinators act for the whole network and do not join a city.")
    if own is not None and own.approved:
        return _("You already belong to %(city)s.") % {"city": own.city.name}
    if own is not None:
        return _("You already asked to join %(city)s.") % {"city": own.city.name}
    if (application := pending_application(user)) is not None:
        return people.applied_for_membership(application)
    return _("Verify your e-mail address before asking to join a city.")


def decides_requests(user) -> bool:
    """Coordinators, and the admins of a city (who approve its technicians)."""
    own = approved_technician(user)
    return is_coordinator(user) or (own is not None and can_approve_technician(user, own))


@login_required
def technician_requests(request):
    """The requests this city admin or coordinator may decide."""
    if not decides_requests(request.user):
        raise PermissionDenied(_("Only city admins and coordinators decide requests to join."))
    pending = people.pending_requests_for(request.user)
    return render(request, "cities/people/technician_requests.html", {"pending": pending})


@login_required
def technician_decide(request, pk: int):
    """Approve or decline one request (POST); GET shows the request with the form."""
    technician = get_object_or_404(Technician.objects.select_related("user", "city"), pk=pk)
    if not can_approve_technician(request.user, technician):
        raise PermissionDenied(_("Only the city's admins and the coordinators decide requests."))
    if technician.approved:
        messages.info(request, _("%(name)s is already approved.") % {"name": technician})
        return redirect("cities:technician-requests")
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"].strip()
        if people.decide_request(technician, request.user, form.approves, reason):
            messages.success(request, decision_message(technician, form.approves))
        else:
            messages.info(request, _("This request was already decided."))
        return redirect("cities:technician-requests")
    context = {"technician": technician, "form": form}
    return render(request, "cities/people/technician_decide.html", context)


def decision_message(technician: Technician, approved: bool) -> str:
    names = {"name": technician.display_name, "city": technician.city.name}
    if approved:
        return _("%(name)s is now a technician of %(city)s.") % names
    return _("The request of %(name)s to join %(city)s was declined.") % names


def member_required(request):
    """Members see people; anyone else signed in is refused (anonymous: login_required)."""
    if not can_view_technicians(request.user):
        raise PermissionDenied(_("The people directory is for the network's members."))


def directory_queryset():
    return (
        Technician.objects.filter(approved=True)
        .select_related("user", "city")
        .prefetch_related(
            "areas",
            Prefetch(
                "working_groups", queryset=WorkingGroup.objects.order_by("search_name", "name")
            ),
        )
    )


@login_required
def technician_detail(request, pk: int):
    member_required(request)
    technician = get_object_or_404(directory_queryset(), pk=pk)
    own = approved_technician(request.user)
    context = {
        "technician": technician,
        "languages": [LANGUAGE_NAMES.get(code, code) for code in technician.language_codes()],
        "is_own": own is not None and own.pk == technician.pk,
    }
    return render(request, "cities/people/technician_detail.html", context)


@login_required
def profile_edit(request):
    """An approved technician edits their own profile."""
    technician = approved_technician(request.user)
    if technician is None:
        raise PermissionDenied(_("Only the network's technicians have a profile to edit."))
    form = ProfileForm.for_technician(technician, request.POST or None)
    if request.method == "POST" and form.is_valid():
        people.update_profile(technician, **form.cleaned_data)
        messages.success(request, _("Your profile was saved."))
        return redirect("cities:technician-detail", pk=technician.pk)
    return render(request, "cities/people/profile_edit.html", {"form": form})


@login_required
def technician_list(request):
    """The members' directory: search and filters, 50 a page, approved technicians only."""
    member_required(request)
    form = DirectoryFilterForm(request.GET)
    form.is_valid()  # an invalid filter is shown as an error and not applied
    technicians = people.filter_directory(directory_queryset(), form.cleaned_data)
    page = Paginator(technicians, DIRECTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    query_string = request.GET.copy()
    query_string.pop("page", None)
    context = {"form": form, "page": page, "query_string": query_string.urlencode()}
    return render(request, "cities/people/technician_list.html", context)
