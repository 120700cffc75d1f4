"""Working groups and their work plans."""

from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from ..text import fold
from .directory import City, ExpertiseArea, Technician


class WorkingGroup(models.Model):
    """A thematic working group of the network, chaired by one member city."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    area = models.CharField(_("area"), max_length=30, choices=ExpertiseArea)
    remit = models.TextField(_("remit"))
    chair_city = models.ForeignKey(
        City,
        on_delete=models.PROTECT,
        related_name="chaired_groups",
        verbose_name=_("chair city"),
    )
    members = models.ManyToManyField(
        Technician, through="GroupMembership", related_name="working_groups", blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    search_name = models.CharField(max_length=200, db_index=True, editable=False, default="")

    class Meta:
        ordering = ["search_name", "name"]
        verbose_name = _("working group")
        verbose_name_plural = _("working groups")

    def __str__(self) -> str:
        return self.name

    # Paths under /groups/ that a group's slug must not shadow.
    RESERVED_SLUGS = frozenset({"new"})

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("cities:group-detail", args=[self.slug])

    def clean(self):
        super().clean()
        if self._state.adding and self.slug:  # an address is chosen once (see the API)
            self.clean_new_slug()

    def clean_new_slug(self):
        """A new group's address: lower case (/groups/NEW/ and /groups/new/ are one name to a
        reader, and "Energia" would sit beside "energia"), and not a page of the site."""
        if self.slug.lower() in self.RESERVED_SLUGS:
            message = _("“%(slug)s” is a page of the site, not a group's address.")
            raise ValidationError({"slug": message % {"slug": self.slug}})
        if self.slug != self.slug.lower():
            message = _("A group's address is in lower case: “%(slug)s”, not “%(given)s”.")
            raise ValidationError(
                {"slug": message % {"slug": self.slug.lower(), "given": self.slug}}
            )

    def insert(self, *, slug_chosen: bool) -> None:
        """Save this new group. A slug made from its name moves on to the next free one when
        another group took it in the meantime (two coordinators, or API clients, creating at
        once); a slug its creator chose is refused instead."""
        for attempt in range(1, 6):
            try:
                with transaction.atomic():
                    self.save(force_insert=True)
                return
            except IntegrityError:
                if not WorkingGroup.objects.filter(slug=self.slug).exists():
                    raise  # another constraint: not a slug taken in the meantime
                if slug_chosen or attempt == 5:
                    raise ValidationError(
                        {"slug": _("A working group with this address already exists.")}
                    ) from None
                self.slug = self.unique_slug(self.name)

    @classmethod
    def unique_slug(cls, name: str) -> str:
        """A free address for a new group called `name`: its slug, numbered if taken."""
        base = slugify(name)[:190] or "group"
        slug, n = base, 2
        while slug in cls.RESERVED_SLUGS or cls.objects.filter(slug=slug).exists():
            slug, n = f"{base}-{n}", n + 1
        return slug


class GroupMembership(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="memberships")
    technician = models.ForeignKey(
        Technician, on_delete=models.CASCADE, related_name="group_memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["group", "technician"], name="unique_group_membership")
        ]
        verbose_name = _("group membership")
        verbose_name_plural = _("group memberships")

    def __str__(self) -> str:
        return f"{self.technician} in {self.group}"


class WorkPlanItem(models.Model):
    """One item of a group's work plan, optionally linked to a case study or scenario package."""

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")
        DROPPED = "dropped", _("Dropped")

    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="work_items")
    title = models.CharField(_("title"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        Technician,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_items",
        verbose_name=_("owner"),
    )
    status = models.CharField(_("status"), max_length=20, choices=Status, default=Status.PLANNED)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    case_study = models.ForeignKey(
        "wagtailcore.Page",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case study"),
    )
    scenario_package = models.ForeignKey(
        "twins.ScenarioPackage",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="work_items",
        verbose_name=_("scenario package"),
    )
    link = models.URLField(_("other link"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["group", "position", "id"]
        verbose_name = _("work plan item")
        verbose_name_plural = _("work plan items")

    def __str__(self) -> str:
        return self.title

    # A work plan spans years, not centuries: a typo such as 0202 or 9999 is refused.
    EARLIEST_DUE = date(2000, 1, 1)
    MAX_YEARS_AHEAD = 10

    def clean(self):
        super().clean()
        if self.due_date is None:
            return
        latest = timezone.localdate().replace(month=1, day=1)
        latest = latest.replace(year=latest.year + self.MAX_YEARS_AHEAD + 1)
        if not self.EARLIEST_DUE <= self.due_date < latest:
            message = _("The due date must be between %(first)s and %(last)s.") % {
                "first": self.EARLIEST_DUE.year,
                "last": latest.year - 1,
            }
            raise ValidationError({"due_date": message})
