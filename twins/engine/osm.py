"""OpenStreetMap import: a directed car network, zones, synthetic demand and school streets.

Reads OSM XML (``.osm``, ``.osm.gz``, ``.osm.bz2``) and PBF with pyosmium, keeping node
locations in memory so way geometries resolve. Data © OpenStreetMap contributors (ODbL 1.0).
The rules below are the contract; docs/osm-import.md explains the choices.

**Which ways are roads.** ``highway`` = motorway, trunk, primary, secondary, tertiary (and
their ``_link`` variants), unclassified (a public road of the lowest rank, treated like
residential), residential, living_street, and service except ``service`` = parking_aisle /
driveway / drive-through / emergency_access (car-park aisles and private driveways carry no
through traffic). ``highway`` = construction / proposed and any other value are skipped.
Also skipped: ``area=yes`` (a square, not a carriageway); ways closed to cars by access tags,
the most specific key of ACCESS_KEYS (motorcar, motor_vehicle, vehicle, access) deciding, with
CLOSED_ACCESS values (no, private, psv...) meaning closed (so ``access=private`` +
``motor_vehicle=yes`` is open); ``oneway`` = reversible / alternating (the direction changes
during the day, and OSM does not say which one holds at the peak).

**Direction.** The most specific of ONEWAY_KEYS (oneway:motorcar, oneway:motor_vehicle,
oneway:vehicle, oneway) decides: yes / true / 1 → forward only; -1 / reverse → backward only;
no / false / 0 → both. Without one, ``junction`` = roundabout / circular and
``highway=motorway`` are one-way forward; everything else is two-way.

**Topology.** Ways are split into links at every node used more than once (by two ways or
twice by one) and at way ends, so links meet at junctions; each link keeps its geometry
(list of (lon, lat)), name, class and OSM way id. A clipped way (node references without a
location, as bounding-box extracts have) keeps its contiguous parts of two or more located
nodes; the unlocated references and the segments they cut are counted, never fatal.
Two links may not join the same pair of nodes (TNTP and ``--close FROM-TO`` address links
by node pair): a second one is split at its middle shape node, which becomes a network node;
one without shape nodes (an exact duplicate) and zero-length loops are dropped and counted.
Only the largest strongly connected component is kept (every node reachable from every
other); what it removes is counted.

**Attributes.** Length: great-circle (haversine) along the geometry. Speed, per direction
(:func:`speed_source`): ``maxspeed:forward`` / ``:backward``, then ``maxspeed``, then a
country code in maxspeed:type / source:maxspeed / zone:maxspeed / zone:traffic (ZONE_SPEEDS),
then the ``country``'s class default (COUNTRY_DEFAULTS), then the generic class default of
:data:`ROAD_CLASSES`. Values are numbers (km/h), "N mph", "walk" (6), "none" (130) or codes;
a list "90;30" takes its lowest. Lanes per direction (:func:`lanes_per_direction`):
``lanes:forward`` / ``lanes:backward``, else ``lanes`` (all of it on a one-way road; on a
two-way road what the other direction's tag and ``lanes:both_ways`` leave, else half, at least
1, rounded down), else the class default; "2;3" takes the smallest (the bottleneck); lanes are
whole numbers (GMNS). Capacity = lanes × the class's veh/h per lane. Free-flow time = length /
speed in minutes. BPR alpha 0.15, beta 4.

**Ids.** Network nodes keep their OSM node ids; link ids are 1..L in the order of OSM way id,
position along the way, forward before backward (stable for the same extract).

**Map features** (``amenity`` in :data:`FEATURE_AMENITIES`: schools, kindergartens, colleges,
universities, hospitals) are kept with all their tags and written to the package as
``features.geojson``: a node is a Point; a complete closed way a Polygon; an open or clipped
way a LineString of its located nodes; a multipolygon a MultiPolygon of its outer rings.
**Schools** are the ``amenity=school`` ones. The school-streets template writes the portable
intervention ``restrict_area`` near ``amenity=school``: at run time it closes every link of the
chosen classes (default residential and living_street) whose geometry comes within
``radius_m`` of a school (outlines sampled every :data:`SCHOOL_SAMPLE_M` metres along the
edges, so a street next to a long wall is found even far from the corners) or lies inside
one, on whatever network the package's scenario is applied to.

**Buildings and points of interest** feed the synthetic demand's trip generation
(:mod:`twins.engine.demand`). A building is a closed way or multipolygon with ``building=*``
(not ``no``), assembled as an area: its centroid (mean of its outer-ring vertices) and its
footprint in m² (shoelace in a local equirectangular projection, outer rings minus inner);
floor area = footprint x ``building:levels`` when that is a plain positive number, else x 1.
``building`` in :data:`RESIDENTIAL_BUILDINGS` (``yes`` included: most untyped buildings in a
city are homes) counts as residential floor area; :data:`NO_ACTIVITY_BUILDINGS` (garages,
sheds, roofs, ruins...) count for nothing; the rest is non-residential. A POI is a node or
area with ``amenity`` (not street furniture, :data:`NON_POI_AMENITIES`), ``shop`` or
``office``, weighted in m² of floor-area equivalent by :data:`POI_WEIGHTS_M2`. Only a point
and a weight are kept of each.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import osmium
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .demand import (
    LandUse,
    LocalProjection,
    add_grid_zones,
    gravity_demand,
    polyline_length_km,
)
from .interventions import FEATURE_SAMPLE_M, apply_interventions_report, parse_features
from .network import Demand, Network, NetworkError
from .package import build_package


class RoadClass(NamedTuple):
    speed_kmh: float  # generic default when no speed tag resolves (country=None)
    lane_capacity: float  # veh/h per lane
    lanes: int  # default lanes per direction


# Generic defaults (country=None), urban and Spain-like: the 2021 traffic rules set 30 km/h on
# streets with one lane per direction and 50 km/h with two, 20 km/h on shared-surface streets.
# Capacities are urban saturation flows (~1,800-1,900 veh/h/lane) times a typical green share at
# signals; motorways and trunk roads are uninterrupted flow. Capacities do not vary by country.
ROAD_CLASSES: dict[str, RoadClass] = {
    "motorway": RoadClass(100.0, 1900.0, 2),
    "motorway_link": RoadClass(60.0, 1500.0, 1),
    "trunk": RoadClass(80.0, 1700.0, 2),
    "trunk_link": RoadClass(50.0, 1300.0, 1),
    "primary": RoadClass(50.0, 1000.0, 1),
    "primary_link": RoadClass(40.0, 900.0, 1),
    "secondary": RoadClass(50.0, 900.0, 1),
    "secondary_link": RoadClass(40.0, 800.0, 1),
    "tertiary": RoadClass(40.0, 800.0, 1),
    "tertiary_link": RoadClass(30.0, 700.0, 1),
    "unclassified": RoadClass(30.0, 600.0, 1),
    "residential": RoadClass(30.0, 600.0, 1),
    "living_street": RoadClass(20.0, 300.0, 1),
    "service": RoadClass(20.0, 300.0, 1),
}
NOT_BUILT = frozenset({"construction", "proposed"})  # own skip reasons, for the report
EXCLUDED_SERVICE = frozenset({"parking_aisle", "driveway", "drive-through", "emergency_access"})
# Access: the most specific key present decides; these values close the way to cars. Anything
# else (yes, permissive, destination, customers, designated, delivery windows written as
# conditional values...) leaves it open.
ACCESS_KEYS = ("motorcar", "motor_vehicle", "vehicle", "access")  # most specific first
CLOSED_ACCESS = frozenset(
    {"no", "private", "agricultural", "forestry", "emergency", "delivery", "psv", "bus"}
)
# Direction: the most specific oneway key present decides.
ONEWAY_KEYS = ("oneway:motorcar", "oneway:motor_vehicle", "oneway:vehicle", "oneway")
ONEWAY_VALUES: dict[str, tuple[bool, bool]] = {  # (forward, backward) along the node order
    "yes": (True, False),
    "true": (True, False),
    "1": (True, False),
    "-1": (False, True),
    "reverse": (False, True),
    "no": (True, True),
    "false": (True, True),
    "0": (True, True),
}
# Direction changes during the day (tidal lanes) or by signal (one lane in turns): OSM does not
# say which direction holds at the modelled peak, so these ways are left out and counted.
REVERSIBLE_ONEWAY = frozenset({"reversible", "alternating"})
# Without any oneway tag these are one-way forward ("_link" roads are taken as tagged).
IMPLIED_ONEWAY = (("junction", "roundabout"), ("junction", "circular"), ("highway", "motorway"))

BPR_ALPHA, BPR_BETA = 0.15, 4.0
MPH_KMH = 1.609344
KNOT_KMH = 1.852
WALK_KMH = 6.0  # "walk" (walking pace; German courts put Schrittgeschwindigkeit at 4-7 km/h)
NO_LIMIT_KMH = 130.0  # "none": no legal limit; the German advisory motorway speed
MPH_COUNTRIES = frozenset({"GB", "US"})  # "<CC>:zone<N>" is in mph there


class ByLanes(NamedTuple):
    """A limit that depends on the street (Spain's urban rule since 11 May 2021)."""

    single_platform: float  # highway=living_street: carriageway and pavement at one level
    one_lane: float  # one lane in the direction of travel
    more_lanes: float  # two or more lanes in the direction of travel


# Implicit limits by "<country>:<context>" code, as maxspeed, maxspeed:type, source:maxspeed,
# zone:maxspeed or zone:traffic values (OSM wiki "Default speed limits"; national rules for
# cars). Values use maxspeed syntax. "<CC>:zone<N>", "<CC>:zone:<N>" and "<CC>:<N>" (the
# zone:maxspeed form) need no entry: N km/h (N mph in MPH_COUNTRIES). An unknown code falls
# through to the next source.
ZONE_SPEEDS: dict[str, str | ByLanes] = {
    "AT:urban": "50",
    "AT:rural": "100",
    "AT:motorway": "130",
    "AT:living_street": "walk",
    "BE:urban": "50",
    "BE:rural": "90",
    "BE-VLG:rural": "70",
    "BE:motorway": "120",
    "BE:living_street": "20",
    "CH:urban": "50",
    "CH:rural": "80",
    "CH:trunk": "100",
    "CH:motorway": "120",
    "CH:living_street": "20",
    "DE:urban": "50",
    "DE:rural": "100",
    "DE:motorway": "none",
    "DE:living_street": "walk",
    "DE:bicycle_road": "30",
    "DK:urban": "50",
    "DK:rural": "80",
    "DK:motorway": "130",
    "ES:urban": ByLanes(single_platform=20.0, one_lane=30.0, more_lanes=50.0),
    "ES:rural": "90",
    "ES:trunk": "100",
    "ES:motorway": "120",
    "ES:living_street": "20",
    "FI:urban": "50",
    "FI:rural": "80",
    "FI:trunk": "100",
    "FI:motorway": "120",
    "FI:living_street": "20",
    "FR:urban": "50",
    "FR:rural": "80",
    "FR:trunk": "110",
    "FR:motorway": "130",
    "FR:living_street": "20",
    "GB:nsl_restricted": "30 mph",
    "GB:nsl_single": "60 mph",
    "GB:nsl_dual": "70 mph",
    "GB:motorway": "70 mph",
    "IT:urban": "50",
    "IT:rural": "90",
    "IT:trunk": "110",
    "IT:motorway": "130",
    "MC:urban": "50",
    "NL:urban": "50",
    "NL:rural": "80",
    "NL:trunk": "100",
    "NL:motorway": "100",  # 06:00-19:00 since 2020, so at the modelled peak
    "NL:living_street": "walk",
    "PT:urban": "50",
    "PT:rural": "90",
    "PT:trunk": "100",
    "PT:motorway": "120",
    "RU:urban": "60",
    "RU:rural": "90",
    "RU:motorway": "110",
    "RU:living_street": "20",
}
# Tags that may carry such a code, tried in this order after maxspeed itself.
IMPLICIT_SPEED_KEYS = ("maxspeed:type", "source:maxspeed", "zone:maxspeed", "zone:traffic")


class CountryDefaults(NamedTuple):
    """Speed defaults of a country by road class, in maxspeed syntax (codes allowed)."""

    motorway: str
    trunk: str
    urban: str  # primary .. residential and their links (the product models towns)
    living_street: str


# The ``country`` fallback when no tag gives a speed. Classes not listed (motorway_link,
# trunk_link, service) keep the generic ROAD_CLASSES speed: ramps and alleys are limited by
# their geometry, not by the legal limit.
COUNTRY_DEFAULTS: dict[str, CountryDefaults] = {
    "AT": CountryDefaults("AT:motorway", "100", "AT:urban", "AT:living_street"),
    "BE": CountryDefaults("BE:motorway", "90", "BE:urban", "BE:living_street"),
    "CH": CountryDefaults("CH:motorway", "CH:trunk", "CH:urban", "CH:living_street"),
    "DE": CountryDefaults("DE:motorway", "100", "DE:urban", "DE:living_street"),
    "DK": CountryDefaults("DK:motorway", "80", "DK:urban", "20"),
    "ES": CountryDefaults("ES:motorway", "ES:trunk", "ES:urban", "ES:living_street"),
    "FI": CountryDefaults("FI:motorway", "FI:trunk", "FI:urban", "FI:living_street"),
    "FR": CountryDefaults("FR:motorway", "FR:trunk", "FR:urban", "FR:living_street"),
    "GB": CountryDefaults("GB:motorway", "GB:nsl_dual", "GB:nsl_restricted", "20 mph"),
    "IT": CountryDefaults("IT:motorway", "IT:trunk", "IT:urban", "20"),
    "MC": CountryDefaults("FR:motorway", "FR:trunk", "MC:urban", "20"),
    "NL": CountryDefaults("NL:motorway", "NL:trunk", "NL:urban", "NL:living_street"),
    "PT": CountryDefaults("PT:motorway", "PT:trunk", "PT:urban", "20"),
    "RU": CountryDefaults("RU:motorway", "90", "RU:urban", "RU:living_street"),
}
_URBAN_CLASSES = frozenset(
    {"primary", "primary_link", "secondary", "secondary_link", "tertiary", "tertiary_link",
     "unclassified", "residential"}
)  # fmt: skip

SCHOOL_SAMPLE_M = FEATURE_SAMPLE_M
SCHOOL_STREET_CLASSES = ("residential", "living_street")
# amenity values kept as map features (features.geojson) for restrict_area "near" rules.
FEATURE_AMENITIES = ("school", "kindergarten", "college", "university", "hospital")

ODBL_LICENSE = {
    "name": "ODbL-1.0",
    "title": "Open Database License 1.0",
    "path": "https://opendatacommons.org/licenses/odbl/1-0/",
}
OSM_SOURCE = {
    "title": "© OpenStreetMap contributors",
    "path": "https://www.openstreetmap.org/copyright",
}


# --- tag rules --------------------------------------------------------------------------


def skip_reason(tags) -> str | None:
    """Why a way is not part of the car network, or None when it is."""
    highway = tags.get("highway")
    if highway in NOT_BUILT:
        return highway
    if highway not in ROAD_CLASSES:
        return "not_a_car_road"
    if highway == "service" and tags.get("service") in EXCLUDED_SERVICE:
        return "minor_service"
    if tags.get("area") == "yes":
        return "area"
    if not car_allowed(tags):
        return "no_car_access"
    if oneway_value(tags) in REVERSIBLE_ONEWAY:
        return "reversible"
    return None


def _first_value(value: str) -> str:
    return value.split(";")[0].strip().lower()


def car_allowed(tags) -> bool:
    """The most specific access key present decides; no key means allowed."""
    for key in ACCESS_KEYS:
        value = tags.get(key)
        if value is not None:
            return _first_value(value) not in CLOSED_ACCESS
    return True


def oneway_value(tags) -> str | None:
    """The value of the most specific oneway key present (lower case), or None."""
    for key in ONEWAY_KEYS:
        value = tags.get(key)
        if value is not None:
            return _first_value(value)
    return None


def directions(tags) -> tuple[bool, bool]:
    """(forward, backward) travel allowed along the way's node order."""
    value = oneway_value(tags)
    if value in ONEWAY_VALUES:
        return ONEWAY_VALUES[value]
    if any(tags.get(key) == implied for key, implied in IMPLIED_ONEWAY):
        return True, False
    return True, True


_NUMBER = re.compile(r"^(\d+(?:[.,]\d+)?)\s*(mph|km/h|kmh|kph|knots)?$", re.IGNORECASE)
_ZONE = re.compile(r"^([A-Z]{2})(?:-[A-Z0-9]{1,3})?:(?:zone:?)?(\d+)$", re.IGNORECASE)
_UNITS = {None: 1.0, "mph": MPH_KMH, "knots": KNOT_KMH}


def parse_speed(value: str | None, road_class: str = "residential", lanes: int = 1) -> float | None:
    """km/h from one maxspeed-syntax value, or None when it gives no speed.

    A number (km/h), "N mph", "N knots", "walk", "none", a zone code ("ES:urban",
    "DE:zone30", "DE:30", ...; see ZONE_SPEEDS). A list ("90;30") gives its lowest speed: the
    strictest limit along the way binds. ``road_class`` and ``lanes`` (in the direction of
    travel) matter only to limits that depend on them (ES:urban).
    """
    if not value:
        return None
    speeds = [_one_speed(part.strip(), road_class, lanes) for part in value.split(";")]
    speeds = [s for s in speeds if s is not None and s > 0]
    return min(speeds) if speeds else None


def _one_speed(value: str, road_class: str, lanes: int) -> float | None:
    match = _NUMBER.match(value)
    if match:
        unit = match.group(2).lower() if match.group(2) else None
        return float(match.group(1).replace(",", ".")) * _UNITS.get(unit, 1.0)
    lowered = value.lower()
    if lowered == "walk":
        return WALK_KMH
    if lowered == "none":
        return NO_LIMIT_KMH
    code = value.split(":", 1)
    if len(code) == 2:
        rule = ZONE_SPEEDS.get(f"{code[0].upper()}:{code[1].lower()}")
        if isinstance(rule, ByLanes):
            if road_class == "living_street":
                return rule.single_platform
            return rule.one_lane if lanes <= 1 else rule.more_lanes
        if rule is not None:
            return _one_speed(rule, road_class, lanes)
    zone = _ZONE.match(value)
    if zone:
        unit = MPH_KMH if zone.group(1).upper() in MPH_COUNTRIES else 1.0
        return float(zone.group(2)) * unit
    return None  # signals, variable, unknown codes...


def parse_lanes(value: str | None) -> int | None:
    """Whole lanes from a lanes value; "2;3" → 2 (the narrowest part limits capacity)."""
    if not value:
        return None
    numbers = []
    for part in value.split(";"):
        try:
            numbers.append(int(float(part)))
        except ValueError:
            continue
    positive = [n for n in numbers if n > 0]
    return min(positive) if positive else None


def lanes_per_direction(tags, forward: bool, oneway: bool) -> int:
    """Lanes in one direction of travel (``forward`` along the node order).

    ``lanes:forward`` / ``lanes:backward`` for that direction; else ``lanes``: all of it on
    a one-way road; on a two-way road what the other direction's tag and ``lanes:both_ways``
    (a shared centre lane) leave, or else half of ``lanes`` minus ``lanes:both_ways``, rounded
    down, at least 1; else the class default.
    """
    own, other = ("lanes:forward", "lanes:backward")[:: 1 if forward else -1]
    directed = parse_lanes(tags.get(own))
    if directed is not None:
        return directed
    total = parse_lanes(tags.get("lanes"))
    if total is None:
        return ROAD_CLASSES[tags["highway"]].lanes
    if oneway:
        return total
    total -= parse_lanes(tags.get("lanes:both_ways")) or 0
    opposite = parse_lanes(tags.get(other))
    if opposite is not None and total - opposite >= 1:
        return total - opposite
    return max(1, total // 2)


def speed_kmh(tags, forward: bool, *, lanes: int = 1, country: str | None = None) -> float:
    """Free-flow speed of one direction (see :func:`speed_source` for the order)."""
    return speed_source(tags, forward, lanes=lanes, country=country)[0]


def speed_source(
    tags, forward: bool, *, lanes: int = 1, country: str | None = None
) -> tuple[float, str]:
    """(km/h, where it came from) for one direction of travel.

    In order: ``maxspeed:forward`` / ``maxspeed:backward`` of the direction; ``maxspeed``;
    the first code of IMPLICIT_SPEED_KEYS that ZONE_SPEEDS knows; the ``country``'s default
    for the class (COUNTRY_DEFAULTS); the generic class default (ROAD_CLASSES). Each value is
    read by :func:`parse_speed`; one that gives no speed passes to the next source.
    """
    road_class = tags["highway"]
    for key in ("maxspeed:forward" if forward else "maxspeed:backward", "maxspeed"):
        speed = parse_speed(tags.get(key), road_class, lanes)
        if speed is not None:
            return speed, key
    for key in IMPLICIT_SPEED_KEYS:
        value = tags.get(key)
        if value and ":" in value:  # a code; "sign", "signal", "markings" say nothing
            speed = parse_speed(value, road_class, lanes)
            if speed is not None:
                return speed, "implicit"
    default = country_default(country, road_class)
    if default is not None:
        return parse_speed(default, road_class, lanes), "country_default"
    return ROAD_CLASSES[road_class].speed_kmh, "class_default"


def check_country(country: str | None) -> str | None:
    """The upper-case country code, None for the generic table; ValueError when unknown."""
    if country is None:
        return None
    code = country.strip().upper()
    if code not in COUNTRY_DEFAULTS:
        known = ", ".join(COUNTRY_DEFAULTS)
        raise ValueError(f"no speed defaults for country {country!r}; known: {known}")
    return code


def country_default(country: str | None, road_class: str) -> str | None:
    """The country's default speed for a road class (maxspeed syntax), or None."""
    if country is None:
        return None
    defaults = COUNTRY_DEFAULTS[check_country(country)]
    if road_class in ("motorway", "trunk", "living_street"):
        return getattr(defaults, road_class)
    return defaults.urban if road_class in _URBAN_CLASSES else None


# --- buildings and points of interest (trip generation) -------------------------------------

# building=* values whose floor area produces trips (homes). The list; "yes" is the
# commonest tag and in a city mostly a block of flats.
RESIDENTIAL_BUILDINGS = frozenset(
    {"residential", "apartments", "house", "detached", "terrace", "semidetached_house", "yes"}
)
# building=* values with no trip-making activity of their own.
NO_ACTIVITY_BUILDINGS = frozenset(
    {"garage", "garages", "shed", "roof", "carport", "hut", "ruins", "construction",
     "greenhouse", "bunker", "transformer_tower", "water_tower", "no"}
)  # fmt: skip
# amenity values that are street furniture or parking, not destinations.
NON_POI_AMENITIES = frozenset(
    {"bench", "waste_basket", "waste_disposal", "recycling", "parking", "parking_space",
     "parking_entrance", "bicycle_parking", "motorcycle_parking", "vending_machine",
     "post_box", "telephone", "drinking_water", "toilets", "shelter", "fountain", "clock",
     "atm", "charging_station", "grit_bin", "bicycle_rental", "taxi", "bbq", "water_point"}
)  # fmt: skip
# POI weights in m² of floor-area equivalent (a rough size of the activity behind one POI):
# key -> value -> weight, "*" for any other value of the key. The largest key weight wins.
POI_WEIGHTS_M2: dict[str, dict[str, float]] = {
    "amenity": {
        "university": 3000.0,
        "college": 2000.0,
        "hospital": 3000.0,
        "school": 1500.0,
        "kindergarten": 300.0,
        "*": 100.0,
    },
    "shop": {"supermarket": 800.0, "mall": 3000.0, "department_store": 2000.0, "*": 100.0},
    "office": {"*": 300.0},
}


def poi_weight(tags) -> float:
    """The POI weight (m² floor-area equivalent) of an object's tags; 0 when not a POI."""
    weight = 0.0
    for key, table in POI_WEIGHTS_M2.items():
        value = tags.get(key)
        if value is None or value == "no" or (key == "amenity" and value in NON_POI_AMENITIES):
            continue
        weight = max(weight, table.get(value, table["*"]))
    return weight


def building_levels(value: str | None) -> float:
    """``building:levels`` as a multiplier: a plain positive number, else 1."""
    try:
        levels = float(value) if value is not None else 1.0
    except ValueError:
        return 1.0
    return levels if 0 < levels < 200 else 1.0


def footprint(rings: list[list[tuple[float, float]]], holes=()) -> tuple[float, float, float]:
    """(lon, lat, m²) of a polygon: the mean of its outer vertices and its shoelace area."""
    points = [p for ring in rings for p in ring[:-1]] or [p for ring in rings for p in ring]
    lon = float(np.mean([p[0] for p in points]))
    lat = float(np.mean([p[1] for p in points]))
    proj = LocalProjection(lat)

    def area(ring) -> float:
        if len(ring) < 4:
            return 0.0
        xy = proj.xy([p[0] for p in ring], [p[1] for p in ring])
        x, y = xy[:, 0], xy[:, 1]
        return abs(float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))) / 2.0

    m2 = sum(area(r) for r in rings) - sum(area(r) for r in holes)
    return lon, lat, max(m2, 0.0)


# --- reading ----------------------------------------------------------------------------


@dataclass
class RawWay:
    """A highway way copied out of pyosmium (its objects die with the callback)."""

    id: int
    tags: dict[str, str]
    refs: list[int]
    coords: list[tuple[float, float] | None]  # None where the node has no location


@dataclass
class School:
    """A map feature (a school, or another amenity of FEATURE_AMENITIES)."""

    osm_type: str  # "node", "way" or "relation"
    osm_id: int
    name: str
    outline: list[list[tuple[float, float]]]  # rings (or one point) of (lon, lat)
    tags: dict[str, str] = field(default_factory=lambda: {"amenity": "school"})
    area: bool = False  # the outline's rings are complete closed rings (a polygon)

    @property
    def is_school(self) -> bool:
        return self.tags.get("amenity") == "school"


@dataclass
class OsmData:
    ways: list[RawWay]
    features: list[School]
    # (lon, lat, residential m², other m²) per building; (lon, lat, weight m²) per POI
    buildings: list[tuple[float, float, float, float]] = field(default_factory=list)
    pois: list[tuple[float, float, float]] = field(default_factory=list)

    def land_use(self) -> LandUse:
        b = np.asarray(self.buildings, dtype=float).reshape(-1, 4)
        p = np.asarray(self.pois, dtype=float).reshape(-1, 3)
        return LandUse(b[:, 0], b[:, 1], b[:, 2], b[:, 3], p[:, 0], p[:, 1], p[:, 2])

    @property
    def schools(self) -> list[School]:
        return [f for f in self.features if f.is_school]


def scan_osm(path: str | Path) -> OsmData:
    """Highway ways (with node locations) and amenity=school features of an OSM file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"OSM file not found: {path}")
    # Areas are wanted for feature multipolygons and for buildings and POI areas; closed
    # feature ways are read as ways so that a clipped outline still counts.
    processor = (
        osmium.FileProcessor(str(path))
        .with_areas(osmium.filter.KeyFilter("amenity", "building", "shop", "office"))
        .with_filter(osmium.filter.KeyFilter("highway", "amenity", "building", "shop", "office"))
    )
    data = OsmData([], [])
    for obj in processor:
        _collect(obj, data)
    data.ways.sort(key=lambda w: w.id)
    return data


def _collect(obj, data: OsmData) -> None:
    is_feature = obj.tags.get("amenity") in FEATURE_AMENITIES
    if obj.is_area():
        _add_land_use(obj, data)
    elif obj.is_node() and obj.location.valid():
        weight = poi_weight(obj.tags)
        if weight > 0:
            data.pois.append((obj.location.lon, obj.location.lat, weight))
    if obj.is_way():
        coords = [_location(n) for n in obj.nodes]
        if "highway" in obj.tags:
            data.ways.append(RawWay(obj.id, dict(obj.tags), [n.ref for n in obj.nodes], coords))
        if is_feature:
            located = [c for c in coords if c is not None]
            area = len(located) == len(coords) >= 4 and located[0] == located[-1]
            _add_school(data, "way", obj, [located], area=area)
    elif obj.is_node() and is_feature and obj.location.valid():
        _add_school(data, "node", obj, [[(obj.location.lon, obj.location.lat)]])
    elif obj.is_area() and is_feature and not obj.from_way():
        rings = [[c for c in map(_location, ring) if c] for ring in obj.outer_rings()]
        closed = all(len(r) >= 4 and r[0] == r[-1] for r in rings if r)
        _add_school(data, "relation", obj, rings, osm_id=obj.orig_id(), area=closed)


def _add_land_use(area, data: OsmData) -> None:
    """A building's floor area and a POI area's weight, each as a point."""
    building = area.tags.get("building")
    weight = poi_weight(area.tags)
    if building is None and weight == 0:
        return
    outers, holes = [], []
    for outer in area.outer_rings():
        outers.append([c for c in map(_location, outer) if c])
        holes.extend([c for c in map(_location, inner) if c] for inner in area.inner_rings(outer))
    outers = [r for r in outers if r]
    if not outers:
        return
    lon, lat, m2 = footprint(outers, holes)
    if weight > 0:
        data.pois.append((lon, lat, weight))
    if building is None or building in NO_ACTIVITY_BUILDINGS or m2 <= 0:
        return
    floor = m2 * building_levels(area.tags.get("building:levels"))
    residential = building in RESIDENTIAL_BUILDINGS
    data.buildings.append((lon, lat, floor if residential else 0.0, 0.0 if residential else floor))


def _location(node_ref) -> tuple[float, float] | None:
    loc = node_ref.location
    return (loc.lon, loc.lat) if loc.valid() else None


def _add_school(data: OsmData, osm_type, obj, rings, osm_id=None, area=False) -> None:
    rings = [r for r in rings if r]
    if rings:
        name = obj.tags.get("name", "")
        tags = dict(obj.tags)
        data.features.append(School(osm_type, osm_id or obj.id, name, rings, tags, area))


# --- building the network ---------------------------------------------------------------


@dataclass
class _Part:
    """A contiguous run of located nodes of one way."""

    way: RawWay
    refs: list[int]
    coords: list[tuple[float, float]]


@dataclass
class ImportReport:
    """Counts of what the import kept and dropped (goes into the package meta)."""

    highway_ways_read: int = 0
    ways_used: int = 0
    ways_skipped: dict[str, int] = field(default_factory=dict)
    clipped_ways: int = 0
    missing_node_refs: int = 0
    dropped_clipped_segments: int = 0
    parallel_links_split: int = 0
    duplicate_segments_dropped: int = 0
    scc_components: int = 0
    scc_removed_nodes: int = 0
    scc_removed_links: int = 0
    nodes: int = 0
    links: int = 0
    schools: int = 0
    map_features: int = 0  # amenity features of FEATURE_AMENITIES, schools included
    buildings: int = 0  # buildings with floor area (trip generation)
    residential_floor_m2: float = 0.0
    other_floor_m2: float = 0.0  # non-residential floor area
    pois: int = 0
    poi_weight_m2: float = 0.0
    country: str | None = None  # the speed-default table used (None: generic)
    speed_sources: dict[str, int] = field(default_factory=dict)  # directed links, before SCC

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class OsmNetwork:
    """The road network of an extract, its schools, the import report and its map features."""

    network: Network
    schools: list[School]
    report: ImportReport
    features: list[School] = field(default_factory=list)  # FEATURE_AMENITIES, schools included
    land_use: LandUse = field(default_factory=LandUse.empty)  # buildings and POIs as points


def read_osm(
    path: str | Path, *, strongly_connected: bool = True, country: str | None = None
) -> OsmNetwork:
    """Read an OSM extract into a directed car network (no zones yet).

    With ``strongly_connected`` (the default) only the largest strongly connected component
    is kept; without it every link the tag rules allow is kept (for inspection and tests).
    ``country`` (an ISO code of COUNTRY_DEFAULTS, e.g. "ES") picks the speed defaults for
    roads whose tags give no speed; None (the default) uses the generic ROAD_CLASSES table.
    Nothing is detected automatically.
    """
    country = check_country(country)
    data = scan_osm(path)
    report = ImportReport(
        highway_ways_read=len(data.ways),
        schools=len(data.schools),
        map_features=len(data.features),
        country=country,
    )
    land_use = data.land_use()
    report.buildings, report.pois = land_use.n_buildings, land_use.n_pois
    report.residential_floor_m2 = round(float(land_use.residential_m2.sum()), 1)
    report.other_floor_m2 = round(float(land_use.other_m2.sum()), 1)
    report.poi_weight_m2 = round(float(land_use.poi_weight_m2.sum()), 1)
    ways = _car_ways(data.ways, report)
    parts = _located_parts(ways, report)
    segments = _unique_segments(_split_at_junctions(parts), report)
    rows = _directed_rows(segments, country, report)
    network = _to_network(rows)
    if strongly_connected:
        network = _largest_scc(network, report)
    report.nodes, report.links = network.n_nodes, network.n_links
    return OsmNetwork(network, data.schools, report, data.features, land_use)


def _car_ways(ways: list[RawWay], report: ImportReport) -> list[RawWay]:
    skipped: Counter[str] = Counter()
    kept = []
    for way in ways:
        reason = skip_reason(way.tags)
        if reason:
            skipped[reason] += 1
        else:
            kept.append(way)
    report.ways_used, report.ways_skipped = len(kept), dict(sorted(skipped.items()))
    return kept


def _located_parts(ways: list[RawWay], report: ImportReport) -> list[_Part]:
    """Cut each way at unlocated nodes; keep runs of >= 2 located nodes."""
    parts = []
    for way in ways:
        missing = sum(c is None for c in way.coords)
        if missing:
            report.clipped_ways += 1
            report.missing_node_refs += missing
            report.dropped_clipped_segments += sum(
                a is None or b is None for a, b in zip(way.coords, way.coords[1:], strict=False)
            )
        parts.extend(_runs(way))
    return parts


def _runs(way: RawWay) -> list[_Part]:
    runs, refs, coords = [], [], []
    for ref, coord in zip([*way.refs, None], [*way.coords, None], strict=True):
        if coord is not None:
            refs.append(ref)
            coords.append(coord)
            continue
        if len(refs) >= 2:
            runs.append(_Part(way, refs, coords))
        refs, coords = [], []
    return runs


def _split_at_junctions(parts: list[_Part]) -> list[_Part]:
    """Split parts at nodes used more than once and at part ends."""
    uses: Counter[int] = Counter()
    for part in parts:
        uses.update(part.refs)
        uses.update((part.refs[0], part.refs[-1]))  # ends always split
    segments = []
    for part in parts:
        start = 0
        for i in range(1, len(part.refs)):
            if uses[part.refs[i]] > 1 or i == len(part.refs) - 1:
                segments.append(
                    _Part(part.way, part.refs[start : i + 1], part.coords[start : i + 1])
                )
                start = i
    return segments


def _unique_segments(segments: list[_Part], report: ImportReport) -> list[_Part]:
    """No two segments join the same node pair; no segment starts and ends at one node."""
    used: set[tuple[int, int]] = set()
    out: list[_Part] = []
    pending = list(reversed(segments))
    while pending:
        seg = pending.pop()
        a, b = seg.refs[0], seg.refs[-1]
        key = (min(a, b), max(a, b))
        if a != b and key not in used:
            used.add(key)
            out.append(seg)
        elif len(seg.refs) > 2:
            report.parallel_links_split += 1
            mid = len(seg.refs) // 2
            # Push the second half first so the first half is handled next (keeps order).
            pending.append(_Part(seg.way, seg.refs[mid:], seg.coords[mid:]))
            pending.append(_Part(seg.way, seg.refs[: mid + 1], seg.coords[: mid + 1]))
        else:
            report.duplicate_segments_dropped += 1
    return out


def _directed_rows(
    segments: list[_Part], country: str | None, report: ImportReport
) -> dict[str, list]:
    """One row per directed link, forward before backward."""
    rows: dict[str, list] = {k: [] for k in _ROW_KEYS}
    sources: Counter[str] = Counter()
    for seg in segments:
        tags = seg.way.tags
        forward, backward = directions(tags)
        length = polyline_length_km(seg.coords)
        for direction, wanted, oneway in (
            (True, forward, not backward),
            (False, backward, not forward),
        ):
            if wanted:
                sources[_add_row(rows, seg, length, direction, oneway=oneway, country=country)] += 1
    report.speed_sources = dict(sorted(sources.items()))
    return rows


_ROW_KEYS = (
    "from",
    "to",
    "length",
    "speed",
    "lanes",
    "capacity",
    "name",
    "road_class",
    "way",
    "geometry",
    "xy",
)


def _add_row(
    rows, seg: _Part, length: float, forward: bool, *, oneway: bool, country: str | None
) -> str:
    """Append one directed link; returns where its speed came from."""
    tags = seg.way.tags
    lanes = lanes_per_direction(tags, forward, oneway)
    speed, source = speed_source(tags, forward, lanes=lanes, country=country)
    refs = seg.refs if forward else seg.refs[::-1]
    coords = seg.coords if forward else seg.coords[::-1]
    rows["from"].append(refs[0])
    rows["to"].append(refs[-1])
    rows["length"].append(length)
    rows["speed"].append(speed)
    rows["lanes"].append(lanes)
    rows["capacity"].append(lanes * ROAD_CLASSES[tags["highway"]].lane_capacity)
    rows["name"].append(tags.get("name", ""))
    rows["road_class"].append(tags["highway"])
    rows["way"].append(seg.way.id)
    rows["geometry"].append(list(coords))
    rows["xy"].append((coords[0], coords[-1]))
    return source


def _to_network(rows: dict[str, list]) -> Network:
    ends = np.array(rows["from"] + rows["to"], dtype=np.int64)
    node_ids, inverse = np.unique(ends, return_inverse=True)
    n_links = len(rows["from"])
    node_x, node_y = np.zeros(len(node_ids)), np.zeros(len(node_ids))
    end_xy = np.array([xy[0] for xy in rows["xy"]] + [xy[1] for xy in rows["xy"]]).reshape(-1, 2)
    node_x[inverse], node_y[inverse] = end_xy[:, 0], end_xy[:, 1]
    length = np.array(rows["length"], dtype=float)
    speed = np.array(rows["speed"], dtype=float)
    return Network(
        node_ids=node_ids,
        from_idx=inverse[:n_links].astype(np.int64),
        to_idx=inverse[n_links:].astype(np.int64),
        capacity=np.array(rows["capacity"], dtype=float),
        free_flow_time=length / speed * 60.0,
        alpha=np.full(n_links, BPR_ALPHA),
        beta=np.full(n_links, BPR_BETA),
        link_ids=np.arange(1, n_links + 1, dtype=np.int64),
        zone_ids=np.zeros(0, dtype=np.int64),
        block_centroid_flows=True,
        length_km=length,
        length_source=length.copy(),
        node_x=node_x,
        node_y=node_y,
        link_attrs={
            "name": rows["name"],
            "road_class": rows["road_class"],
            "osm_way_id": rows["way"],
            "lanes": rows["lanes"],
            "geometry": rows["geometry"],
        },
    )


def _largest_scc(network: Network, report: ImportReport) -> Network:
    """Keep the largest strongly connected component; renumber links 1..L."""
    n = network.n_nodes
    if n == 0:
        raise NetworkError("the extract has no car roads")
    graph = coo_matrix((np.ones(network.n_links), (network.from_idx, network.to_idx)), shape=(n, n))
    n_components, labels = connected_components(graph, directed=True, connection="strong")
    report.scc_components = int(n_components)
    keep_node = labels == np.bincount(labels).argmax()
    keep_link = keep_node[network.from_idx] & keep_node[network.to_idx]
    report.scc_removed_nodes = int(n - keep_node.sum())
    report.scc_removed_links = int(network.n_links - keep_link.sum())
    return subnetwork(network, keep_node, keep_link)


def subnetwork(network: Network, keep_node: np.ndarray, keep_link: np.ndarray) -> Network:
    """The kept nodes and links (links must only join kept nodes); link ids become 1..L."""
    new_index = np.cumsum(keep_node) - 1
    n_links = int(keep_link.sum())
    picked = np.flatnonzero(keep_link)
    return network.with_changes(
        node_ids=network.node_ids[keep_node],
        node_x=network.node_x[keep_node],
        node_y=network.node_y[keep_node],
        from_idx=new_index[network.from_idx[keep_link]],
        to_idx=new_index[network.to_idx[keep_link]],
        capacity=network.capacity[keep_link],
        free_flow_time=network.free_flow_time[keep_link],
        alpha=network.alpha[keep_link],
        beta=network.beta[keep_link],
        link_ids=np.arange(1, n_links + 1, dtype=np.int64),
        length_km=network.length_km[keep_link],
        length_source=network.length_source[keep_link],
        toll=network.toll[keep_link],
        closed=network.closed[keep_link],
        link_attrs={k: [v[i] for i in picked] for k, v in network.link_attrs.items()},
    )


# --- school streets ---------------------------------------------------------------------


def school_street_links(
    network: Network,
    schools: list[School],
    *,
    radius_m: float = 200.0,
    road_classes=SCHOOL_STREET_CLASSES,
) -> np.ndarray:
    """Ids of the links of ``road_classes`` whose geometry comes within ``radius_m`` of a school
    (or lies inside one): what the school-streets intervention resolves to on ``network``."""
    intervention = school_streets_intervention(radius_m=radius_m, road_classes=road_classes)
    features = parse_features(features_geojson([s for s in schools if s.is_school]))
    _, resolved = apply_interventions_report(network, [intervention], features=features)
    return network.link_ids[resolved[0].link_positions]


def features_geojson(features: list[School]) -> dict:
    """The map features as a GeoJSON FeatureCollection (WGS84), tags as properties."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": f"{f.osm_type}/{f.osm_id}",
                "geometry": _feature_geometry(f),
                "properties": dict(f.tags),
            }
            for f in features
        ],
    }


def _feature_geometry(feature: School) -> dict:
    rings = [[[float(x), float(y)] for x, y in ring] for ring in feature.outline]
    if feature.osm_type == "node":
        return {"type": "Point", "coordinates": rings[0][0]}
    if feature.area:
        if len(rings) == 1 and feature.osm_type == "way":
            return {"type": "Polygon", "coordinates": rings}
        return {"type": "MultiPolygon", "coordinates": [[ring] for ring in rings]}
    lines = [ring for ring in rings if len(ring) >= 2]
    points = [ring[0] for ring in rings if len(ring) == 1]
    if len(lines) == 1 and not points:
        return {"type": "LineString", "coordinates": lines[0]}
    if lines and not points:
        return {"type": "MultiLineString", "coordinates": lines}
    return {"type": "MultiPoint", "coordinates": [p for ring in rings for p in ring]}


def school_streets_intervention(
    *, radius_m: float = 200.0, road_classes=SCHOOL_STREET_CLASSES
) -> dict:
    """The portable v1 intervention of the school-streets template: ``restrict_area`` near
    ``amenity=school``, resolved against the schools of whatever network it is applied to."""
    # "residential and living streets" from ("residential", "living_street")
    streets = " and ".join(c.removesuffix("_street").replace("_", " ") for c in road_classes)
    return {
        "type": "restrict_area",
        "near": {"amenity": "school"},
        "radius_m": float(radius_m),
        "road_classes": list(road_classes),
        "action": "close",
        "label": f"School streets: {streets} streets within {radius_m:g} m of a school",
    }


def school_streets_template(radius_m: float, road_classes=SCHOOL_STREET_CLASSES) -> dict:
    """The template record kept in the package, so it can be re-targeted to another city."""
    return {
        "name": "school-streets",
        "version": "1",
        "description": (
            "Close the streets of the given road classes whose geometry comes within "
            "radius_m metres of an OpenStreetMap amenity=school (node or outline)."
        ),
        "parameters": {"radius_m": float(radius_m), "road_classes": list(road_classes)},
    }


# --- the package ------------------------------------------------------------------------

TEMPLATES = ("school-streets",)


def import_osm_package(
    path: str | Path,
    output: str | Path,
    *,
    template: str | None = None,
    radius_m: float = 200.0,
    zone_size_m: float = 500.0,
    trips: float | None = None,
    seed: int = 42,
    country: str | None = None,
    demand_csv: str | Path | None = None,
    zones_csv: str | Path | None = None,
) -> str:
    """Build a scenario package from an OSM extract; returns the package sha256.

    Network, grid zones and demand, plus the template's interventions. The demand is
    the OD matrix in ``demand_csv`` when given (a spreadsheet export, read by
    :func:`twins.engine.odcsv.read_spreadsheet_od`): its zones are the grid zones' ids,
    or the city's own zones listed in ``zones_csv`` (label, lat, lon), each mapped to
    the nearest grid zone. Otherwise it is the synthetic gravity demand (``trips`` per
    peak hour; by default sized by :func:`twins.engine.demand.default_trips`).
    """
    if template is not None and template not in TEMPLATES:
        raise ValueError(f"unknown template {template!r}; known: {', '.join(TEMPLATES)}")
    if zones_csv is not None and demand_csv is None:
        raise ValueError("zones_csv needs demand_csv: the zones name the matrix's rows")
    osm = read_osm(path, country=country)
    network, zones = add_grid_zones(osm.network, zone_size_m=zone_size_m, land_use=osm.land_use)
    demand_report = None
    if demand_csv is None:
        demand = gravity_demand(network, zones, trips=trips, seed=seed)
    else:
        demand, demand_report = observed_demand(demand_csv, zones_csv, zones, network)
    interventions, template_meta = [], None
    if template == "school-streets":
        interventions = [school_streets_intervention(radius_m=radius_m)]
        template_meta = school_streets_template(radius_m)
    features = features_geojson(osm.features)
    # The interventions stay portable; the count of links they close here goes in the report.
    _, resolved = apply_interventions_report(
        network, interventions, features=parse_features(features)
    )
    closed = sum(r.links for r in resolved)
    meta = package_meta(Path(path), osm, zones.n_zones, demand.total, closed, template_meta)
    if demand_csv is None:
        meta["import_report"]["productions_from"] = zones.production_basis
        meta["import_report"]["attractions_from"] = zones.attraction_basis
    if demand_report is not None:
        meta["import_report"]["demand"] = demand_report
        meta["description"] = meta["description"].replace(
            "with synthetic gravity demand", f"with the OD matrix {Path(demand_csv).name}"
        )
    return build_package(
        output,
        network=network,
        demand=demand,
        interventions=interventions,
        meta=meta,
        features=features,
    )


def observed_demand(demand_csv, zones_csv, zones, network) -> tuple[Demand, dict]:
    """An office's OD matrix on the grid zones, and how it was read.

    A ``.tntp`` file is read as TNTP trips, its zone k being the k-th grid zone in id order;
    anything else as a spreadsheet export.
    """
    from .odcsv import nearest_zone_labels, read_spreadsheet_od, read_spreadsheet_zones
    from .tntp import read_demand

    if Path(demand_csv).suffix.lower() == ".tntp":
        if zones_csv is not None:
            raise ValueError("zones_csv applies to spreadsheet matrices, not TNTP trips")
        numbered = network.with_changes(zone_ids=np.arange(1, zones.n_zones + 1, dtype=np.int64))
        demand = read_demand(demand_csv, numbered)
        demand.zone_ids = np.asarray(zones.zone_ids, dtype=np.int64)
        demand.description = f"Observed OD matrix from {Path(demand_csv).name} (TNTP)"
        return demand, {"source": Path(demand_csv).name, "format": "tntp"}

    labels = None
    if zones_csv is not None:
        city_zones = read_spreadsheet_zones(zones_csv)
        labels = nearest_zone_labels(city_zones, zones.zone_ids, zones.lon, zones.lat)
    od = read_spreadsheet_od(
        demand_csv,
        zone_ids=zones.zone_ids,
        labels=labels,
        description=f"Observed OD matrix from {Path(demand_csv).name}",
    )
    # The package's import report holds numbers and strings only.
    report = {
        key: "; ".join(map(str, value)) if isinstance(value, list | tuple) else value
        for key, value in od.report.as_dict().items()
        if value is not None
    }
    return od.demand, report


def package_meta(
    path: Path, osm: OsmNetwork, n_zones: int, trips: float, closed: int, template
) -> dict:
    """Descriptor fields for an OSM-derived package: names, ODbL licence, attribution, report.

    ``closed`` is the number of links the interventions resolve to on this network.
    """
    stem = path.name.split(".")[0]
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "osm"
    report = osm.report.as_dict() | {
        "zones": n_zones,
        "trips": round(trips, 6),  # the matrix sum, without float dust
        "closed_links": closed,
    }
    suffix = f"-{template['name']}" if template else ""
    title = f"{stem}: " + ("school streets" if template else "baseline") + " (OpenStreetMap import)"
    meta = {
        "name": f"{slug}-osm{suffix}",
        "title": title,
        "description": (
            f"Car network imported from the OpenStreetMap extract {path.name} "
            f"({report['nodes']} nodes, {report['links']} links, {n_zones} zones) with synthetic "
            f"gravity demand. Map data © OpenStreetMap contributors, ODbL 1.0."
        ),
        "licenses": [ODBL_LICENSE],
        "sources": [OSM_SOURCE],
        "import_report": report,
    }
    if template:
        meta["template"] = template
    return meta
