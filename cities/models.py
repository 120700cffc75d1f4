"""Member cities and the people who work in them.

This is the minimal directory the scenario packages need (an owner city and
who may act for it); the full directory, working groups and meetings build on it.
"""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _

COORDINATORS_GROUP = "Network coordinators"


class City(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    ine_code = models.CharField(
        _("INE municipality code"), max_length=5, unique=True, null=True, blank=True
    )
    province = models.CharField(_("province"), max_length=100, blank=True)
    region = models.CharField(_("autonomous community"), max_length=100, blank=True)
    population = models.PositiveIntegerField(_("population"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")

    def __str__(self) -> str:
        return self.name


class Technician(models.Model):
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

    class Meta:
        verbose_name = _("technician")
        verbose_name_plural = _("technicians")

    def __str__(self) -> str:
        return f"{self.user} ({self.city})"


def is_coordinator(user) -> bool:
    """A network coordinator: a member of the coordinators group (or a superuser)."""
    if not user.is_authenticated:
        return False
    return user.is_superuser or user.groups.filter(name=COORDINATORS_GROUP).exists()


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
