from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from cities.models import (
    AgendaItem,
    City,
    ExpertiseArea,
    GroupMembership,
    Meeting,
    Municipality,
    Technician,
    WorkingGroup,
    WorkPlanItem,
    coordinators_group,
)


class CityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = City

    name = factory.Sequence(lambda n: f"Villa {n}")
    slug = factory.Sequence(lambda n: f"villa-{n}")
    province = "Granada"
    region = "Andalucía"
    population = 50_000


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Nombre{n}")
    last_name = "Pérez"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct horse battery")


class TechnicianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Technician

    user = factory.SubFactory(UserFactory)
    city = factory.SubFactory(CityFactory)
    approved = True


def make_coordinator():
    user = UserFactory()
    user.groups.add(coordinators_group())
    return user


class MunicipalityFactory(factory.django.DjangoModelFactory):
    """A made-up municipality (codes from 99000 up: no real INE code starts with 99)."""

    class Meta:
        model = Municipality
        django_get_or_create = ["ine_code"]

    ine_code = factory.Sequence(lambda n: f"{99000 + n:05d}")
    name = factory.Sequence(lambda n: f"Villanueva {n}")
    province = "Granada"
    region = "Andalucía"
    population = 30_000
    population_year = 2025
    latitude = 37.18
    longitude = -3.6
    area_km2 = 50.0


class WorkingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkingGroup

    name = factory.Sequence(lambda n: f"Grupo de trabajo {n}")
    slug = factory.Sequence(lambda n: f"grupo-{n}")
    area = ExpertiseArea.MOBILITY
    remit = "Compartir experiencias de movilidad sostenible."
    chair_city = factory.SubFactory(CityFactory)


class WorkPlanItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkPlanItem

    group = factory.SubFactory(WorkingGroupFactory)
    title = factory.Sequence(lambda n: f"Tarea {n}")


class MeetingFactory(factory.django.DjangoModelFactory):
    """A scheduled online meeting of a working group, a week from now."""

    class Meta:
        model = Meeting

    kind = Meeting.Kind.GROUP
    group = factory.SubFactory(WorkingGroupFactory)
    title = factory.Sequence(lambda n: f"Reunión {n}")
    mode = Meeting.Mode.ONLINE
    online_url = "https://meet.example.org/reci"
    status = Meeting.Status.SCHEDULED
    starts_at = factory.LazyFunction(
        lambda: (timezone.now() + timedelta(days=7)).replace(minute=0, second=0, microsecond=0)
    )
    ends_at = factory.LazyAttribute(lambda m: m.starts_at + timedelta(hours=1))


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    title = factory.Sequence(lambda n: f"Punto {n}")
    position = factory.Sequence(lambda n: n)


def join_group(group, technician):
    return GroupMembership.objects.create(group=group, technician=technician)
