"""Calendar files and private feeds of the network's meetings. Each view checks permission.

The feeds are fetched by calendar clients that hold no session: the secret token in the URL
is their only credential, so an unknown or revoked token is a 404, never a login page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import calendar
from ..emails import is_invitee, preferred_language
from ..models import WorkingGroup, is_coordinator
from ..permissions import approved_technician, can_view_meeting, is_member


def ics_response(cal, filename: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(cal.to_ical(), content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    patch_cache_control(response, private=True)
    return response


def meeting_ics(request, pk: int):
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    meeting = get_object_or_404(calendar.calendar_meetings(), pk=pk)
    if not can_view_meeting(request.user, meeting):
        raise PermissionDenied(_("Meetings are for the network's members."))
    # The invitation addressed to the reader when they are invited, as in their e-mails;
    # otherwise a copy to file (RFC 5546: a REQUEST or CANCEL names its ATTENDEE).
    attendee = request.user if is_invitee(meeting, request.user) else None
    cal = calendar.meeting_calendar(meeting, attendee=attendee)
    return ics_response(cal, f"meeting-{meeting.pk}.ics", attachment=True)


def require_member(user) -> None:
    if not is_member(user):
        raise PermissionDenied(_("Calendar feeds are for the network's members."))


def feed_groups(user):
    """The groups whose own feed the settings page offers: the user's (all, to coordinators)."""
    groups = WorkingGroup.objects.filter(is_active=True)
    if is_coordinator(user):
        return groups
    return groups.filter(memberships__technician=approved_technician(user))


@login_required
def calendar_settings(request):
    require_member(request.user)
    token = calendar.active_feed_token(request.user)
    context = {"token": token}
    if token is not None:
        context["feed_url"] = feed_url("cities:private-feed", request, token.token)
        context["group_feeds"] = [
            (group, feed_url("cities:group-feed", request, token.token, group.slug))
            for group in feed_groups(request.user)
        ]
    return render(request, "cities/calendars/settings.html", context)


def feed_url(name: str, request, *args) -> str:
    return request.build_absolute_uri(reverse(name, args=args))


@require_POST
@login_required
def calendar_token(request):
    require_member(request.user)
    if request.POST.get("action") == "revoke":
        calendar.revoke_feed_tokens(request.user)
        messages.success(request, _("Your private calendar links no longer work."))
    else:
        had_links = calendar.active_feed_token(request.user) is not None
        calendar.regenerate_feed_token(request.user)
        if had_links:
            message = _("New private calendar links created; the previous ones no longer work.")
        else:
            message = _("Your private calendar links are ready.")
        messages.success(request, message)
    return redirect("cities:calendar-settings")


def feed_user_or_404(token: str):
    user = calendar.feed_owner(token)
    if user is None:
        raise Http404()
    return user


# A calendar client sends no useful Accept-Language: the feed speaks its owner's language.


def private_feed(request, token: str):
    user = feed_user_or_404(token)
    with translation.override(preferred_language(user)):
        meetings = calendar.personal_feed_meetings(user)
        cal = calendar.feed_calendar(meetings, _("RECI meetings"))
    return ics_response(cal, "meetings.ics", attachment=False)


def group_feed(request, token: str, slug: str):
    user = feed_user_or_404(token)
    group = get_object_or_404(WorkingGroup, slug=slug)
    with translation.override(preferred_language(user)):
        cal = calendar.feed_calendar(calendar.group_feed_meetings(group), group.name)
    return ics_response(cal, f"{group.slug}.ics", attachment=False)
