import factory
from django.contrib.auth import get_user_model

from cities.models import City, Technician, coordinators_group


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
