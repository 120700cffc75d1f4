from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from cities.models import City

from .models import Visibility


class PublishForm(forms.Form):
    archive = forms.FileField(label=_("Package (.zip)"))
    visibility = forms.ChoiceField(label=_("Visibility"), choices=Visibility.choices)
    city = forms.ModelChoiceField(
        label=_("City"),
        queryset=City.objects.all(),
        required=False,
        help_text=_("Coordinators publish for any city; technicians for their own."),
    )

    def clean_archive(self):
        archive = self.cleaned_data["archive"]
        limit = settings.TWINS_PACKAGE_MAX_UPLOAD_BYTES
        if archive.size > limit:
            raise forms.ValidationError(
                _("The package is %(size)d bytes; the limit is %(limit)d."),
                params={"size": archive.size, "limit": limit},
            )
        return archive


class RunForm(forms.Form):
    relative_gap = forms.FloatField(
        label=_("Relative gap"), required=False, min_value=1e-12, max_value=0.5
    )
    max_iterations = forms.IntegerField(
        label=_("Iteration limit"), required=False, min_value=1, max_value=100_000
    )

    def overrides(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v is not None}
