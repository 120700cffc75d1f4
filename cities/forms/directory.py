"""Forms of the city directory and of membership applications."""

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext_lazy as _

from ..models import City, MembershipApplication, MembershipTier, Municipality, SizeBand, Technician
from ..models.directory import ASSOCIATE_POPULATION_LIMIT
from ..services.membership import (
    asked_to_join,
    lock_user,
    member_city_of,
    pending_application_of,
)
from ..services.people import NAME_FIELDS, set_names
from ..text import search_words
from .fields import FoldedChoiceField
from .people import add_name_fields

SORT_CHOICES = [
    ("name", _("Name (A to Z)")),
    ("-name", _("Name (Z to A)")),
    ("-population", _("Population (largest first)")),
    ("population", _("Population (smallest first)")),
    ("-joined_on", _("Member since (newest first)")),
    ("joined_on", _("Member since (oldest first)")),
]
ORDERINGS = {
    "name": [F("search_name").asc(), "name"],
    "-name": [F("search_name").desc(), "-name"],
    "population": [F("population").asc(nulls_last=True), "search_name"],
    "-population": [F("population").desc(nulls_last=True), "search_name"],
    "joined_on": [F("joined_on").asc(nulls_last=True), "search_name"],
    "-joined_on": [F("joined_on").desc(nulls_last=True), "search_name"],
}
MUNICIPALITY_MATCHES = 20


class CityFilterForm(forms.Form):
    """The directory's filters (?q ?region ?province ?size ?tier) and sort order (?sort)."""

    q = forms.CharField(label=_("Name"), required=False, max_length=200)
    # Matched folded, as the API's ?region= and ?province= are ("andalucia" is Andalucía).
    region = FoldedChoiceField(label=_("Autonomous community"), required=False)
    province = FoldedChoiceField(label=_("Province"), required=False)
    size = forms.ChoiceField(
        label=_("Size"), required=False, choices=[("", _("Any size")), *SizeBand.choices]
    )
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=[("", _("Any tier")), *MembershipTier.choices]
    )
    sort = forms.ChoiceField(label=_("Sort by"), required=False, choices=SORT_CHOICES)

    def __init__(self, data, *, regions, provinces):
        super().__init__(data)
        self.fields["region"].choices = [("", _("All")), *((r, r) for r in regions)]
        self.fields["province"].choices = [("", _("All")), *((p, p) for p in provinces)]

    def filter(self, cities):
        """The cities that pass the valid filters, in the chosen order (bad values are ignored)."""
        self.is_valid()  # a bad value is dropped from cleaned_data and shown as an error
        data = self.cleaned_data
        for word in search_words(data.get("q", "")):  # as the API's ?search= does
            cities = cities.filter(search_name__contains=word)
        for field, lookup in (
            ("region", "region"),
            ("province", "province"),
            ("size", "size_band"),
            ("tier", "tier"),
        ):
            if value := data.get(field):
                cities = cities.filter(**{lookup: value})
        return cities.order_by(*ORDERINGS[data.get("sort") or "name"])


class CityForm(forms.ModelForm):
    """A city's profile as its admins edit it; only coordinators change the tier."""

    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")

    class Meta:
        model = City
        fields = ["website", "description", "contact", "tier"]
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}

    def __init__(self, *args, allow_tier: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_tier:
            del self.fields["tier"]
        contact = self.fields["contact"]
        contact.queryset = Technician.objects.filter(
            city=self.instance, approved=True
        ).select_related("user")
        contact.label_from_instance = lambda technician: technician.display_name
        contact.help_text = _("One of the city's approved technicians.")


def search_municipalities(query: str, limit: int = MUNICIPALITY_MATCHES):
    """Municipalities of the reference table whose name holds every word of `query`, in any
    order (accents, case and punctuation ignored: "palmas gran canaria" finds "Las Palmas de
    Gran Canaria"), as the city and group pages search.

    A five-digit query also finds the municipality with that INE code. Exact names come
    first, then names that start with the query, then the rest; larger places first.
    """
    words = search_words(query)
    folded = " ".join(words)
    if len(folded) < 2:
        return Municipality.objects.none()
    every_word = Q()
    for word in words:
        every_word &= Q(search_name__contains=word)
    return (
        Municipality.objects.filter(every_word | Q(ine_code=folded))
        .annotate(
            rank=Case(
                When(Q(search_name=folded) | Q(ine_code=folded), then=Value(0)),
                When(search_name__startswith=folded, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            ),
            is_member=Exists(City.objects.filter(municipality=OuterRef("pk"))),
            has_pending=Exists(
                MembershipApplication.objects.filter(
                    municipality=OuterRef("pk"), status=MembershipApplication.Status.PENDING
                )
            ),
        )
        .order_by("rank", "-population", "name")[:limit]
    )


def municipality_label(municipality) -> str:
    label = _("%(name)s (%(province)s), %(population)s inhabitants, INE code %(code)s") % {
        "name": municipality.name,
        "province": municipality.province,
        "population": number_format(municipality.population, force_grouping=True),
        "code": municipality.ine_code,
    }
    if getattr(municipality, "is_member", False):
        label += " · " + _("already a member")
    elif getattr(municipality, "has_pending", False):
        label += " · " + _("application pending")
    return label


def tier_for(municipality: Municipality) -> str:
    """The tier a municipality joins on (the rule of City.from_municipality)."""
    if municipality.population < ASSOCIATE_POPULATION_LIMIT:
        return MembershipTier.ASSOCIATE
    return MembershipTier.FULL


class MembershipApplicationForm(forms.ModelForm):
    """Apply on behalf of a municipality picked from the search results of `query`."""

    municipality = forms.ModelChoiceField(
        label=_("Municipality"),
        queryset=Municipality.objects.all(),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Search for your municipality and pick it from the results."),
            "invalid_choice": _("Pick a municipality from the search results."),
        },
    )
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        help_text=_("The town hall's website, if it has one."),
    )

    class Meta:
        model = MembershipApplication
        fields = ["municipality", "applicant_position", "website", "motivation"]
        widgets = {"motivation": forms.Textarea(attrs={"rows": 6})}
        help_texts = {
            "applicant_position": _("Your position at the town hall."),
        }

    def __init__(self, *args, query: str = "", applicant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.applicant = applicant
        # The applicant becomes the city's admin: a technician known by name (set_names).
        add_name_fields(self, applicant)
        self.order_fields(["municipality", "first_name", "last_name"])
        self.matches = list(search_municipalities(query))
        # Only the matches are offered; any real municipality still validates.
        self.fields["municipality"].widget.choices = [
            (place.ine_code, municipality_label(place)) for place in self.matches
        ]

    def clean_municipality(self):
        municipality = self.cleaned_data["municipality"]
        if member_city_of(municipality) is not None:
            raise forms.ValidationError(
                _("%(name)s is already a member of the network."),
                code="member",
                params={"name": municipality.name},
            )
        if (pending := pending_application_of(municipality)) is not None:
            raise pending_error(municipality, pending)
        return municipality

    def clean(self):
        cleaned = super().clean()
        if (asked := self.join_request()) is not None:
            raise forms.ValidationError(asked_to_join(asked), code="join_pending")
        mine = MembershipApplication.objects.filter(
            applicant=self.applicant, status=MembershipApplication.Status.PENDING
        ).select_related("municipality")
        if (pending := mine.first()) is not None:
            raise forms.ValidationError(
                _(
                    "You already have a pending application for %(name)s; wait for its "
                    "decision before applying again."
                ),
                code="applicant_pending",
                params={"name": pending.municipality.name},
            )
        return cleaned

    def join_request(self) -> Technician | None:
        """The applicant's request to join a city, if they sent one (one request at a time)."""
        return Technician.objects.filter(user_id=self.applicant.pk).select_related("city").first()

    def save(self, commit=True):
        """Store the application; a concurrent one for the same place, or a request to join
        a city sent at the same moment, becomes a form error."""
        application = super().save(commit=False)
        application.applicant = self.applicant
        application.tier = tier_for(application.municipality)
        try:
            with transaction.atomic():
                lock_user(self.applicant)  # a request to join a city waits, or is seen here
                if (asked := self.join_request()) is not None:
                    self.add_error(None, asked_to_join(asked))
                    return None
                names = {field: self.cleaned_data.get(field, "") for field in NAME_FIELDS}
                set_names(self.applicant, **names)  # saved with the application, or not at all
                application.save()
        except ValidationError as error:
            self.add_error(None, error)
            return None
        except IntegrityError:
            # one_pending_application_per_municipality: another applicant was faster.
            self.add_error("municipality", pending_error(application.municipality))
            return None
        return application


def pending_error(municipality, pending=None) -> forms.ValidationError:
    if pending is None:
        return forms.ValidationError(
            _("%(name)s already has a pending application."),
            code="pending",
            params={"name": municipality.name},
        )
    return forms.ValidationError(
        _("%(name)s already has a pending application, submitted on %(date)s."),
        code="pending",
        params={
            "name": municipality.name,
            "date": date_format(timezone.localtime(pending.created_at), "DATE_FORMAT"),
        },
    )


class MembershipDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Sent to the applicant. Required to decline."),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "decline" and not cleaned.get("reason", "").strip():
            self.add_error("reason", _("Give a reason to decline: the applicant will read it."))
        return cleaned
