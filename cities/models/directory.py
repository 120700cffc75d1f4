"""The directory: Spain's municipalities, the member cities and their technicians."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from ..text import fold

COORDINATORS_GROUP = "Network coordinators"
# Below this population a town joins on the associate tier (DESIGN.md: membership tier).
ASSOCIATE_POPULATION_LIMIT = 20_000


class Municipality(models.Model):
    """One row of the INE/IGN reference table (cities/data/municipalities.csv).

    Member cities are picked from this table, never typed.
    """

    ine_code = models.CharField(_("INE municipality code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=200)
    province = models.CharField(_("province"), max_length=100)
    region = models.CharField(_("autonomous community"), max_length=100)
    population = models.PositiveIntegerField(_("population"))
    population_year = models.PositiveSmallIntegerField(_("population year"))
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    area_km2 = models.FloatField(_("area (km²)"), null=True, blank=True)
    search_name = models.CharField(max_length=200, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["search_name", "name"]
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")

    def __str__(self) -> str:
        return f"{self.name} ({self.province})"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class SizeBand(models.TextChoices):
    TOWN = "town", _("Under 20,000 inhabitants")
    SMALL = "small", _("20,000 to 50,000")
    MEDIUM = "medium", _("50,000 to 100,000")
    LARGE = "large", _("100,000 to 500,000")
    METROPOLIS = "metropolis", _("500,000 or more")

    @classmethod
    def for_population(cls, population: int | None) -> "SizeBand | str":
        if population is None:
            return ""
        for limit, band in (
            (20_000, cls.TOWN),
            (50_000, cls.SMALL),
            (100_000, cls.MEDIUM),
            (500_000, cls.LARGE),
        ):
            if population < limit:
                return band
        return cls.METROPOLIS


class MembershipTier(models.TextChoices):
    FULL = "full", _("Full member")
    ASSOCIATE = "associate", _("Associate (small town)")


class ExpertiseArea(models.TextChoices):
    """The network's thematic areas: technicians' expertise and working groups' themes."""

    MOBILITY = "mobility", _("Mobility and transport")
    ENERGY = "energy", _("Energy and climate")
    ENVIRONMENT = "environment", _("Environment and green spaces")
    WATER_WASTE = "water_waste", _("Water and waste")
    DATA = "data", _("Open data and platforms")
    GOVERNMENT = "government", _("Digital government and e-services")
    TOURISM = "tourism", _("Tourism and culture")
    SOCIAL = "social", _("Social services and health")
    SECURITY = "security", _("Public safety and emergencies")
    INNOVATION = "innovation", _("Innovation and economy")
    INFRASTRUCTURE = "infrastructure", _("Lighting, buildings and infrastructure")


class Language(models.TextChoices):
    SPANISH = "es", _("Spanish")
    ENGLISH = "en", _("English")
    CATALAN = "ca", _("Catalan")
    BASQUE = "eu", _("Basque")
    GALICIAN = "gl", _("Galician")
    VALENCIAN = "va", _("Valencian")
    FRENCH = "fr", _("French")
    PORTUGUESE = "pt", _("Portuguese")
    GERMAN = "de", _("German")
    ITALIAN = "it", _("Italian")


class City(models.Model):
    """A member city of the network."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    municipality = models.OneToOneField(
        Municipality,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="member_city",
        verbose_name=_("municipality"),
    )
    ine_code = models.CharField(
        _("INE municipality code"), max_length=5, unique=True, null=True, blank=True
    )
    province = models.CharField(_("province"), max_length=100, blank=True)
    region = models.CharField(_("autonomous community"), max_length=100, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    size_band = models.CharField(
        _("size band"), max_length=20, choices=SizeBand, blank=True, editable=False
    )
    tier = models.CharField(
        _("membership tier"), max_length=20, choices=MembershipTier, default=MembershipTier.FULL
    )
    joined_on = models.DateField(_("member since"), null=True, blank=True)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True)
    contact = models.ForeignKey(
        "Technician",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("contact technician"),
    )
    search_name = models.CharField(max_length=200, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["search_name", "name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        self.size_band = SizeBand.for_population(self.population)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("cities:city-detail", args=[self.slug])

    def clean(self):
        if self.contact_id and self.contact.city_id != self.pk:
            raise ValidationError({"contact": _("The contact must be a technician of this city.")})

    @classmethod
    def from_municipality(cls, municipality: Municipality, **fields) -> "City":
        """An unsaved member city filled in from the reference table."""
        fields.setdefault("slug", unique_city_slug(municipality.name))
        fields.setdefault(
            "tier",
            MembershipTier.ASSOCIATE
            if municipality.population < ASSOCIATE_POPULATION_LIMIT
            else MembershipTier.FULL,
        )
        return cls(
            name=municipality.name,
            municipality=municipality,
            ine_code=municipality.ine_code,
            province=municipality.province,
            region=municipality.region,
            population=municipality.population,
            latitude=municipality.latitude,
            longitude=municipality.longitude,
            **fields,
        )


def unique_city_slug(name: str) -> str:
    base = slugify(name) or "city"
    slug, n = base, 2
    while City.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


class Technician(models.Model):
    """A user's membership of one city: the request to join it and, once approved, the profile."""

    class Role(models.TextChoices):
        TECHNICIAN = "technician", _("Technician")
        CITY_ADMIN = "city_admin", _("City admin")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="technician"
    )
    city = models.ForeignKey(City, on_delete=models.PROTECT, related_name="technicians")
    role = models.CharField(_("role"), max_length=20, choices=Role, default=Role.TECHNICIAN)
    approved = models.BooleanField(
        _("approved"), default=False, help_text=_("Approved by the city's admin or a coordinator.")
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    position = models.CharField(_("position"), max_length=200, blank=True)
    bio = models.TextField(_("about"), blank=True)
    # Comma-separated Language codes, e.g. "es,en,ca".
    languages = models.CharField(_("languages"), max_length=100, blank=True, default="es")
    weekly_digest = models.BooleanField(
        _("weekly digest"),
        default=True,
        help_text=_("Receive a weekly e-mail with the network's activity."),
    )
    digest_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    search_text = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["user__last_name", "user__first_name", "user__email"]
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.city})"

    def save(self, *args, **kwargs):
        self.refresh_search_text()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("cities:technician-detail", args=[self.pk])

    @property
    def display_name(self) -> str:
        return self.user.get_full_name() or self.user.email or self.user.get_username()

    @property
    def is_city_admin(self) -> bool:
        return self.approved and self.role == self.Role.CITY_ADMIN

    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    def set_languages(self, codes) -> None:
        unknown = sorted(set(codes) - set(Language.values))
        if unknown:
            raise ValidationError(_("Unknown language codes: %s") % ", ".join(unknown))
        self.languages = ",".join(code for code in Language.values if code in set(codes))

    def refresh_search_text(self) -> None:
        """Fold name, position, city and bio into one accent-free field for search.

        Never the e-mail address: the API does not show it, so a search must not reveal it
        either (?search=part-of-an-address would tell who has it).
        """
        parts = [
            self.user.get_full_name(),
            self.position,
            self.city.name,
            self.bio,
        ]
        self.search_text = fold(" ".join(p for p in parts if p))


class TechnicianArea(models.Model):
    """One area of expertise of a technician (a row, so that filters work on every database)."""

    technician = models.ForeignKey(Technician, on_delete=models.CASCADE, related_name="areas")
    area = models.CharField(_("area"), max_length=30, choices=ExpertiseArea)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["technician", "area"], name="unique_technician_area")
        ]
        verbose_name = _("area of expertise")
        verbose_name_plural = _("areas of expertise")

    def __str__(self) -> str:
        return self.get_area_display()


class MembershipApplication(models.Model):
    """A municipality's request to join the network, decided by a coordinator."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("municipality"),
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership_applications",
        verbose_name=_("applicant"),
    )
    applicant_position = models.CharField(_("applicant's position"), max_length=200)
    tier = models.CharField(_("membership tier"), max_length=20, choices=MembershipTier)
    website = models.URLField(_("website"), blank=True)
    motivation = models.TextField(_("why the city wants to join"))
    status = models.CharField(
        _("status"), max_length=20, choices=Status, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason"), blank=True)
    city = models.OneToOneField(
        City,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="application",
        verbose_name=_("member city"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("membership application")
        verbose_name_plural = _("membership applications")
        constraints = [
            # One open application per municipality at a time.
            models.UniqueConstraint(
                fields=["municipality"],
                condition=models.Q(status="pending"),
                name="one_pending_application_per_municipality",
            )
        ]

    def __str__(self) -> str:
        return f"{self.municipality.name}: {self.get_status_display()}"


def is_coordinator(user) -> bool:
    """A network coordinator: a member of the coordinators group (or a superuser).

    The answer is cached on the user object for the request.
    """
    if not user.is_authenticated:
        return False
    cached = getattr(user, "_reci_is_coordinator", None)
    if cached is None:
        cached = user.is_superuser or user.groups.filter(name=COORDINATORS_GROUP).exists()
        user._reci_is_coordinator = cached
    return cached


def city_of(user) -> City | None:
    """The city an approved technician acts for, or None."""
    if not user.is_authenticated:
        return None
    technician = getattr(user, "technician", None)
    if technician is None or not technician.approved:
        return None
    return technician.city


def coordinators_group() -> Group:
    group, _created = Group.objects.get_or_create(name=COORDINATORS_GROUP)
    return group


def place_names(field: str) -> list[str]:
    """Every autonomous community (`field="region"`) or province (`"province"`): the fixed
    set of the municipality table, with any other a member city holds, in folded order."""
    if field not in ("region", "province"):
        raise ValueError(f"not a place field: {field}")
    names = set(Municipality.objects.values_list(field, flat=True).distinct())
    names |= set(City.objects.values_list(field, flat=True).distinct())
    return sorted(filter(None, names), key=fold)


def region_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in place_names("region")]


def province_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in place_names("province")]
