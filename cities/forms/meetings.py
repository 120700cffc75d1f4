"""Forms of the meeting pages: details, proposed dates, agenda, attachments and answers."""

import os
from datetime import datetime
from math import ceil

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import from_current_timezone
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import avoid_wrapping
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from ..models import (
    RSVP,
    AgendaItem,
    Meeting,
    MeetingAttachment,
    MeetingSlot,
    SlotAvailability,
    WorkingGroup,
)
from ..models.meetings import MEETING_TZ, in_utc, span_errors
from ..submissions import SubmittedOnce

ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
# At least two dates, or it is not a choice: a single date is simply the meeting's time.
MIN_PROPOSED_SLOTS = 2


def on_madrid_time(value: datetime) -> datetime:
    """A naive date and time read on Madrid time, refused as MeetingDateTimeField refuses it
    (Django's "couldn't be interpreted in time zone...") when Madrid has no such time (the
    hour skipped when the clocks go forward) or has it twice (the hour repeated when they
    go back). The API's times (serializers.MeetingTimeField) go through it too."""
    with timezone.override(MEETING_TZ):
        return from_current_timezone(value)


class MeetingDateTimeField(forms.DateTimeField):
    """A date and time read and shown on Madrid time, the time of every meeting.

    Django's DateTimeField makes the parsed time aware with from_current_timezone, the check
    of on_madrid_time: here under Madrid time.
    """

    # The browser's date-time picker sends and expects ISO 8601 (HTML's own format).
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")

    def to_python(self, value):
        with timezone.override(MEETING_TZ):
            return super().to_python(value)

    def prepare_value(self, value):
        with timezone.override(MEETING_TZ):
            return super().prepare_value(value)


class MeetingForm(SubmittedOnce, forms.ModelForm):
    starts_at = MeetingDateTimeField(
        label=_("Starts at"), required=False, help_text=_("Madrid time.")
    )
    ends_at = MeetingDateTimeField(label=_("Ends at"), required=False, help_text=_("Madrid time."))
    online_url = Meeting._meta.get_field("online_url").formfield(assume_scheme="https")

    class Meta:
        model = Meeting
        fields = [
            "title",
            "kind",
            "group",
            "description",
            "mode",
            "location",
            "online_url",
            "starts_at",
            "ends_at",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, with_time: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = WorkingGroup.objects.filter(is_active=True)
        if self.instance.pk:
            # Who the meeting is for is fixed once it exists (services.meetings.AUDIENCE_FIELDS).
            del self.fields["kind"], self.fields["group"]
        if not with_time:
            # The time of a meeting that is looking for a date comes from the chosen slot.
            del self.fields["starts_at"], self.fields["ends_at"]

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and not ends_at and "ends_at" not in self.errors:
            self.add_error("ends_at", _("Give the time the meeting ends."))
        if ends_at and not starts_at and "starts_at" not in self.errors:
            self.add_error("starts_at", _("Give the time the meeting starts."))
        return cleaned

    def _update_errors(self, errors):
        """The model's errors; its span checks judge only the times the form accepted.

        A time the form refused (one Madrid does not have, say) is not put on the meeting,
        which keeps its old one: the model's checks then measured from the old start to the
        new end, adding "lasts at most 7 days" to an hour at a clock change, or "must end
        after it starts" to the end already refused. They are run again without it.
        """
        refused = {name for name in ("starts_at", "ends_at") if name in self._errors}
        if refused and hasattr(errors, "error_dict"):
            kept = {
                name: messages
                for name, messages in errors.error_dict.items()
                if name not in ("starts_at", "ends_at")
            }
            accepted = {
                name: None if name in refused else self.cleaned_data.get(name)
                for name in ("starts_at", "ends_at")
            }
            kept.update(span_errors(accepted["starts_at"], accepted["ends_at"]))
            errors = ValidationError(kept)
        super()._update_errors(errors)

    @property
    def has_fixed_time(self) -> bool:
        return bool(self.cleaned_data.get("starts_at") or self.cleaned_data.get("ends_at"))

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields if name != "submission"}


class SlotForm(forms.Form):
    starts_at = MeetingDateTimeField(label=_("Starts at"))
    ends_at = MeetingDateTimeField(label=_("Ends at"))

    def clean(self):
        cleaned = super().clean()
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and in_utc(ends_at) <= in_utc(starts_at):
            self.add_error("ends_at", _("The proposed date must end after it starts."))
        if starts_at and starts_at < timezone.now():
            self.add_error("starts_at", _("A proposed date cannot be in the past."))
        return cleaned


class BaseSlotFormSet(forms.BaseFormSet):
    def slots(self) -> list[tuple]:
        return [
            (form.cleaned_data["starts_at"], form.cleaned_data["ends_at"])
            for form in self.forms
            if form.has_changed() and form.cleaned_data
        ]

    def clean(self):
        if any(self.errors):
            return
        slots = self.slots()
        if len(set(slots)) != len(slots):
            raise forms.ValidationError(_("The same date is proposed twice."))


SlotFormSet = forms.formset_factory(SlotForm, formset=BaseSlotFormSet, extra=4)


def check_time_or_slots(form: MeetingForm, slot_formset) -> bool:
    """A new meeting has a fixed time or at least two proposed dates, never both."""
    if not (form.is_valid() and slot_formset.is_valid()):
        return False
    count = len(slot_formset.slots())
    if form.has_fixed_time and count:
        form.add_error(None, _("Give either a fixed time or dates to choose from, not both."))
    elif not form.has_fixed_time and count < MIN_PROPOSED_SLOTS:
        form.add_error(
            "starts_at",
            _("Give the start and end, or propose at least %(count)d dates to choose from.")
            % {"count": MIN_PROPOSED_SLOTS},
        )
    return not form.errors


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to everyone invited."),
    )


class RSVPForm(forms.Form):
    response = forms.ChoiceField(
        label=_("Will you attend?"), choices=RSVP.Response.choices, widget=forms.RadioSelect
    )


class AvailabilityForm(forms.Form):
    """One answer (yes, if need be, no) per proposed slot, in fields named slot_<id>."""

    def __init__(self, *args, slots, answers=None, **kwargs):
        super().__init__(*args, **kwargs)
        answers = answers or {}
        self.slots = list(slots)
        for slot in self.slots:
            self.fields[f"slot_{slot.pk}"] = forms.ChoiceField(
                label=_("Proposed date"),
                choices=SlotAvailability.Answer.choices,
                widget=forms.RadioSelect,
                required=False,
                initial=answers.get(slot.pk),
            )

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name) for name in self.fields):
            raise forms.ValidationError(_("Answer at least one of the proposed dates."))
        return cleaned

    def slot_fields(self) -> list[tuple]:
        """(slot, bound field) pairs, for a template that shows the slot's own date."""
        return [(slot, self[f"slot_{slot.pk}"]) for slot in self.slots]

    def answers(self) -> dict[int, str]:
        return {
            int(name.removeprefix("slot_")): value
            for name, value in self.cleaned_data.items()
            if value
        }


class ConfirmSlotForm(forms.Form):
    slot = forms.ModelChoiceField(label=_("Date"), queryset=MeetingSlot.objects.none())

    def __init__(self, *args, meeting: Meeting, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = meeting.slots.all()
        self.fields["slot"].error_messages["invalid_choice"] = _(
            "Choose one of the dates proposed for this meeting."
        )


# renumber_agenda() turns positions into 1, 2, 3...: this only has to sort after them all.
END_OF_AGENDA = 1_000_000


class AgendaItemForm(forms.ModelForm):
    # No default: an empty new line stays unchanged (and is skipped) instead of position 0.
    position = forms.IntegerField(
        label=pgettext_lazy("order in the agenda", "Position"),
        required=False,
        min_value=0,
        widget=forms.NumberInput(attrs={"size": 3, "min": 0}),
        help_text=_("Empty: at the end."),
    )

    class Meta:
        model = AgendaItem
        fields = ["position", "title", "presenter", "duration_minutes", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 2})}

    def clean_position(self):
        position = self.cleaned_data["position"]
        return END_OF_AGENDA if position is None else position


AgendaFormSet = forms.inlineformset_factory(
    Meeting, AgendaItem, form=AgendaItemForm, extra=2, can_delete=True
)


# Documents, spreadsheets, slides, images, data and archives: what meetings share. No
# programs or web pages (attachments are downloaded, but a member's machine may open them).
ATTACHMENT_EXTENSIONS = frozenset(
    ["pdf", "odt", "ods", "odp", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt"]
    + ["md", "csv", "png", "jpg", "jpeg", "gif", "webp", "zip", "geojson", "json", "kml"]
    + ["gpkg", "ics"]
)


def megabytes_rounded_up(size: int) -> str:
    """A size in megabytes to a tenth, rounded up: a file just over a limit reads as over it."""
    return avoid_wrapping(_("%s MB") % number_format(ceil(size * 10 / 2**20) / 10, 1))


class AttachmentForm(SubmittedOnce, forms.ModelForm):
    title = forms.CharField(
        label=_("Title"),
        max_length=300,
        required=False,
        help_text=_("Leave empty to use the file's name."),
    )

    class Meta:
        model = MeetingAttachment
        fields = ["file", "title"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("At most %(limit)s.") % {
            "limit": filesizeformat(ATTACHMENT_MAX_BYTES)
        }

    def clean_file(self):
        upload = self.cleaned_data["file"]
        extension = os.path.splitext(upload.name)[1].lower().lstrip(".")
        if extension not in ATTACHMENT_EXTENSIONS:
            raise forms.ValidationError(
                _("Files of type “%(extension)s” are not accepted; accepted: %(accepted)s."),
                params={
                    "extension": extension or _("no extension"),
                    "accepted": ", ".join(sorted(ATTACHMENT_EXTENSIONS)),
                },
            )
        if upload.size > ATTACHMENT_MAX_BYTES:
            limit = filesizeformat(ATTACHMENT_MAX_BYTES)
            size = filesizeformat(upload.size)
            if size == limit:  # just over: "20.0 MB; at most 20.0 MB" read as a contradiction
                size = megabytes_rounded_up(upload.size)
            raise forms.ValidationError(
                _("The file is %(size)s; attachments may be at most %(limit)s."),
                params={"size": size, "limit": limit},
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("file") and not cleaned.get("title"):
            cleaned["title"] = os.path.basename(cleaned["file"].name)
        return cleaned


class AttendanceForm(forms.Form):
    attendees = forms.ModelMultipleChoiceField(
        label=_("Who attended"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, invitees, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["attendees"]
        field.queryset = invitees
        field.label_from_instance = lambda user: user.get_full_name() or user.email


class MinutesForm(forms.Form):
    minutes = forms.CharField(
        label=_("Minutes"), required=False, widget=forms.Textarea(attrs={"rows": 16})
    )
