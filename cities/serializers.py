"""Serializers of the network's API. Writes are validated by the models' own full_clean()."""

import copy

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .forms.meetings import on_madrid_time
from .models import (
    RSVP,
    AgendaItem,
    City,
    ExpertiseArea,
    Language,
    Meeting,
    MeetingSlot,
    Technician,
    TechnicianArea,
    WorkingGroup,
)
from .services.meetings import audience_errors


class ModelCleanMixin:
    """Run the model's full_clean() on the would-be object, so the API and the forms share rules.

    Fields the serializer cannot write are left out of the field checks (they are set by
    the server), but the model's clean() and its constraints always run. Errors keep
    the model's field names, so a 400 names the field that is wrong.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        candidate = copy.copy(self.instance) if self.instance else self.Meta.model()
        for name, value in attrs.items():
            setattr(candidate, name, value)
        writable = {name for name, field in self.fields.items() if not field.read_only}
        writable |= {field.source for field in self.fields.values() if not field.read_only}
        excluded = [f.name for f in candidate._meta.concrete_fields if f.name not in writable]
        try:
            candidate.full_clean(exclude=excluded, validate_unique=False)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return attrs


class CitySerializer(ModelCleanMixin, serializers.ModelSerializer):
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Technician.objects.filter(approved=True),
        allow_null=True,
        required=False,
        help_text=_("Id of an approved technician of this city."),
    )

    class Meta:
        model = City
        fields = [
            "slug",
            "name",
            "ine_code",
            "province",
            "region",
            "population",
            "size_band",
            "tier",
            "joined_on",
            "latitude",
            "longitude",
            "website",
            "description",
            "contact",
        ]
        # What a city's admins edit; coordinators also change the tier (see CityViewSet).
        read_only_fields = [
            "slug",
            "name",
            "ine_code",
            "province",
            "region",
            "population",
            "size_band",
            "joined_on",
            "latitude",
            "longitude",
        ]


class ExpertiseAreasField(serializers.ListField):
    child = serializers.ChoiceField(choices=ExpertiseArea.choices)

    def get_attribute(self, technician):
        return [row.area for row in technician.areas.all()]


class LanguagesField(serializers.ListField):
    child = serializers.ChoiceField(choices=Language.choices)

    def get_attribute(self, technician):
        return technician.language_codes()


class TechnicianSerializer(serializers.ModelSerializer):
    """A profile inside the network. Never the e-mail address.

    Validated as the profile form (forms.people.ProfileForm) is: a position, and at
    least one language.
    """

    name = serializers.SerializerMethodField()
    city = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    areas = ExpertiseAreasField(required=False)
    languages = LanguagesField(
        required=False,
        allow_empty=False,
        error_messages={"empty": _("Choose at least one language you work in.")},
    )
    groups = serializers.SlugRelatedField(
        source="working_groups", slug_field="slug", many=True, read_only=True
    )

    class Meta:
        model = Technician
        fields = ["id", "name", "city", "position", "areas", "languages", "groups"]
        extra_kwargs = {"position": {"allow_blank": False}}

    def get_name(self, technician) -> str:
        # Not display_name: that falls back to the e-mail address.
        return technician.user.get_full_name()

    @transaction.atomic
    def update(self, technician, validated_data):
        areas = validated_data.pop("areas", None)
        languages = validated_data.pop("languages", None)
        if languages is not None:
            technician.set_languages(languages)
        technician = super().update(technician, validated_data)
        if areas is not None:
            technician.areas.exclude(area__in=areas).delete()
            TechnicianArea.objects.bulk_create(
                [TechnicianArea(technician=technician, area=area) for area in set(areas)],
                ignore_conflicts=True,
            )
        return technician


class WorkingGroupSerializer(ModelCleanMixin, serializers.ModelSerializer):
    chair_city = serializers.SlugRelatedField(slug_field="slug", queryset=City.objects.all())
    active = serializers.BooleanField(source="is_active", required=False)
    member_count = serializers.IntegerField(read_only=True)
    joined = serializers.BooleanField(
        read_only=True, help_text=_("Whether the caller is a member of the group.")
    )

    class Meta:
        model = WorkingGroup
        fields = [
            "slug",
            "name",
            "area",
            "remit",
            "chair_city",
            "active",
            "created_at",
            "member_count",
            "joined",
        ]
        read_only_fields = ["created_at"]
        extra_kwargs = {
            "slug": {
                "required": False,
                "help_text": _(
                    "The group's address; made from its name when left out. It does not "
                    "change once the group exists: pages and calendar links use it."
                ),
            }
        }

    def validate_slug(self, slug):
        if self.instance is not None and slug != self.instance.slug:
            raise serializers.ValidationError(
                _("A group's address does not change: its members' calendar links use it.")
            )
        return slug

    def validate(self, attrs):
        if self.instance is None and not attrs.get("slug") and attrs.get("name"):
            attrs["slug"] = WorkingGroup.unique_slug(attrs["name"])
        return super().validate(attrs)

    def create(self, validated_data):
        group = WorkingGroup(**validated_data)
        try:
            group.insert(slug_chosen=bool(self.initial_data.get("slug")))
        except DjangoValidationError as exc:
            raise serializers.ValidationError(serializers.as_serializer_error(exc)) from exc
        return group


class AgendaItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgendaItem
        fields = ["position", "title", "presenter", "duration_minutes", "notes"]
        read_only_fields = fields


class MeetingTimeField(serializers.DateTimeField):
    """A meeting's time: one without an offset is on Madrid time, and refused as the pages
    refuse it if Madrid has no such time or has it twice, at a clock change.

    DRF's own check (valid_datetime) lets both through with zoneinfo: it asks whether the
    time equals itself in UTC, which Python answers "no" for any time of a gap or a
    repeated hour (PEP 495), and then calls the time not ambiguous.
    """

    def enforce_timezone(self, value):
        if timezone.is_naive(value):
            try:
                value = on_madrid_time(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages, code=exc.code) from exc
        return super().enforce_timezone(value)


# The serializers of meetings and their proposed dates read times with MeetingTimeField.
MEETING_FIELD_MAPPING = {
    **serializers.ModelSerializer.serializer_field_mapping,
    models.DateTimeField: MeetingTimeField,
}


class MeetingSlotSerializer(serializers.ModelSerializer):
    serializer_field_mapping = MEETING_FIELD_MAPPING

    class Meta:
        model = MeetingSlot
        fields = ["starts_at", "ends_at"]


class MeetingSerializer(ModelCleanMixin, serializers.ModelSerializer):
    serializer_field_mapping = MEETING_FIELD_MAPPING

    group = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=WorkingGroup.objects.all(),
        allow_null=True,
        required=False,
        help_text=_("Slug of the working group; empty for network meetings."),
    )
    agenda = AgendaItemSerializer(source="agenda_items", many=True, read_only=True)
    slots = MeetingSlotSerializer(
        many=True,
        required=False,
        help_text=_(
            "Proposed dates while the meeting is looking for one. To create such a meeting, "
            "send status 'scheduling' with its slots; to confirm it, send status 'scheduled' "
            "with the start and end of one of them."
        ),
    )
    my_response = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text=_("The caller's RSVP: going, maybe, not_going, or null."),
    )

    class Meta:
        model = Meeting
        fields = [
            "id",
            "uid",
            "kind",
            "group",
            "title",
            "description",
            "mode",
            "location",
            "online_url",
            "starts_at",
            "ends_at",
            "status",
            "cancellation_reason",
            "sequence",
            "agenda",
            "slots",
            "my_response",
        ]
        read_only_fields = ["uid", "sequence"]

    def validate(self, attrs):
        slots = attrs.pop("slots", None)
        if self.instance is not None and (errors := audience_errors(self.instance, attrs)):
            # Before the model's checks, which would blame the group for a new kind.
            raise serializers.ValidationError(errors)
        attrs = super().validate(attrs)
        if slots is not None:
            if self.instance is not None:
                raise serializers.ValidationError(
                    {"slots": _("Dates are proposed when the meeting is created.")}
                )
            attrs["slots"] = [(slot["starts_at"], slot["ends_at"]) for slot in slots]
        status = attrs.get("status", getattr(self.instance, "status", None))
        reason = attrs.get("cancellation_reason", getattr(self.instance, "cancellation_reason", ""))
        if status == Meeting.Status.CANCELLED and not reason:
            raise serializers.ValidationError(
                {"cancellation_reason": _("Say why the meeting is cancelled.")}
            )
        return attrs


class RSVPSerializer(serializers.ModelSerializer):
    class Meta:
        model = RSVP
        fields = ["response", "responded_at"]
        read_only_fields = ["responded_at"]
