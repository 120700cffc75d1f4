"""Forms of the working groups pages: the list's filter, a group, an item of its work plan."""

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _
from wagtail.models import Page, Site

from twins.permissions import visible_packages

from ..models import ExpertiseArea, Technician, WorkingGroup, WorkPlanItem
from ..submissions import SubmittedOnce
from ..text import search_words


class GroupFilterForm(forms.Form):
    """The list's search box and filters, read from the query string."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    area = forms.ChoiceField(
        label=_("Area"), required=False, choices=[("", _("All areas")), *ExpertiseArea.choices]
    )
    archived = forms.BooleanField(label=_("Inactive groups"), required=False)

    def filter(self, groups):
        """`groups` narrowed by whatever of the query string is valid."""
        self.is_valid()  # the fields that are valid still filter; the form shows the others
        data = self.cleaned_data
        groups = groups.filter(is_active=not data.get("archived", False))
        for word in search_words(data.get("q", "")):  # as the API's ?search= does
            groups = groups.filter(search_name__contains=word)
        if data.get("area"):
            groups = groups.filter(area=data["area"])
        return groups


class WorkingGroupForm(SubmittedOnce, forms.ModelForm):
    class Meta:
        model = WorkingGroup
        fields = ["name", "area", "remit", "chair_city", "is_active"]

    def save(self, commit=True):
        group = super().save(commit=False)
        if not commit:
            return group
        if group.pk is None:
            group.slug = WorkingGroup.unique_slug(group.name)
            group.insert(slug_chosen=False)
        else:
            group.save()
        return group


def https_by_default(field, **kwargs):
    """A link typed without a scheme is taken as https://, not http://."""
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class WorkPlanItemForm(SubmittedOnce, forms.ModelForm):
    """An item of a group's plan; its owner is one of the group's members.

    Linked content must be something the editor can see: a live Wagtail page as the
    case study, a scenario package visible to them.
    """

    class Meta:
        model = WorkPlanItem
        fields = [
            "title",
            "description",
            "owner",
            "status",
            "due_date",
            "case_study",
            "scenario_package",
            "link",
        ]
        formfield_callback = https_by_default
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}

    def __init__(self, *args, group: WorkingGroup, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.instance.group = group
        owners = Technician.objects.filter(group_memberships__group=group)
        if self.instance.owner_id:
            # An owner who has since left the group may stay, but nobody else from outside.
            owners = owners | Technician.objects.filter(pk=self.instance.owner_id)
        self.fields["owner"].queryset = owners.select_related("user", "city").distinct()
        self.fields["owner"].error_messages["invalid_choice"] = _(
            "The owner must be a member of this working group."
        )
        # Any published page below a site's home: the home itself is no case study.
        homes = Site.objects.values("root_page")
        self.fields["case_study"].queryset = (
            Page.objects.live().filter(depth__gt=1).exclude(pk__in=homes)
        )
        self.fields["case_study"].error_messages["invalid_choice"] = _(
            "The case study must be a published page of the site."
        )
        self.fields["scenario_package"].queryset = visible_packages(user).select_related(
            "owner_city"
        )
        self.fields["scenario_package"].error_messages["invalid_choice"] = _(
            "Choose a scenario package that you can see."
        )
