"""Forms of the people pages: joining a city, deciding a request, one's profile, the directory."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import City, ExpertiseArea, Language, WorkingGroup


def add_name_fields(form: forms.BaseForm, user) -> None:
    """The user's first and last name, prefilled; each required while the user has none.

    Sign-up asks only an e-mail address, but a technician must have a name (see
    services.people.set_names, which saves them with the request). A name left blank
    keeps the one the user has.
    """
    for field, label in (("first_name", _("First name")), ("last_name", _("Last name"))):
        current = getattr(user, field, "") or ""
        form.fields[field] = forms.CharField(
            label=label, max_length=150, required=not current, initial=current
        )


class JoinCityForm(forms.Form):
    """A request to join a city, with the requester's name when they have none yet."""

    field_order = ["first_name", "last_name", "city", "position"]

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        add_name_fields(self, user)
        self.order_fields(self.field_order)

    city = forms.ModelChoiceField(
        label=_("City"),
        queryset=City.objects.order_by("search_name", "name"),
        empty_label=_("Choose your city"),
        error_messages={"invalid_choice": _("Choose one of the network's member cities.")},
    )
    position = forms.CharField(
        label=_("Position"),
        max_length=200,
        help_text=_("Your job title at the city council, e.g. Head of mobility."),
    )


class DecisionForm(forms.Form):
    APPROVE, DECLINE = "approve", "decline"

    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[(APPROVE, _("Approve")), (DECLINE, _("Decline"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the applicant. Required when you decline."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.DECLINE and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Tell the applicant why their request is declined."))
        return cleaned

    @property
    def approves(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE


class ProfileForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    position = forms.CharField(label=_("Position"), max_length=200)
    bio = forms.CharField(
        label=_("About"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 5})
    )
    areas = forms.MultipleChoiceField(
        label=_("Areas of expertise"),
        required=False,
        choices=ExpertiseArea.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    languages = forms.MultipleChoiceField(
        label=_("Languages"),
        choices=Language.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one language you work in.")},
    )
    weekly_digest = forms.BooleanField(
        label=_("Weekly digest"),
        required=False,
        help_text=_("Receive a weekly e-mail with the network's activity."),
    )

    @classmethod
    def for_technician(cls, technician, data=None):
        initial = {
            "first_name": technician.user.first_name,
            "last_name": technician.user.last_name,
            "position": technician.position,
            "bio": technician.bio,
            "areas": [area.area for area in technician.areas.all()],
            "languages": technician.language_codes(),
            "weekly_digest": technician.weekly_digest,
        }
        return cls(data, initial=initial)


class DirectoryFilterForm(forms.Form):
    """The directory's search and filters; an unknown value is reported, not ignored."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    city = forms.ModelChoiceField(
        label=_("City"),
        required=False,
        queryset=City.objects.order_by("search_name", "name"),
        to_field_name="slug",
        empty_label=_("All cities"),
    )
    area = forms.ChoiceField(
        label=_("Area"), required=False, choices=[("", _("All areas")), *ExpertiseArea.choices]
    )
    group = forms.ModelChoiceField(
        label=_("Working group"),
        required=False,
        queryset=WorkingGroup.objects.order_by("search_name", "name"),
        to_field_name="slug",
        empty_label=_("All working groups"),
    )
    language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", _("All languages")), *Language.choices]
    )
