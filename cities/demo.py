"""The demo network: member cities drawn from the INE table, invented technicians, working
groups with their work plans, and meetings around today.

Deterministic and idempotent. Every choice draws from its own random.Random, seeded with the
run's seed and the stable key of the thing it chooses for (a municipality's INE code, a user
name, a meeting's key), so the same seed gives the same rows whatever order they are made in,
and a re-run finds those rows instead of adding new ones. Meeting dates count from the Monday
of the current week in Madrid: re-seeding in the same week changes nothing, and re-seeding in a
later week moves the meetings along (raising their iCalendar SEQUENCE), so that the upcoming
ones are still upcoming.

The people are invented: common Spanish first names and surnames combined at random, with
addresses under example.org (RFC 2606). They are not real, identifiable people. Content is in
Spanish, the network's working language.
"""

import random
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from .models import (
    RSVP,
    AgendaItem,
    Attendance,
    City,
    ExpertiseArea,
    GroupMembership,
    Language,
    Meeting,
    MeetingSlot,
    MembershipTier,
    Municipality,
    SizeBand,
    SlotAvailability,
    Technician,
    TechnicianArea,
    WorkingGroup,
    WorkPlanItem,
    coordinators_group,
)
from .models.meetings import MEETING_TZ
from .text import fold

SEED = 2026
DEMO_PASSWORD = "reci-demo-2026"
EMAIL_DOMAIN = "example.org"
COORDINATOR_USERNAME = "coordinator"
COORDINATOR_EMAIL = f"coordinator@{EMAIL_DOMAIN}"
# Demo meetings get name-based UUIDs, so that their calendar UID survives a re-seed.
MEETING_UID_NAMESPACE = uuid.UUID("5f0c6a52-7d1e-4c55-9a43-3c2f1f6e2b10")

# How many member cities of each size band; 44 in all, 4 of Spain's 6 cities over 500,000.
BAND_QUOTAS = {
    SizeBand.METROPOLIS: 4,
    SizeBand.LARGE: 12,
    SizeBand.MEDIUM: 10,
    SizeBand.SMALL: 9,
    SizeBand.TOWN: 9,
}
# Villages under this size rarely have a technical office that could take part.
TOWN_MIN_POPULATION = 3_000
TECHNICIANS_PER_BAND = {
    SizeBand.TOWN: (1, 2),
    SizeBand.SMALL: (1, 3),
    SizeBand.MEDIUM: (2, 3),
    SizeBand.LARGE: (2, 4),
    SizeBand.METROPOLIS: (3, 4),
}

FIRST_NAMES = [
    "Ana", "Antonio", "Beatriz", "Carlos", "Carmen", "Cristina", "David", "Elena", "Francisco",
    "Isabel", "Javier", "Jesús", "Jorge", "José", "Juan", "Laura", "Lucía", "Luis", "Manuel",
    "María", "Marta", "Miguel", "Montserrat", "Nerea", "Pablo", "Paula", "Pedro", "Pilar",
    "Raquel", "Rosa", "Sara", "Sergio", "Silvia", "Iker", "Ainhoa", "Xabier", "Jordi", "Núria",
    "Uxía", "Xoán", "Alberto", "Rocío", "Álvaro", "Irene", "Rubén", "Andrea",
]  # fmt: skip
SURNAMES = [
    "García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez", "Pérez",
    "Gómez", "Martín", "Jiménez", "Ruiz", "Hernández", "Díaz", "Moreno", "Muñoz", "Álvarez",
    "Romero", "Alonso", "Gutiérrez", "Navarro", "Torres", "Domínguez", "Vázquez", "Ramos", "Gil",
    "Ramírez", "Serrano", "Blanco", "Molina", "Morales", "Suárez", "Ortega", "Delgado", "Castro",
    "Ortiz", "Rubio", "Marín", "Sanz", "Núñez", "Iglesias", "Medina", "Garrido", "Cortés",
    "Castillo", "Santos", "Lozano", "Guerrero", "Cano", "Prieto", "Méndez", "Calvo", "Gallego",
    "Vidal", "León", "Herrera", "Peña", "Flores", "Cabrera", "Campos", "Vega", "Fuentes",
    "Carrasco", "Reyes", "Aguilar", "Pascual", "Ferrer", "Soler", "Pastor", "Crespo",
]  # fmt: skip
ADMIN_POSITIONS = [
    "Responsable de Ciudad Inteligente",
    "Jefatura del Servicio de Innovación",
    "Dirección de Transformación Digital",
    "Coordinación de Smart City",
]
# Spanish words for each area, for positions and short bios.
AREA_WORDS = {
    ExpertiseArea.MOBILITY: "movilidad",
    ExpertiseArea.ENERGY: "energía",
    ExpertiseArea.ENVIRONMENT: "medio ambiente",
    ExpertiseArea.WATER_WASTE: "gestión del agua",
    ExpertiseArea.DATA: "datos abiertos",
    ExpertiseArea.GOVERNMENT: "administración electrónica",
    ExpertiseArea.TOURISM: "turismo",
    ExpertiseArea.SOCIAL: "servicios sociales",
    ExpertiseArea.SECURITY: "emergencias",
    ExpertiseArea.INNOVATION: "innovación",
    ExpertiseArea.INFRASTRUCTURE: "alumbrado público",
}
# Co-official languages a technician of the region is likely to speak.
REGION_LANGUAGES = {
    "Cataluña": Language.CATALAN,
    "Illes Balears": Language.CATALAN,
    "Comunitat Valenciana": Language.VALENCIAN,
    "Galicia": Language.GALICIAN,
    "País Vasco": Language.BASQUE,
    "Comunidad Foral de Navarra": Language.BASQUE,
}
FOREIGN_LANGUAGES = [Language.FRENCH, Language.PORTUGUESE, Language.GERMAN, Language.ITALIAN]


@dataclass(frozen=True)
class GroupSpec:
    slug: str
    name: str
    area: str
    remit: str
    plan: tuple[tuple[str, str, int], ...]  # (title, status, due in weeks from this week)
    topics: tuple[tuple[str, str], ...]  # (agenda item, what the group agreed on it)


Status = WorkPlanItem.Status
GROUPS = [
    GroupSpec(
        "movilidad-sostenible",
        "Movilidad sostenible",
        ExpertiseArea.MOBILITY,
        "Compartir experiencias de movilidad urbana sostenible: zonas de bajas emisiones, "
        "entornos escolares seguros, aparcamiento regulado y datos de tráfico en tiempo real. "
        "El grupo mantiene escenarios de gemelo digital que cualquier ciudad miembro puede "
        "adaptar a su propia red viaria.",
        (
            ("Catálogo de escenarios de calles escolares", Status.DONE, -6),
            ("Guía de indicadores para zonas de bajas emisiones", Status.IN_PROGRESS, 4),
            ("Comparativa de sensores de aforo de tráfico", Status.PLANNED, 12),
            ("Modelo común de datos de aparcamiento", Status.BLOCKED, 8),
        ),
        (
            (
                "Resultados del escenario de calles escolares",
                "Se acuerda publicar la plantilla para que otras ciudades la adapten.",
            ),
            (
                "Indicadores de seguimiento de las zonas de bajas emisiones",
                "Se acuerda una lista común de ocho indicadores.",
            ),
            (
                "Datos abiertos de aforos de tráfico",
                "Cada ciudad revisará qué aforos puede publicar.",
            ),
            (
                "Evaluación de los carriles bici temporales",
                "Se recogerán las evaluaciones en una ficha común.",
            ),
        ),
    ),
    GroupSpec(
        "energia-clima",
        "Energía y clima",
        ExpertiseArea.ENERGY,
        "Eficiencia energética en edificios y alumbrado municipales, comunidades energéticas "
        "locales, planes de acción por el clima y seguimiento de emisiones con datos "
        "comparables entre ciudades.",
        (
            ("Inventario de consumos de edificios municipales", Status.IN_PROGRESS, 3),
            ("Pliego tipo de telegestión del alumbrado público", Status.DONE, -3),
            ("Guía para promover comunidades energéticas locales", Status.PLANNED, 10),
        ),
        (
            (
                "Telegestión del alumbrado público",
                "Se comparte el pliego tipo entre las ciudades del grupo.",
            ),
            (
                "Comunidades energéticas locales",
                "Se crea un subgrupo con las ciudades interesadas.",
            ),
            ("Huella de carbono municipal", "Se adopta una metodología común de cálculo."),
            (
                "Monitorización de consumos en colegios",
                "Dos ciudades presentarán sus resultados en la próxima reunión.",
            ),
        ),
    ),
    GroupSpec(
        "medio-ambiente",
        "Medio ambiente y zonas verdes",
        ExpertiseArea.ENVIRONMENT,
        "Redes de sensores de calidad del aire y de ruido, gestión inteligente del arbolado y "
        "del riego de las zonas verdes, e islas de calor urbanas.",
        (
            ("Mapa común de sensores de calidad del aire", Status.IN_PROGRESS, 5),
            ("Protocolo de calibración de sensores de bajo coste", Status.PLANNED, 14),
            ("Informe sobre islas de calor urbanas", Status.DONE, -8),
        ),
        (
            (
                "Calibración de sensores de bajo coste",
                "Se redactará un protocolo común de calibración.",
            ),
            ("Riego inteligente de parques", "Se compartirán los ahorros medidos en cada ciudad."),
            ("Refugios climáticos", "Se recopilará un mapa de los refugios existentes."),
            ("Inventario digital del arbolado", "Se propone un modelo de datos común."),
        ),
    ),
    GroupSpec(
        "plataformas-datos",
        "Plataformas de ciudad y datos abiertos",
        ExpertiseArea.DATA,
        "Plataformas de ciudad inteligente interoperables (norma UNE 178104), modelos de datos "
        "comunes, portales de datos abiertos y gemelos digitales urbanos.",
        (
            ("Modelos de datos comunes para sensores urbanos", Status.IN_PROGRESS, 6),
            ("Conjuntos de datos abiertos prioritarios", Status.DONE, -4),
            ("Guía de contratación de plataformas de ciudad", Status.PLANNED, 16),
            ("Conector común para el gemelo digital", Status.PLANNED, 20),
        ),
        (
            (
                "Interoperabilidad entre plataformas de ciudad",
                "Se adopta la norma UNE 178104 como referencia.",
            ),
            (
                "Conjuntos de datos abiertos prioritarios",
                "Se aprueba una lista de quince conjuntos.",
            ),
            (
                "Gemelos digitales urbanos",
                "Se acuerda compartir los paquetes de escenarios en el portal.",
            ),
            (
                "Calidad de los datos publicados",
                "Se elaborará una lista de comprobación común.",
            ),
        ),
    ),
    GroupSpec(
        "turismo-inteligente",
        "Turismo inteligente",
        ExpertiseArea.TOURISM,
        "Destinos turísticos inteligentes: medición de flujos de visitantes, gestión de aforos, "
        "accesibilidad e información turística en varios idiomas.",
        (
            ("Indicadores comunes de flujos turísticos", Status.IN_PROGRESS, 2),
            ("Piloto de gestión de aforos en el centro histórico", Status.PLANNED, 9),
            ("Informe de accesibilidad de las webs turísticas", Status.DONE, -2),
        ),
        (
            (
                "Medición de flujos de visitantes",
                "Se comparan los métodos de conteo de tres ciudades.",
            ),
            ("Gestión de aforos en temporada alta", "Se preparará un piloto conjunto."),
            ("Información turística accesible", "Se revisarán las webs con una lista común."),
        ),
    ),
    GroupSpec(
        "administracion-digital",
        "Gobernanza y administración digital",
        ExpertiseArea.GOVERNMENT,
        "Administración electrónica, sede y carpeta ciudadana, participación ciudadana digital, "
        "uso ético de los algoritmos y ciberseguridad municipal.",
        (
            ("Guía de adecuación al Esquema Nacional de Seguridad", Status.IN_PROGRESS, 7),
            ("Catálogo de los trámites municipales más usados", Status.DONE, -5),
            ("Recomendaciones sobre el uso ético de algoritmos", Status.PLANNED, 18),
        ),
        (
            (
                "Esquema Nacional de Seguridad",
                "Se compartirán las políticas de seguridad aprobadas.",
            ),
            (
                "Participación ciudadana digital",
                "Se elaborará un mapa de las herramientas en uso.",
            ),
            (
                "Registro de algoritmos municipales",
                "Se estudiará un modelo común de registro.",
            ),
        ),
    ),
    GroupSpec(
        "agua-residuos",
        "Agua y residuos",
        ExpertiseArea.WATER_WASTE,
        "Telelectura de contadores de agua, detección de fugas, recogida de residuos con "
        "sensores de llenado y economía circular.",
        (
            ("Comparativa de sensores de llenado de contenedores", Status.DONE, -7),
            ("Indicadores de pérdidas en la red de agua", Status.IN_PROGRESS, 5),
            ("Guía de rutas de recogida optimizadas", Status.PLANNED, 11),
        ),
        (
            (
                "Sensores de llenado de contenedores",
                "Se comparten los resultados de los pilotos.",
            ),
            ("Detección de fugas con telelectura", "Se acuerda un indicador común de pérdidas."),
            (
                "Recogida selectiva de biorresiduos",
                "Se recopilarán las tasas de participación.",
            ),
        ),
    ),
]
# The working group whose next meeting is still looking for a date.
SCHEDULING_GROUP = "plataformas-datos"

COMMITTEE_TOPICS = (
    ("Informe de los grupos de trabajo", "Se aprueban los planes de trabajo presentados."),
    (
        "Solicitudes de adhesión pendientes",
        "Se informan favorablemente las solicitudes recibidas.",
    ),
    ("Calendario de reuniones del semestre", "Se aprueba el calendario propuesto."),
)
ASSEMBLY_TOPICS = (
    ("Memoria de actividades del año", ""),
    ("Plan de trabajo y presupuesto del próximo año", ""),
    ("Presidencia de los grupos de trabajo", ""),
)


@dataclass
class Seeding:
    """One run of the seeding: its seed, its clock and the coordinator who creates things."""

    seed: int
    now: datetime
    coordinator: object
    password_hash: str

    def rng(self, *keys) -> random.Random:
        """A generator of its own for one decision, keyed by what it decides about."""
        return random.Random(":".join(str(key) for key in (self.seed, *keys)))

    @property
    def monday(self) -> date:
        today = timezone.localdate(self.now, MEETING_TZ)
        return today - timedelta(days=today.weekday())

    def at(self, week: int, weekday: int, hour: int) -> datetime:
        """Madrid time, `week` weeks from this week's Monday (negative: in the past)."""
        day = self.monday + timedelta(weeks=week, days=weekday)
        return datetime.combine(day, time(hour), tzinfo=MEETING_TZ)


class MunicipalityTableEmpty(Exception):
    pass


@transaction.atomic
def seed_network(seed: int = SEED, now: datetime | None = None) -> dict[str, int]:
    """Create (or find again) the demo network; returns the number of rows of each kind."""
    run = Seeding(seed, now or timezone.now(), None, make_password(DEMO_PASSWORD))
    run.coordinator = ensure_coordinator(run.password_hash)
    cities = seed_cities(run)
    technicians = [tech for city in cities for tech in staff_city(run, city)]
    groups = seed_groups(run, cities, technicians)
    seed_meetings(run, groups, cities)
    return network_counts()


def network_counts() -> dict[str, int]:
    return {
        "cities": City.objects.count(),
        "technicians": Technician.objects.filter(approved=True).count(),
        "groups": WorkingGroup.objects.count(),
        "work_items": WorkPlanItem.objects.count(),
        "meetings": Meeting.objects.count(),
        "agenda_items": AgendaItem.objects.count(),
        "rsvps": RSVP.objects.count(),
        "attendance": Attendance.objects.count(),
        "slots": MeetingSlot.objects.count(),
        "availabilities": SlotAvailability.objects.count(),
    }


# People -------------------------------------------------------------------------------------


def ensure_coordinator(password_hash: str | None = None):
    """The network's technical office: coordinator@example.org, in the coordinators group.

    Its password is reset to the documented demo password if it differs, so that the
    README's sign-in works on a database made by an older demo.
    """
    user, created = get_user_model().objects.get_or_create(
        username=COORDINATOR_USERNAME,
        defaults={
            "email": COORDINATOR_EMAIL,
            "first_name": "Oficina técnica",
            "last_name": "de la red",
            "is_staff": True,
            "password": password_hash or make_password(DEMO_PASSWORD),
        },
    )
    if not created and not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    user.groups.add(coordinators_group())
    # Coordinators act for the whole network, not for a city: older demo databases made the
    # coordinator a technician of Granada (to publish its package); that row goes.
    Technician.objects.filter(user=user).delete()
    verified_address(user)
    return user


def verified_address(user) -> None:
    from allauth.account.models import EmailAddress

    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def demo_user(run: Seeding, username: str):
    """An invented technician's account, found by its user name on a re-run."""
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        rng = run.rng("person", username)
        first, surnames = rng.choice(FIRST_NAMES), rng.sample(SURNAMES, 2)
        user = User.objects.create(
            username=username,
            email=free_email(first, surnames[0], rng),
            first_name=first,
            last_name=" ".join(surnames),
            password=run.password_hash,
        )
    verified_address(user)
    return user


def free_email(first: str, surname: str, rng: random.Random) -> str:
    """first.surname.NN@example.org, with the first free number from a random start."""
    from allauth.account.models import EmailAddress

    def key(name):
        return re.sub(r"[^a-z]", "", fold(name))

    number = rng.randint(1, 99)
    while True:
        email = f"{key(first)}.{key(surname)}.{number}@{EMAIL_DOMAIN}"
        taken = get_user_model().objects.filter(email__iexact=email).exists()
        if not taken and not EmailAddress.objects.filter(email__iexact=email).exists():
            return email
        number += 1


# Cities and their technicians ---------------------------------------------------------------


def pick_municipalities(seed: int) -> list[Municipality]:
    """The planned member cities: BAND_QUOTAS of each size band, spread over the regions."""
    by_band = defaultdict(list)
    for place in Municipality.objects.filter(population__gte=TOWN_MIN_POPULATION).order_by(
        "ine_code"
    ):
        by_band[SizeBand.for_population(place.population)].append(place)
    if not by_band:
        raise MunicipalityTableEmpty(
            "The municipality table is empty: run `python manage.py load_municipalities`."
        )
    picked = []
    for band, quota in BAND_QUOTAS.items():
        rng = random.Random(f"{seed}:band:{band}")
        picked += spread_over_regions(by_band[band], quota, rng)
    return picked


def spread_over_regions(places: list, quota: int, rng: random.Random) -> list:
    """Up to `quota` places, one region after another, so that many regions take part."""
    by_region = defaultdict(list)
    for place in places:
        by_region[place.region].append(place)
    queues = [rng.sample(by_region[region], len(by_region[region])) for region in sorted(by_region)]
    rng.shuffle(queues)
    picked = []
    while len(picked) < quota and any(queues):
        for queue in queues:
            if queue and len(picked) < quota:
                picked.append(queue.pop())
    return picked


def seed_cities(run: Seeding) -> list[City]:
    """The planned cities, plus existing member cities that the INE table knows.

    An existing city (the twins demo makes Granada) is linked to its municipality and
    staffed like the others, never duplicated.
    """
    planned = [member_city(run, place) for place in pick_municipalities(run.seed)]
    known = {city.pk for city in planned}
    existing = City.objects.filter(ine_code__in=Municipality.objects.values("ine_code"))
    others = [
        member_city(run, Municipality.objects.get(ine_code=city.ine_code))
        for city in existing.exclude(pk__in=known).order_by("ine_code")
    ]
    return sorted(planned + others, key=lambda city: city.ine_code)


CITY_FIELDS_FROM_TABLE = (
    "municipality_id",
    "province",
    "region",
    "population",
    "latitude",
    "longitude",
    "joined_on",
)


def member_city(run: Seeding, place: Municipality) -> City:
    """The member city of `place`: the existing one (blanks filled in) or a new one."""
    city = (
        City.objects.filter(ine_code=place.ine_code).first()
        or City.objects.filter(municipality=place).first()
    )
    if city is None:
        city = City.from_municipality(place)
    filled = City.from_municipality(place, slug=city.slug)
    days = run.rng("joined", place.ine_code).randint(60, 12 * 365)
    filled.joined_on = timezone.localdate(run.now, MEETING_TZ) - timedelta(days=days)
    blanks = [field for field in CITY_FIELDS_FROM_TABLE if getattr(city, field) in (None, "")]
    for field in blanks:
        setattr(city, field, getattr(filled, field))
    if city.pk is None or blanks:
        city.save()
    return city


def staff_city(run: Seeding, city: City) -> list[Technician]:
    """One city admin and up to three more technicians; the admin is the city's contact."""
    low, high = TECHNICIANS_PER_BAND[city.size_band or SizeBand.TOWN]
    count = run.rng("staff", city.ine_code).randint(low, high)
    technicians = [
        demo_technician(run, city, index, Technician.Role.CITY_ADMIN if index == 0 else None)
        for index in range(count)
    ]
    if city.contact_id is None:
        city.contact = technicians[0]
        city.save(update_fields=["contact"])
    return technicians


def demo_technician(run: Seeding, city: City, index: int, role) -> Technician:
    username = f"demo-{city.ine_code}-{index}"
    user = demo_user(run, username)
    technician = Technician.objects.filter(user=user).first()
    if technician is not None:
        return technician
    rng = run.rng("technician", username)
    areas = rng.sample(ExpertiseArea.values, rng.randint(1, 3))
    approved_at = run.now - timedelta(days=rng.randint(20, 900))
    technician = Technician(
        user=user,
        city=city,
        role=role or Technician.Role.TECHNICIAN,
        approved=True,
        requested_at=approved_at - timedelta(days=rng.randint(1, 6)),
        approved_at=approved_at,
        approved_by=run.coordinator,
        position=rng.choice(ADMIN_POSITIONS) if role else f"Técnica/o de {AREA_WORDS[areas[0]]}",
        bio=f"Trabaja en {spanish_list([AREA_WORDS[a] for a in areas])} en {city.name}.",
    )
    technician.set_languages(spoken_languages(rng, city.region))
    technician.save()
    TechnicianArea.objects.bulk_create(
        [TechnicianArea(technician=technician, area=area) for area in areas]
    )
    return technician


def spoken_languages(rng: random.Random, region: str) -> list[str]:
    codes = [Language.SPANISH]
    if region in REGION_LANGUAGES and rng.random() < 0.8:
        codes.append(REGION_LANGUAGES[region])
    if rng.random() < 0.6:
        codes.append(Language.ENGLISH)
    if rng.random() < 0.2:
        codes.append(rng.choice(FOREIGN_LANGUAGES))
    return codes


def spanish_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} y {words[-1]}"


# Working groups ------------------------------------------------------------------------------


def seed_groups(run: Seeding, cities: list[City], technicians: list[Technician]):
    """The working groups, chaired by full members, with their members and work plans."""
    full = [city for city in cities if city.tier == MembershipTier.FULL]
    chairs = run.rng("chairs").sample(full, len(GROUPS))
    groups = []
    for spec, chair in zip(GROUPS, chairs, strict=True):
        group = WorkingGroup.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "area": spec.area,
                "remit": spec.remit,
                "chair_city": chair,
            },
        )[0]
        groups.append((spec, group))
    for technician in technicians:
        join_groups(run, technician, groups)
    for spec, group in groups:
        seed_work_plan(run, spec, group)
    return groups


def join_groups(run: Seeding, technician: Technician, groups) -> None:
    """Technicians join the groups of their areas, the chairs' admins their own, a few more."""
    rng = run.rng("groups", technician.user.username)
    areas = set(technician.areas.values_list("area", flat=True))
    for spec, group in groups:
        chairs = technician.is_city_admin and group.chair_city_id == technician.city_id
        if spec.area in areas or chairs or rng.random() < 0.15:
            GroupMembership.objects.get_or_create(group=group, technician=technician)


def group_members(group: WorkingGroup) -> list[Technician]:
    return list(group.members.select_related("user", "city").order_by("user__username"))


def seed_work_plan(run: Seeding, spec: GroupSpec, group: WorkingGroup) -> None:
    members = group_members(group)
    for position, (title, status, weeks) in enumerate(spec.plan):
        rng = run.rng("work-item", spec.slug, position)
        WorkPlanItem.objects.get_or_create(
            group=group,
            title=title,
            defaults={
                "position": position,
                "status": status,
                "owner": rng.choice(members) if members else None,
                "due_date": run.monday + timedelta(weeks=weeks, days=4),
                "updated_by": run.coordinator,
            },
        )


# Meetings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingPlan:
    key: str
    kind: str
    title: str
    week: int
    weekday: int
    hour: int
    hours: int
    mode: str
    group: WorkingGroup | None = None
    status: str = Meeting.Status.SCHEDULED
    description: str = ""


def seed_meetings(run: Seeding, groups, cities: list[City]) -> None:
    for index, (spec, group) in enumerate(groups):
        seed_group_meetings(run, index, spec, group)
    seed_network_meetings(run, cities)


def seed_group_meetings(run: Seeding, index: int, spec: GroupSpec, group: WorkingGroup) -> None:
    """Two past meetings with minutes and attendance, the next one with RSVPs, maybe a poll."""
    members = group_members(group)
    invitees = [member.user for member in members]
    venue = f"Ayuntamiento de {group.chair_city.name}"
    weeks = {"past-0": -(9 + index % 3), "past-1": -(3 + index % 2), "next": 1 + index % 5}
    for number, (name, week) in enumerate(weeks.items()):
        topics = meeting_topics(run, spec, number)
        meeting = upsert_meeting(run, group_plan(run, spec, group, name, week, topics), venue)
        agenda = set_agenda(run, meeting, topics, members)
        if week < 0:
            record_minutes(run, meeting, agenda, invitees)
        else:
            collect_rsvps(run, meeting, invitees)
    if spec.slug == SCHEDULING_GROUP:
        seed_poll(run, spec, group, invitees)


def meeting_topics(run: Seeding, spec: GroupSpec, number: int) -> list[tuple[str, str]]:
    """Three of the group's topics, led by a different one at each meeting."""
    order = run.rng("topics", spec.slug).sample(list(spec.topics), len(spec.topics))
    return [order[(number + k) % len(order)] for k in range(min(3, len(order)))]


def group_plan(run, spec, group, name: str, week: int, topics) -> MeetingPlan:
    key = f"{spec.slug}:{name}"
    index = GROUPS.index(spec)
    hybrid = name == "next" and run.rng("mode", key).random() < 0.3
    return MeetingPlan(
        key=key,
        kind=Meeting.Kind.GROUP,
        group=group,
        title=f"{spec.name}: {topics[0][0]}",
        week=week,
        weekday=1 + index % 3,
        hour=10 if index % 2 == 0 else 16,
        hours=2 if hybrid else 1,
        mode=Meeting.Mode.HYBRID if hybrid else Meeting.Mode.ONLINE,
        description=f"Reunión del grupo de trabajo «{spec.name}».",
    )


def seed_network_meetings(run: Seeding, cities: list[City]) -> None:
    """The technical committee (the last one and the next) and the general assembly.

    Both gather one representative per member city: the city admins are invited.
    """
    admins = [
        technician.user
        for technician in Technician.objects.filter(
            city__in=cities, role=Technician.Role.CITY_ADMIN, approved=True
        )
        .select_related("user")
        .order_by("user__username")
    ]
    hosts = [city for city in cities if city.size_band in (SizeBand.LARGE, SizeBand.METROPOLIS)]
    venue = f"Ayuntamiento de {run.rng('host').choice(hosts or cities).name}"
    last, following, assembly = network_plans()
    meeting = upsert_meeting(run, last, venue)
    record_minutes(run, meeting, set_agenda(run, meeting, COMMITTEE_TOPICS, []), admins)
    for plan, topics in ((following, COMMITTEE_TOPICS), (assembly, ASSEMBLY_TOPICS)):
        meeting = upsert_meeting(run, plan, venue)
        set_agenda(run, meeting, topics, [])
        collect_rsvps(run, meeting, admins)


def network_plans() -> tuple[MeetingPlan, MeetingPlan, MeetingPlan]:
    committee = {
        "kind": Meeting.Kind.TECHNICAL_COMMITTEE,
        "title": "Comité técnico de la red",
        "description": "Un representante técnico de cada ciudad miembro y la oficina técnica.",
        "weekday": 2,
        "hour": 10,
    }
    return (
        MeetingPlan("committee:last", week=-5, hours=2, mode=Meeting.Mode.ONLINE, **committee),
        MeetingPlan("committee:next", week=2, hours=3, mode=Meeting.Mode.HYBRID, **committee),
        MeetingPlan(
            "assembly:next",
            kind=Meeting.Kind.ASSEMBLY,
            title="Asamblea general de la red",
            description="Asamblea anual de las ciudades miembro.",
            week=6,
            weekday=3,
            hour=10,
            hours=4,
            mode=Meeting.Mode.IN_PERSON,
        ),
    )


def upsert_meeting(run: Seeding, plan: MeetingPlan, venue: str) -> Meeting:
    """Create the meeting, or find it again and move it to dates counted from this week.

    A meeting that people have since confirmed, cancelled or re-scheduled is left alone.
    Moving it raises its iCalendar SEQUENCE, so that calendar clients take the new time.
    """
    uid = uuid.uuid5(MEETING_UID_NAMESPACE, plan.key)
    starts_at = run.at(plan.week, plan.weekday, plan.hour)
    if plan.status != Meeting.Status.SCHEDULED:
        starts_at = None
    meeting = Meeting.objects.filter(uid=uid).first()
    if meeting is None:
        return Meeting.objects.create(
            uid=uid,
            kind=plan.kind,
            group=plan.group,
            title=plan.title[:300],
            description=plan.description,
            mode=plan.mode,
            location=venue if plan.mode != Meeting.Mode.ONLINE else "",
            online_url=online_url(plan),
            status=plan.status,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=plan.hours) if starts_at else None,
            created_by=run.coordinator,
        )
    if meeting.status == plan.status and starts_at and meeting.starts_at != starts_at:
        move_meeting(meeting, starts_at - meeting.starts_at)
    return meeting


def online_url(plan: MeetingPlan) -> str:
    if plan.mode == Meeting.Mode.IN_PERSON:
        return ""
    return f"https://meet.{EMAIL_DOMAIN}/reci/{plan.key.replace(':', '-')}"


def move_meeting(meeting: Meeting, delta: timedelta) -> None:
    meeting.starts_at += delta
    meeting.ends_at += delta
    if meeting.minutes_published_at:
        meeting.minutes_published_at += delta
    meeting.sequence += 1
    meeting.save()


def set_agenda(run: Seeding, meeting: Meeting, topics, members) -> list[AgendaItem]:
    """Welcome, the topics (each presented by a member when there are members), questions."""
    rng = run.rng("agenda", meeting.uid)
    items = [("Bienvenida y aprobación del acta anterior", "", 10)]
    for title, _agreement in topics:
        presenter = rng.choice(members) if members else None
        name = f"{presenter.display_name} ({presenter.city.name})" if presenter else ""
        items.append((title, name, rng.choice((20, 30, 40))))
    items.append(("Ruegos y preguntas", "", 10))
    return [
        AgendaItem.objects.get_or_create(
            meeting=meeting,
            position=position,
            defaults={"title": title, "presenter": presenter, "duration_minutes": minutes},
        )[0]
        for position, (title, presenter, minutes) in enumerate(items)
    ]


def record_minutes(run: Seeding, meeting: Meeting, agenda: list[AgendaItem], invitees) -> None:
    """Who attended, and the minutes (published two days after the meeting)."""
    for user in invitees:
        if run.rng("attended", meeting.uid, user.username).random() < 0.65:
            Attendance.objects.get_or_create(meeting=meeting, user=user)
    if meeting.minutes_published_at is not None:
        return
    agreements = dict([*COMMITTEE_TOPICS, *(topic for spec in GROUPS for topic in spec.topics)])
    present = meeting.attendance.count()
    lines = [f"Asisten {present} personas de las ciudades miembro.", ""]
    for number, item in enumerate(agenda, start=1):
        lines.append(f"{number}. {item.title}. {agreements.get(item.title, '')}".rstrip())
    meeting.minutes = "\n".join(lines)
    meeting.minutes_published_at = meeting.ends_at + timedelta(days=2)
    meeting.save(update_fields=["minutes", "minutes_published_at", "updated_at"])


def collect_rsvps(run: Seeding, meeting: Meeting, invitees) -> None:
    """Most invitees answer: going, maybe or not going."""
    responses = [RSVP.Response.GOING, RSVP.Response.MAYBE, RSVP.Response.NOT_GOING]
    for user in invitees:
        rng = run.rng("rsvp", meeting.uid, user.username)
        if rng.random() < 0.7:
            response = rng.choices(responses, weights=(6, 2, 1))[0]
            RSVP.objects.get_or_create(meeting=meeting, user=user, defaults={"response": response})


def seed_poll(run: Seeding, spec: GroupSpec, group: WorkingGroup, invitees) -> None:
    """A meeting still finding a date: three proposed slots, some members have answered."""
    plan = MeetingPlan(
        key=f"{spec.slug}:poll",
        kind=Meeting.Kind.GROUP,
        group=group,
        title=f"{spec.name}: plan de trabajo del próximo semestre",
        description=f"Reunión del grupo de trabajo «{spec.name}».",
        week=4,
        weekday=0,
        hour=10,
        hours=1,
        mode=Meeting.Mode.ONLINE,
        status=Meeting.Status.SCHEDULING,
    )
    meeting = upsert_meeting(run, plan, "")
    if meeting.status != Meeting.Status.SCHEDULING:
        return  # a coordinator has picked the date since
    slots = propose_slots(meeting, [run.at(4, 1, 10), run.at(4, 2, 16), run.at(5, 3, 10)])
    answers = SlotAvailability.Answer.values
    for user in invitees:
        rng = run.rng("availability", meeting.uid, user.username)
        if rng.random() < 0.6:
            for slot in slots:
                SlotAvailability.objects.get_or_create(
                    slot=slot, user=user, defaults={"answer": rng.choice(answers)}
                )


def propose_slots(meeting: Meeting, starts: list[datetime]) -> list[MeetingSlot]:
    """One-hour slots at `starts`; existing slots are moved there rather than replaced."""
    slots = list(meeting.slots.order_by("starts_at", "id"))
    for index, starts_at in enumerate(starts):
        ends_at = starts_at + timedelta(hours=1)
        if index == len(slots):
            slots.append(MeetingSlot(meeting=meeting))
        slot = slots[index]
        if (slot.starts_at, slot.ends_at) != (starts_at, ends_at):
            slot.starts_at, slot.ends_at = starts_at, ends_at
            slot.save()
    return slots[: len(starts)]
