"""Query filters of the network's API (/api/v1/): ?search= and the django-filter FilterSets.

A value a filter cannot use is a 400 that names the parameter (DjangoFilterBackend does
this for an invalid FilterSet), never "no filter" or an empty page: a typo must not look
like an answer. Hence no NullBooleanField (it reads any unknown value as "not given") and
no CharFilter on slugs (an unknown slug would just match nothing).
"""

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework.filters import SearchFilter

from .forms.fields import FoldedChoiceField
from .models import (
    City,
    ExpertiseArea,
    Language,
    Meeting,
    MembershipTier,
    SizeBand,
    Technician,
    WorkingGroup,
    province_choices,
    region_choices,
)
from .text import fold


class FoldedSearchFilter(SearchFilter):
    """?search= that ignores accents and case ("Mostoles" finds "Móstoles").

    Point the view's `search_fields` at the models' folded `search_*` fields: the terms
    are folded the same way before they are compared.
    """

    def get_search_terms(self, request):
        # A term of punctuation alone ("-") folds to nothing, which would match everything.
        return [folded for term in super().get_search_terms(request) if (folded := fold(term))]


class StrictBooleanField(forms.NullBooleanField):
    """true or false (also 1 or 0, in any case); empty means "not given"; anything else
    is an error."""

    widget = forms.TextInput  # NullBooleanSelect would turn "maybe" into None already
    default_error_messages = {"invalid": _("Use true or false.")}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise ValidationError(self.error_messages["invalid"], code="invalid") from None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


def slug_filter(model, field_name: str, label) -> django_filters.ModelChoiceFilter:
    """An object picked by its slug; an unknown slug is an error, not an empty result."""
    return django_filters.ModelChoiceFilter(
        field_name=field_name, to_field_name="slug", queryset=model.objects.all(), label=label
    )


class PlaceNameFilter(django_filters.Filter):
    """An autonomous community or province, matched folded ("andalucia", "MALAGA"); a name
    outside the fixed set of the municipality table is a 400 that names the parameter."""

    field_class = FoldedChoiceField


class CityFilter(django_filters.FilterSet):
    region = PlaceNameFilter(
        choices=region_choices, parameter="region", label=_("Autonomous community")
    )
    province = PlaceNameFilter(choices=province_choices, parameter="province", label=_("Province"))
    size_band = django_filters.ChoiceFilter(choices=SizeBand.choices, label=_("Size band"))
    tier = django_filters.ChoiceFilter(choices=MembershipTier.choices, label=_("Membership tier"))

    class Meta:
        model = City
        fields = ["region", "province", "size_band", "tier"]


class TechnicianFilter(django_filters.FilterSet):
    city = slug_filter(City, "city", _("City (slug)"))
    area = django_filters.ChoiceFilter(
        field_name="areas__area", choices=ExpertiseArea.choices, label=_("Area of expertise")
    )
    language = django_filters.ChoiceFilter(
        choices=Language.choices, method="filter_language", label=_("Language")
    )
    group = slug_filter(WorkingGroup, "working_groups", _("Working group (slug)"))

    class Meta:
        model = Technician
        fields = ["city", "area", "language", "group"]

    def filter_language(self, queryset, name, value):
        # `languages` holds comma-separated codes: match a whole code, not "es" inside "pes".
        return queryset.filter(languages__regex=rf"(^|,){value}(,|$)")


class WorkingGroupFilter(django_filters.FilterSet):
    area = django_filters.ChoiceFilter(choices=ExpertiseArea.choices, label=_("Area"))
    active = BooleanFilter(field_name="is_active", label=_("Active"))

    class Meta:
        model = WorkingGroup
        fields = ["area", "active"]


class MeetingFilter(django_filters.FilterSet):
    group = slug_filter(WorkingGroup, "group", _("Working group (slug)"))
    kind = django_filters.ChoiceFilter(choices=Meeting.Kind.choices, label=_("Kind"))
    status = django_filters.ChoiceFilter(choices=Meeting.Status.choices, label=_("Status"))
    # A date alone means midnight on Madrid time; a date-time may carry its own offset.
    after = django_filters.DateTimeFilter(
        field_name="starts_at", lookup_expr="gte", label=_("Starts at or after")
    )
    before = django_filters.DateTimeFilter(
        field_name="starts_at", lookup_expr="lt", label=_("Starts before")
    )

    class Meta:
        model = Meeting
        fields = ["group", "kind", "status", "after", "before"]
