"""OpenStreetMap import: tag rules, topology, zones, synthetic demand, school streets.

Unit tests read the hand-made fixtures in tests/engine/fixtures/ (tag_rules.osm: one short
way per tag case; town.osm: a 3 x 3 street grid with two schools, a clipped way, a one-way
stub and a parallel service road, drawn in its header). Integration tests import the shared
real extracts (© OpenStreetMap contributors, ODbL) and skip when they are not there.
"""

from __future__ import annotations

import bz2
import gzip
import json
import math
import os
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from twins.engine.demand import (
    CONNECTOR_CLASS,
    CONNECTOR_SPEED_KMH,
    add_grid_zones,
    furness,
    gravity_demand,
    haversine_km,
    polyline_length_km,
)
from twins.engine.interventions import (
    apply_interventions,
    apply_interventions_report,
    parse_features,
)
from twins.engine.network import Network, NetworkError
from twins.engine.osm import (
    COUNTRY_DEFAULTS,
    ROAD_CLASSES,
    ZONE_SPEEDS,
    School,
    check_country,
    directions,
    features_geojson,
    import_osm_package,
    lanes_per_direction,
    parse_lanes,
    parse_speed,
    read_osm,
    school_street_links,
    school_streets_intervention,
    skip_reason,
    speed_source,
)
from twins.engine.package import load_package

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TAG_RULES = FIXTURES / "tag_rules.osm"
TOWN = FIXTURES / "town.osm"
LAND_USE = FIXTURES / "land_use.osm"
SHARED_DATA = Path(
    os.environ.get("RECI_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared/data")
)
OSM_DATA = SHARED_DATA / "osm"
EXTRACTS = {
    "granada": "granada_es/granada_es.osm.gz",
    "monaco": "monaco/monaco.osm.pbf",
    "helsinki": "helsinki_fi/helsinki_fi.osm.pbf",
}


def links_by_name(network: Network, name: str) -> list[tuple[int, int]]:
    """(from node id, to node id) of every link whose name is ``name``."""
    names = network.link_attrs["name"]
    return [
        (int(network.node_ids[network.from_idx[i]]), int(network.node_ids[network.to_idx[i]]))
        for i in range(network.n_links)
        if names[i] == name
    ]


def link_index(network: Network, name: str, from_id: int) -> int:
    names = network.link_attrs["name"]
    for i in range(network.n_links):
        if names[i] == name and network.node_ids[network.from_idx[i]] == from_id:
            return i
    raise AssertionError(f"no link {name!r} from node {from_id}")


def strong_labels(network: Network) -> np.ndarray:
    """Strongly connected component of each node over the open links."""
    open_ = ~network.closed
    n = network.n_nodes
    graph = coo_matrix(
        (np.ones(open_.sum()), (network.from_idx[open_], network.to_idx[open_])), shape=(n, n)
    )
    return connected_components(graph, directed=True, connection="strong")[1]


def is_strongly_connected(network: Network) -> bool:
    return len(set(strong_labels(network).tolist())) == 1


def zones_connected(network: Network) -> bool:
    """Every zone reaches every other zone over the open links."""
    labels = strong_labels(network)
    zones = [network.node_index(z) for z in network.zone_ids]
    return len(set(labels[zones].tolist())) == 1


@pytest.fixture(scope="module")
def tag_network() -> Network:
    # Every tag case is an isolated way, so keep them all (no component pruning).
    return read_osm(TAG_RULES, strongly_connected=False).network


@pytest.fixture(scope="module")
def town():
    return read_osm(TOWN)


# --- tag rules ----------------------------------------------------------------------------
# Unit tables call the rule functions on tag dicts: every value marked "real" occurs in the
# shared extracts (docs/osm-import.md has the inventory); the others are from the OSM wiki.

H = "highway"

SKIP_CASES = [
    # (tags, skip reason or None)
    ({H: "residential"}, None),
    ({H: "unclassified"}, None),  # real: Monaco 63, Helsinki 169
    ({H: "living_street"}, None),
    ({H: "motorway_link"}, None),
    ({H: "service"}, None),  # untagged service roads are kept
    ({H: "service", "service": "alley"}, None),  # real: Monaco 16
    ({H: "service", "service": "parking_aisle"}, "minor_service"),  # real
    ({H: "service", "service": "driveway"}, "minor_service"),  # real
    ({H: "service", "service": "drive-through"}, "minor_service"),  # real
    ({H: "service", "service": "emergency_access"}, "minor_service"),  # real
    ({H: "construction", "construction": "residential"}, "construction"),  # real
    ({H: "proposed", "proposed": "primary"}, "proposed"),  # real: Granada 15
    ({H: "footway"}, "not_a_car_road"),
    ({H: "pedestrian"}, "not_a_car_road"),
    ({H: "track"}, "not_a_car_road"),
    ({H: "road"}, "not_a_car_road"),  # real: Monaco 1; unknown class
    ({H: "raceway"}, "not_a_car_road"),  # real: Monaco 1
    ({H: "bus_stop"}, "not_a_car_road"),  # real: Granada 1
    ({"building": "yes"}, "not_a_car_road"),
    ({H: "residential", "area": "yes"}, "area"),  # real: Monaco 1
    ({H: "service", "area": "yes"}, "area"),  # real: Helsinki 6
    ({H: "residential", "area": "no"}, None),
    # access: the most specific of motorcar, motor_vehicle, vehicle, access decides
    ({H: "residential", "access": "no"}, "no_car_access"),  # real
    ({H: "service", "access": "private"}, "no_car_access"),  # real
    ({H: "residential", "access": "destination"}, None),  # real
    ({H: "service", "access": "permissive"}, None),  # real
    ({H: "residential", "access": "yes"}, None),  # real
    ({H: "service", "access": "service"}, None),  # real: Helsinki 1; unknown value is open
    ({H: "service", "access": "conditional=yes @ (Mo-Fr 08:00-20:00)"}, None),  # real
    ({H: "residential", "access": "agricultural"}, "no_car_access"),
    ({H: "residential", "access": "psv"}, "no_car_access"),
    ({H: "residential", "access": "no;destination"}, "no_car_access"),  # first value
    ({H: "residential", "access": "private", "motor_vehicle": "yes"}, None),
    ({H: "service", "access": "no", "motor_vehicle": "destination"}, None),
    ({H: "living_street", "motor_vehicle": "destination"}, None),  # real: Granada 12
    ({H: "living_street", "motor_vehicle": "private"}, "no_car_access"),  # real: Granada 6
    ({H: "service", "motor_vehicle": "designated"}, None),  # real: Granada 1
    ({H: "service", "motor_vehicle": "no"}, "no_car_access"),  # real
    ({H: "service", "motor_vehicle": "permissive"}, None),  # real: Monaco 3
    ({H: "service", "motorcar": "no"}, "no_car_access"),  # real: Helsinki 23
    ({H: "service", "motorcar": "private"}, "no_car_access"),  # real: Helsinki 1
    ({H: "service", "vehicle": "no"}, "no_car_access"),  # real: Helsinki 26
    ({H: "service", "vehicle": "no", "motorcar": "yes"}, None),
    ({H: "residential", "motor_vehicle": "no", "motorcar": "destination"}, None),
    ({H: "residential", "access": "yes", "motorcar": "no"}, "no_car_access"),
    # reversible / alternating: direction depends on the time of day, left out
    ({H: "primary", "oneway": "reversible"}, "reversible"),
    ({H: "primary", "oneway": "alternating"}, "reversible"),
    ({H: "primary", "oneway:motor_vehicle": "reversible", "oneway": "yes"}, "reversible"),
]


@pytest.mark.parametrize(("tags", "expected"), SKIP_CASES)
def test_skip_reason(tags, expected):
    assert skip_reason(tags) == expected


FWD, BWD, BOTH = (True, False), (False, True), (True, True)
ONEWAY_CASES = [
    # (tags, (forward, backward) along the node order)
    ({H: "residential", "oneway": "yes"}, FWD),  # real
    ({H: "residential", "oneway": "true"}, FWD),
    ({H: "residential", "oneway": "1"}, FWD),
    ({H: "residential", "oneway": "YES"}, FWD),
    ({H: "residential", "oneway": "-1"}, BWD),  # real: Monaco 3
    ({H: "service", "oneway": "-1"}, BWD),  # real: Monaco 1
    ({H: "residential", "oneway": "reverse"}, BWD),
    ({H: "residential", "oneway": "no"}, BOTH),  # real
    ({H: "residential", "oneway": "false"}, BOTH),
    ({H: "residential", "oneway": "0"}, BOTH),
    ({H: "residential"}, BOTH),
    ({H: "residential", "oneway": "unknown"}, BOTH),
    # implied one-way: roundabouts (real: Granada 139, Monaco 48, all without oneway), motorway
    ({H: "tertiary", "junction": "roundabout"}, FWD),
    ({H: "primary", "junction": "roundabout"}, FWD),
    ({H: "tertiary", "junction": "circular"}, FWD),
    ({H: "tertiary", "junction": "roundabout", "oneway": "no"}, BOTH),
    ({H: "tertiary", "junction": "roundabout", "oneway": "-1"}, BWD),
    ({H: "tertiary", "junction": "yes"}, BOTH),
    ({H: "motorway"}, FWD),
    ({H: "motorway", "oneway": "no"}, BOTH),
    ({H: "motorway_link"}, BOTH),  # links as tagged
    ({H: "motorway_link", "oneway": "yes"}, FWD),
    # vehicle-specific oneway keys beat oneway (real: Helsinki oneway:motor_vehicle=yes)
    ({H: "residential", "oneway:motor_vehicle": "yes"}, FWD),
    ({H: "residential", "oneway": "yes", "oneway:motor_vehicle": "no"}, BOTH),
    ({H: "residential", "oneway": "yes", "oneway:vehicle": "-1"}, BWD),
    ({H: "residential", "oneway:vehicle": "yes", "oneway:motorcar": "no"}, BOTH),
    ({H: "residential", "oneway:bicycle": "no", "oneway": "yes"}, FWD),  # real: Helsinki
    ({H: "residential", "oneway": "yes", "oneway:psv": "no"}, FWD),
]


@pytest.mark.parametrize(("tags", "expected"), ONEWAY_CASES)
def test_directions(tags, expected):
    assert directions(tags) == expected


MPH = 1.609344
PARSE_SPEED_CASES = [
    # (value, road class, lanes in the direction, km/h or None)
    ("50", "residential", 1, 50.0),  # real
    ("30", "residential", 1, 30.0),  # real
    ("5", "service", 1, 5.0),  # real: Helsinki 2
    ("110", "motorway", 2, 110.0),  # real: Monaco 29
    ("20 km/h", "residential", 1, 20.0),
    ("20kmh", "residential", 1, 20.0),
    ("30 mph", "residential", 1, 30 * MPH),
    ("30mph", "residential", 1, 30 * MPH),
    ("10 knots", "residential", 1, 18.52),
    ("7.5", "residential", 1, 7.5),
    ("none", "motorway", 2, 130.0),
    ("walk", "living_street", 1, 6.0),
    ("90;30", "primary", 1, 30.0),  # a list: the lowest binds
    ("50;30", "residential", 1, 30.0),
    ("30;none", "primary", 1, 30.0),
    ("signals;50", "primary", 1, 50.0),
    ("ES:urban", "residential", 1, 30.0),  # real (maxspeed:type, source:maxspeed)
    ("ES:urban", "primary", 1, 30.0),  # one lane per direction
    ("ES:urban", "primary", 2, 50.0),  # two or more lanes per direction
    ("ES:urban", "primary", 3, 50.0),
    ("ES:urban", "living_street", 1, 20.0),  # single platform
    ("es:urban", "residential", 1, 30.0),
    ("ES:rural", "primary", 1, 90.0),
    ("ES:motorway", "motorway", 2, 120.0),
    ("ES:zone30", "residential", 1, 30.0),
    ("ES:zone20", "residential", 1, 20.0),
    ("ES:living_street", "residential", 1, 20.0),
    ("DE:urban", "primary", 1, 50.0),
    ("DE:rural", "primary", 1, 100.0),
    ("DE:motorway", "motorway", 2, 130.0),
    ("DE:living_street", "living_street", 1, 6.0),
    ("DE:zone30", "residential", 1, 30.0),
    ("DE:zone:30", "residential", 1, 30.0),
    ("DE:30", "residential", 1, 30.0),  # the zone:maxspeed form
    ("GB:20", "residential", 1, 20 * MPH),
    ("DE:bicycle_road", "residential", 1, 30.0),
    ("FR:urban", "primary", 1, 50.0),
    ("FR:rural", "primary", 1, 80.0),
    ("FR:motorway", "motorway", 2, 130.0),
    ("FR:zone30", "residential", 1, 30.0),
    ("FI:urban", "primary", 1, 50.0),  # real as zone:traffic in Helsinki
    ("FI:rural", "primary", 1, 80.0),
    ("GB:nsl_single", "primary", 1, 60 * MPH),
    ("GB:nsl_dual", "trunk", 2, 70 * MPH),
    ("GB:motorway", "motorway", 2, 70 * MPH),
    ("GB:nsl_restricted", "residential", 1, 30 * MPH),
    ("GB:zone20", "residential", 1, 20 * MPH),
    ("IT:urban", "primary", 1, 50.0),
    ("NL:motorway", "motorway", 2, 100.0),
    ("NL:living_street", "living_street", 1, 6.0),
    ("BE-VLG:rural", "primary", 1, 70.0),
    ("RU:urban", "primary", 1, 60.0),
    ("RU:living_street", "living_street", 1, 20.0),
    ("RU:motorway", "motorway", 2, 110.0),
    ("PT:rural", "primary", 1, 90.0),
    ("CH:rural", "primary", 1, 80.0),
    ("AT:rural", "primary", 1, 100.0),
    ("MC:urban", "primary", 1, 50.0),
    ("XX:urban", "primary", 1, None),  # unknown code
    ("signals", "primary", 1, None),
    ("variable", "primary", 1, None),
    ("sign", "primary", 1, None),  # real maxspeed:type value, not a speed
    ("", "primary", 1, None),
    (None, "primary", 1, None),
    ("0", "primary", 1, None),
    ("fast", "primary", 1, None),
]


@pytest.mark.parametrize(("value", "road_class", "lanes", "expected"), PARSE_SPEED_CASES)
def test_parse_speed(value, road_class, lanes, expected):
    speed = parse_speed(value, road_class, lanes)
    assert speed == (None if expected is None else pytest.approx(expected))


R = {H: "residential"}
SPEED_CASES = [
    # (tags, forward?, lanes in that direction, country, (km/h, source))
    (R | {"maxspeed": "30"}, True, 1, None, (30.0, "maxspeed")),
    (R | {"maxspeed": "30", "source:maxspeed": "ES:urban"}, True, 1, None, (30.0, "maxspeed")),
    ({H: "living_street", "maxspeed": "20", "source:maxspeed": "ES:urban"}, True, 1, None,
     (20.0, "maxspeed")),  # real: Granada 96
    ({H: "trunk", "maxspeed": "30", "source:maxspeed": "signal"}, True, 2, None,
     (30.0, "maxspeed")),  # real: Granada 5
    ({H: "tertiary", "maxspeed": "20", "maxspeed:type": "sign"}, True, 1, None,
     (20.0, "maxspeed")),  # real
    # maxspeed:type / source:maxspeed without maxspeed (real: Granada 21 ways)
    (R | {"maxspeed:type": "ES:urban"}, True, 1, None, (30.0, "implicit")),
    ({H: "primary_link", "maxspeed:type": "ES:urban"}, True, 1, None, (30.0, "implicit")),
    ({H: "primary", "source:maxspeed": "ES:urban"}, True, 2, None, (50.0, "implicit")),
    ({H: "primary", "source:maxspeed": "DE:zone30"}, True, 2, None, (30.0, "implicit")),
    ({H: "primary", "zone:maxspeed": "DE:30"}, True, 2, None, (30.0, "implicit")),
    ({H: "primary", "zone:maxspeed": "FR:30"}, True, 1, "FR", (30.0, "implicit")),
    ({H: "primary", "zone:maxspeed": "FR:zone"}, True, 1, "FR", (50.0, "country_default")),
    ({H: "primary", "zone:maxspeed": "DE:zone30"}, True, 1, None, (30.0, "implicit")),
    ({H: "primary", "zone:traffic": "FI:urban"}, True, 1, None, (50.0, "implicit")),
    ({H: "primary", "zone:traffic": "FI:urban", "maxspeed": "30"}, True, 1, None,
     (30.0, "maxspeed")),  # real: Helsinki
    ({H: "primary", "maxspeed:type": "GB:nsl_single"}, True, 1, None, (60 * MPH, "implicit")),
    ({H: "living_street", "source:maxspeed": "RU:living_street"}, True, 1, None,
     (20.0, "implicit")),
    ({H: "primary", "maxspeed:type": "sign"}, True, 1, None, (50.0, "class_default")),
    ({H: "primary", "maxspeed:type": "XX:urban"}, True, 1, None, (50.0, "class_default")),
    ({H: "primary", "maxspeed:type": "XX:urban", "source:maxspeed": "ES:rural"}, True, 1, None,
     (90.0, "implicit")),
    # maxspeed itself may hold a code, "walk" or "none"
    ({H: "tertiary", "maxspeed": "ES:urban"}, True, 1, None, (30.0, "maxspeed")),
    ({H: "tertiary", "maxspeed": "ES:urban"}, True, 2, None, (50.0, "maxspeed")),
    ({H: "living_street", "maxspeed": "walk"}, True, 1, None, (6.0, "maxspeed")),
    ({H: "motorway", "maxspeed": "none"}, True, 2, None, (130.0, "maxspeed")),
    ({H: "primary", "maxspeed": "signals"}, True, 1, None, (50.0, "class_default")),
    ({H: "primary", "maxspeed": "signals", "source:maxspeed": "FR:urban"}, True, 1, None,
     (50.0, "implicit")),
    ({H: "primary", "maxspeed": "90;30"}, True, 1, None, (30.0, "maxspeed")),
    # per direction (real: Helsinki, maxspeed=30 with maxspeed:forward or :backward=40)
    (R | {"maxspeed": "30", "maxspeed:forward": "40"}, True, 1, None, (40.0, "maxspeed:forward")),
    (R | {"maxspeed": "30", "maxspeed:forward": "40"}, False, 1, None, (30.0, "maxspeed")),
    (R | {"maxspeed": "30", "maxspeed:backward": "40"}, True, 1, None, (30.0, "maxspeed")),
    (R | {"maxspeed": "30", "maxspeed:backward": "40"}, False, 1, None,
     (40.0, "maxspeed:backward")),
    (R | {"maxspeed:forward": "50", "maxspeed:backward": "30"}, False, 1, None,
     (30.0, "maxspeed:backward")),
    (R | {"maxspeed:forward": "50"}, False, 1, None, (30.0, "class_default")),  # only forward
    (R | {"maxspeed:backward": "30 mph"}, False, 1, None, (30 * MPH, "maxspeed:backward")),
    (R | {"maxspeed:forward": "signals", "maxspeed": "40"}, True, 1, None, (40.0, "maxspeed")),
    # class defaults: generic (country None) and per country
    (R, True, 1, None, (30.0, "class_default")),
    ({H: "tertiary"}, True, 1, None, (40.0, "class_default")),
    ({H: "motorway"}, True, 2, None, (100.0, "class_default")),
    ({H: "tertiary"}, True, 1, "ES", (30.0, "country_default")),
    ({H: "primary"}, True, 2, "ES", (50.0, "country_default")),
    ({H: "living_street"}, True, 1, "ES", (20.0, "country_default")),
    ({H: "motorway"}, True, 2, "ES", (120.0, "country_default")),
    ({H: "trunk"}, True, 2, "ES", (100.0, "country_default")),
    ({H: "motorway_link"}, True, 1, "ES", (60.0, "class_default")),
    ({H: "service"}, True, 1, "ES", (20.0, "class_default")),
    ({H: "motorway"}, True, 2, "DE", (130.0, "country_default")),
    ({H: "living_street"}, True, 1, "DE", (6.0, "country_default")),
    ({H: "residential"}, True, 1, "FR", (50.0, "country_default")),
    ({H: "trunk"}, True, 2, "FR", (110.0, "country_default")),
    ({H: "residential"}, True, 1, "MC", (50.0, "country_default")),
    ({H: "motorway"}, True, 2, "MC", (130.0, "country_default")),
    ({H: "residential"}, True, 1, "FI", (50.0, "country_default")),
    ({H: "residential"}, True, 1, "GB", (30 * MPH, "country_default")),
    ({H: "trunk"}, True, 2, "GB", (70 * MPH, "country_default")),
    ({H: "residential"}, True, 1, "RU", (60.0, "country_default")),
    ({H: "residential"}, True, 1, "es", (30.0, "country_default")),
    ({H: "residential", "maxspeed": "20"}, True, 1, "FR", (20.0, "maxspeed")),
]  # fmt: skip


@pytest.mark.parametrize(("tags", "forward", "lanes", "country", "expected"), SPEED_CASES)
def test_speed_source(tags, forward, lanes, country, expected):
    speed, source = speed_source(tags, forward, lanes=lanes, country=country)
    assert (speed, source) == (pytest.approx(expected[0]), expected[1])


@pytest.mark.parametrize("country", sorted(COUNTRY_DEFAULTS))
def test_every_country_default_resolves_for_every_class(country):
    for road_class in ROAD_CLASSES:
        for lanes in (1, 2):
            speed, _ = speed_source({H: road_class}, True, lanes=lanes, country=country)
            assert 5.0 <= speed <= 130.0


@pytest.mark.parametrize("code", sorted(ZONE_SPEEDS))
def test_every_zone_code_resolves(code):
    assert parse_speed(code, "primary", 1) is not None


@pytest.mark.parametrize("country", ["XX", "Spain", ""])
def test_unknown_country_is_refused(country):
    with pytest.raises(ValueError, match="no speed defaults for country"):
        check_country(country)


P = {H: "primary"}
LANES_CASES = [
    # (tags, forward?, one-way road?, lanes in that direction)
    (P | {"lanes": "2"}, True, True, 2),  # real
    (P | {"lanes": "2"}, True, False, 1),  # real; two-way: half
    (P | {"lanes": "1"}, True, False, 1),  # real; at least 1
    (P | {"lanes": "3"}, True, False, 1),  # real; half, rounded down
    (P | {"lanes": "4"}, False, False, 2),  # real
    (P | {"lanes": "2;3"}, True, True, 2),  # narrowest part
    (P | {"lanes": "3;2"}, True, True, 2),
    (P | {"lanes": "2;3"}, True, False, 1),
    (P | {"lanes": "many"}, True, True, 1),  # unreadable: class default
    (P | {"lanes": "0"}, True, True, 1),
    ({H: "motorway"}, True, True, 2),  # class default
    ({H: "motorway", "lanes": "3"}, True, True, 3),
    # per direction (real combinations from Granada and Helsinki)
    (P | {"lanes": "4", "lanes:forward": "2", "lanes:backward": "2"}, True, False, 2),
    (P | {"lanes": "3", "lanes:forward": "2", "lanes:backward": "1"}, True, False, 2),
    (P | {"lanes": "3", "lanes:forward": "2", "lanes:backward": "1"}, False, False, 1),
    (P | {"lanes": "4", "lanes:forward": "3", "lanes:backward": "1"}, True, False, 3),
    (P | {"lanes": "3", "lanes:forward": "1"}, True, False, 1),  # real: Helsinki
    (P | {"lanes": "3", "lanes:forward": "1"}, False, False, 2),  # the rest
    (P | {"lanes": "3", "lanes:backward": "2"}, True, False, 1),  # real: Helsinki
    (P | {"lanes": "2", "lanes:backward": "2"}, True, False, 1),  # nothing left: half
    (P | {"lanes": "2", "lanes:forward": "1", "lanes:backward": "1", "oneway": "yes"}, True,
     True, 1),  # real: Helsinki (a contraflow bus lane)
    (P | {"lanes": "5", "lanes:both_ways": "1"}, True, False, 2),
    (P | {"lanes": "3", "lanes:both_ways": "1"}, False, False, 1),
    (P | {"lanes:forward": "2"}, True, False, 2),
    (P | {"lanes:forward": "2"}, False, False, 1),  # class default
]  # fmt: skip


@pytest.mark.parametrize(("tags", "forward", "oneway", "expected"), LANES_CASES)
def test_lanes_per_direction(tags, forward, oneway, expected):
    assert lanes_per_direction(tags, forward, oneway) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [("2", 2), ("2;3", 2), ("3;2", 2), ("4", 4), (" 2 ", 2), ("many", None),
                            ("0", None), ("", None), (None, None)]
)  # fmt: skip
def test_parse_lanes(value, expected):
    assert parse_lanes(value) == expected


def test_the_docs_list_every_zone_code_and_country():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "osm-import.md").read_text()
    for code in [*ZONE_SPEEDS, *COUNTRY_DEFAULTS]:
        assert f"`{code}`" in docs, code


# The same rules end to end: tag_rules.osm has one short way per case, and way i runs from
# node 100i+1 to node 100i+2.
DIRECTION_CASES = [
    # (way name, way number, expected: "forward" | "backward" | "both" | "skipped")
    ("oneway yes", 1, "forward"),
    ("oneway true", 2, "forward"),
    ("oneway 1", 3, "forward"),
    ("oneway -1", 4, "backward"),
    ("oneway no", 5, "both"),
    ("no oneway tag", 6, "both"),
    ("roundabout", 7, "forward"),
    ("circular", 8, "forward"),
    ("roundabout oneway no", 9, "both"),
    ("motorway", 10, "forward"),
    ("motorway oneway no", 11, "both"),
    ("motorway link", 12, "both"),
    ("access private", 13, "skipped"),
    ("access no", 14, "skipped"),
    ("access private motor_vehicle yes", 15, "both"),
    ("access destination", 16, "both"),
    ("motor_vehicle private", 17, "skipped"),
    ("motor_vehicle no", 18, "skipped"),
    ("area yes", 19, "skipped"),
    ("construction", 20, "skipped"),
    ("proposed", 21, "skipped"),
    ("footway", 22, "skipped"),
    ("service", 23, "both"),
    ("service alley", 24, "both"),
    ("parking aisle", 25, "skipped"),
    ("driveway", 26, "skipped"),
    ("reversible", 27, "skipped"),
]


@pytest.mark.parametrize(("name", "way", "expected"), DIRECTION_CASES)
def test_tag_rules_decide_which_directions_become_links(tag_network, name, way, expected):
    start, end = 100 * way + 1, 100 * way + 2
    want = {
        "forward": [(start, end)],
        "backward": [(end, start)],
        "both": [(start, end), (end, start)],
        "skipped": [],
    }[expected]
    assert sorted(links_by_name(tag_network, name)) == sorted(want)


FIXTURE_SPEED_CASES = [
    # (way name, from node, expected km/h)
    ("maxspeed 50", 2801, 50.0),
    ("maxspeed 30 mph", 2901, 30 * MPH),
    ("maxspeed ES:urban", 3001, 30.0),  # tertiary, one lane per direction
    ("maxspeed none", 3101, 130.0),
    ("maxspeed 50;30", 3201, 30.0),
    ("maxspeed forward backward", 3301, 50.0),
    ("maxspeed forward backward", 3302, 30.0),
    ("no oneway tag", 601, ROAD_CLASSES["residential"].speed_kmh),
]


@pytest.mark.parametrize(("name", "from_id", "speed"), FIXTURE_SPEED_CASES)
def test_free_flow_time_uses_the_speed_rules(tag_network, name, from_id, speed):
    i = link_index(tag_network, name, from_id)
    expected_minutes = tag_network.length_km[i] / speed * 60.0
    assert tag_network.free_flow_time[i] == pytest.approx(expected_minutes, rel=1e-12)


LANE_CASES = [
    # (way name, from node, lanes in that direction, class)
    ("lanes 2;3 oneway", 3401, 2, "primary"),
    ("lanes 4 two-way", 3501, 2, "primary"),
    ("lanes 4 two-way", 3502, 2, "primary"),
    ("lanes 3 two-way", 3601, 1, "primary"),  # half, rounded down
    ("lanes forward backward", 3701, 2, "primary"),
    ("lanes forward backward", 3702, 1, "primary"),
    ("lanes default motorway", 3801, ROAD_CLASSES["motorway"].lanes, "motorway"),
    ("lanes unparseable", 3901, ROAD_CLASSES["secondary"].lanes, "secondary"),
]


@pytest.mark.parametrize(("name", "from_id", "lanes", "road_class"), LANE_CASES)
def test_capacity_is_lanes_times_the_class_capacity_per_lane(
    tag_network, name, from_id, lanes, road_class
):
    i = link_index(tag_network, name, from_id)
    assert tag_network.link_attrs["lanes"][i] == lanes
    assert tag_network.capacity[i] == lanes * ROAD_CLASSES[road_class].lane_capacity


CAPACITY_TABLE = [
    # (class, veh/h per lane, default lanes per direction): the documented table
    ("motorway", 1900, 2), ("motorway_link", 1500, 1), ("trunk", 1700, 2),
    ("trunk_link", 1300, 1), ("primary", 1000, 1), ("primary_link", 900, 1),
    ("secondary", 900, 1), ("secondary_link", 800, 1), ("tertiary", 800, 1),
    ("tertiary_link", 700, 1), ("unclassified", 600, 1), ("residential", 600, 1),
    ("living_street", 300, 1), ("service", 300, 1),
]  # fmt: skip


def test_the_capacity_table_is_the_documented_one():
    assert [(c, r.lane_capacity, r.lanes) for c, r in ROAD_CLASSES.items()] == CAPACITY_TABLE


def test_country_changes_only_the_fallback_speeds():
    generic = read_osm(TAG_RULES, strongly_connected=False)
    spain = read_osm(TAG_RULES, strongly_connected=False, country="es")
    assert (generic.report.country, spain.report.country) == (None, "ES")
    g, s = generic.network, spain.network
    tagged = link_index(g, "maxspeed 50", 2801)
    assert g.free_flow_time[tagged] == s.free_flow_time[tagged]
    motorway = link_index(g, "motorway", 1001)  # untagged: generic 100, Spain 120 km/h
    assert s.free_flow_time[motorway] == pytest.approx(g.free_flow_time[motorway] * 100 / 120)
    assert sum(spain.report.speed_sources.values()) == g.n_links
    assert spain.report.speed_sources["maxspeed"] == 11  # ways 28-32 both ways, 33 forward
    assert "class_default" in generic.report.speed_sources


def test_skipped_ways_are_counted_by_reason():
    report = read_osm(TAG_RULES, strongly_connected=False).report
    assert report.highway_ways_read == 39
    assert report.ways_skipped == {
        "area": 1,
        "construction": 1,
        "minor_service": 2,
        "no_car_access": 4,
        "not_a_car_road": 1,
        "proposed": 1,
        "reversible": 1,
    }


# --- lengths --------------------------------------------------------------------------------


def test_great_circle_length_of_one_degree_on_the_equator():
    # 2 * pi * 6371.0088 km / 360 on the IUGG mean sphere; to the metre.
    assert polyline_length_km([(0.0, 0.0), (1.0, 0.0)]) == pytest.approx(111.19508, abs=1e-3)
    assert polyline_length_km([(0.0, 0.0), (0.0, 0.5), (0.0, 1.0)]) == pytest.approx(
        111.19508, abs=1e-3
    )


def test_link_length_is_the_great_circle_length_of_its_geometry(town):
    network = town.network
    i = link_index(network, "Calle Sur", 1)
    # 0.0035 degrees of longitude at latitude 40: 0.0035 * 111.19508 km * cos(40 deg).
    expected = 0.0035 * 111.19508 * math.cos(math.radians(40.0))
    assert network.length_km[i] == pytest.approx(expected, rel=1e-6)
    ronda = [
        network.length_km[j]
        for j in range(network.n_links)
        if network.link_attrs["name"][j] == "Ronda"
    ]
    assert ronda[0] == pytest.approx(float(haversine_km(0.0, 40.0027, 0.00175, 40.00315)))


# --- topology --------------------------------------------------------------------------------


def test_ways_are_split_at_junctions(town):
    assert sorted(links_by_name(town.network, "Calle Sur")) == [(1, 2), (2, 1), (2, 3), (3, 2)]
    assert len(links_by_name(town.network, "Avenida Oeste")) == 4


def test_a_second_road_between_the_same_nodes_is_split_at_its_middle_shape_node(town):
    assert sorted(links_by_name(town.network, "Ronda")) == [(4, 41), (5, 41), (41, 4), (41, 5)]
    pairs = list(zip(town.network.from_idx.tolist(), town.network.to_idx.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    assert town.report.parallel_links_split == 1


def write_osm(path: Path, body: str) -> Path:
    path.write_text(f'<?xml version="1.0"?>\n<osm version="0.6">\n{body}\n</osm>\n')
    return path


def test_a_loop_way_becomes_links_without_self_loops_or_twins(tmp_path):
    # A one-junction turning loop: 1 -> 2 -> 3 -> 4 -> 1, hanging off a street 5 - 1.
    nodes = "".join(
        f'<node id="{i}" lat="{lat}" lon="{lon}"/>'
        for i, lat, lon in [(1, 0, 0), (2, 0.001, 0.001), (3, 0.002, 0), (4, 0.001, -0.001),
                            (5, -0.002, 0)]
    )  # fmt: skip
    path = write_osm(
        tmp_path / "loop.osm",
        nodes + '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>'
        '<tag k="highway" v="residential"/><tag k="name" v="Loop"/></way>'
        '<way id="2"><nd ref="5"/><nd ref="1"/><tag k="highway" v="residential"/></way>',
    )
    network = read_osm(path).network
    assert np.all(network.from_idx != network.to_idx)
    pairs = list(zip(network.from_idx.tolist(), network.to_idx.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))
    loop_km = sum(
        network.length_km[i]
        for i in range(network.n_links)
        if network.link_attrs["name"][i] == "Loop"
    )
    ring = [(0, 0), (0.001, 0.001), (0, 0.002), (-0.001, 0.001), (0, 0)]
    assert loop_km == pytest.approx(2 * polyline_length_km(ring))  # both directions, all of it


def test_a_school_mapped_as_a_multipolygon_is_found(tmp_path):
    nodes = "".join(
        f'<node id="{i}" lat="{lat}" lon="{lon}"/>'
        for i, lat, lon in [(1, 0, 0), (2, 0, 0.001), (3, 0.001, 0.001), (4, 0.001, 0),
                            (5, -0.001, 0), (6, -0.001, 0.001)]
    )  # fmt: skip
    path = write_osm(
        tmp_path / "mp.osm",
        nodes + '<way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="4"/><nd ref="1"/>'
        '</way><way id="2"><nd ref="5"/><nd ref="6"/><tag k="highway" v="residential"/></way>'
        '<relation id="9"><member type="way" ref="1" role="outer"/>'
        '<tag k="type" v="multipolygon"/><tag k="amenity" v="school"/><tag k="name" v="MP"/>'
        "</relation>",
    )
    osm = read_osm(path)
    assert [(s.osm_type, s.osm_id, s.name) for s in osm.schools] == [("relation", 9, "MP")]
    assert len(school_street_links(osm.network, osm.schools, radius_m=200.0)) == 2


def test_clipped_way_keeps_its_located_part_and_counts_what_was_dropped():
    osm = read_osm(TOWN, strongly_connected=False)
    # Calle Cortada is 3 - 30 - 31 - 32 and node 30 is missing: 3-30 and 30-31 are lost.
    assert sorted(links_by_name(osm.network, "Calle Cortada")) == [(31, 32), (32, 31)]
    assert osm.report.clipped_ways == 1
    assert osm.report.missing_node_refs == 1
    assert osm.report.dropped_clipped_segments == 2


def test_largest_strongly_connected_component_drops_the_one_way_stub(town):
    network = town.network
    assert links_by_name(network, "Salida") == []  # one way out, no way back
    assert links_by_name(network, "Calle Cortada") == []  # the clipped island
    assert 40 not in network.node_ids
    assert is_strongly_connected(network)
    assert town.report.scc_components == 3
    assert town.report.scc_removed_nodes == 3  # 40, 31, 32
    assert town.report.scc_removed_links == 3
    assert (town.report.nodes, town.report.links) == (11, 30)
    np.testing.assert_array_equal(network.link_ids, np.arange(1, 31))


def test_compressed_xml_reads_like_plain_xml(tmp_path, town):
    data = TOWN.read_bytes()
    (tmp_path / "town.osm.gz").write_bytes(gzip.compress(data))
    (tmp_path / "town.osm.bz2").write_bytes(bz2.compress(data))
    for name in ("town.osm.gz", "town.osm.bz2"):
        network = read_osm(tmp_path / name).network
        np.testing.assert_array_equal(network.node_ids, town.network.node_ids)
        np.testing.assert_array_equal(network.free_flow_time, town.network.free_flow_time)


def test_an_extract_without_car_roads_is_an_error(tmp_path):
    path = tmp_path / "paths.osm"
    path.write_text(
        '<osm version="0.6"><node id="1" lat="0" lon="0"/><node id="2" lat="0" lon="0.001"/>'
        '<way id="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/></way></osm>'
    )
    with pytest.raises(NetworkError, match="no car roads"):
        read_osm(path)


def test_a_missing_file_is_reported_by_name(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.osm"):
        read_osm(tmp_path / "nowhere.osm")


# --- zones -----------------------------------------------------------------------------------


def test_grid_zones_cover_cells_with_nodes_and_get_two_way_connectors(town):
    network, zones = add_grid_zones(town.network, zone_size_m=400.0, connectors=3)
    # Nodes sit at x, y in {0, ~300, ~600} m: four 400 m cells hold nodes.
    assert zones.n_zones == 4
    # Node ids 1..10 are taken, so centroids start above the largest network node id (41).
    np.testing.assert_array_equal(zones.zone_ids, [42, 43, 44, 45])
    np.testing.assert_array_equal(network.zone_ids, zones.zone_ids)
    assert not set(zones.zone_ids) & set(town.network.node_ids.tolist())
    assert network.block_centroid_flows
    assert is_strongly_connected(network)
    connector = np.array(network.link_attrs["road_class"]) == CONNECTOR_CLASS
    assert connector.sum() == 4 * 3 * 2
    for zone in zones.zone_ids:
        z = network.node_index(zone)
        out = network.to_idx[connector & (network.from_idx == z)]
        back = network.from_idx[connector & (network.to_idx == z)]
        assert len(set(out.tolist())) == 3
        assert sorted(out.tolist()) == sorted(back.tolist())
    minutes = network.length_km[connector] / CONNECTOR_SPEED_KMH * 60.0
    np.testing.assert_allclose(network.free_flow_time[connector], minutes)


def test_connectors_join_main_roads_not_local_streets(town):
    network, _ = add_grid_zones(town.network, zone_size_m=400.0)
    leaving = np.isin(network.node_ids[network.from_idx], network.zone_ids)
    joined = set(network.node_ids[network.to_idx[leaving]].tolist())
    # Main roads of the toy town: Calle Media (4-5-6), Avenidas Oeste (1-4-7) and Este (3-6-9).
    assert joined <= {1, 3, 4, 5, 6, 7, 9}


def test_centroid_ids_start_at_one_when_free(town):
    shifted = town.network.with_changes(node_ids=town.network.node_ids + 1000)
    _, zones = add_grid_zones(shifted, zone_size_m=400.0)
    np.testing.assert_array_equal(zones.zone_ids, [1, 2, 3, 4])


# --- demand ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zoned_town(town):
    return add_grid_zones(town.network, zone_size_m=400.0)


def test_gravity_demand_is_synthetic_and_sums_to_the_requested_trips(zoned_town):
    network, zones = zoned_town
    demand = gravity_demand(network, zones, trips=1234.0, seed=7)
    assert demand.synthetic
    assert demand.description.startswith("Synthetic peak-hour car demand, not observed")
    assert "seed 7" in demand.description
    assert demand.total == pytest.approx(1234.0, rel=1e-12)
    assert np.all(np.diag(demand.matrix) == 0)
    assert np.all(demand.matrix >= 0)
    np.testing.assert_array_equal(demand.zone_ids, zones.zone_ids)


def test_gravity_demand_is_deterministic_for_a_seed(zoned_town):
    network, zones = zoned_town
    first = gravity_demand(network, zones, trips=500.0, seed=42)
    again = gravity_demand(network, zones, trips=500.0, seed=42)
    other = gravity_demand(network, zones, trips=500.0, seed=43)
    np.testing.assert_array_equal(first.matrix, again.matrix)
    assert not np.allclose(first.matrix, other.matrix)


def test_default_trips_are_rounded_and_stated(zoned_town):
    network, zones = zoned_town
    demand = gravity_demand(network, zones, seed=42)
    assert demand.total > 0
    assert demand.total == pytest.approx(round(demand.total, -1))
    assert "sized so free-flow vehicle-minutes are 0.2" in demand.description


@pytest.fixture(scope="module")
def land_use_town():
    osm = read_osm(LAND_USE)
    network, zones = add_grid_zones(osm.network, zone_size_m=400.0, land_use=osm.land_use)
    return osm, network, zones


def test_buildings_and_pois_are_read_as_weighted_points(land_use_town):
    osm, _, _ = land_use_town
    report = osm.report
    # 2 apartment blocks, a house, an office building; the garage has no activity.
    assert report.buildings == 4
    # 20 m x 20 m footprints: 2 x 400 x 5 levels + 400 residential; 400 x 3 levels office.
    assert report.residential_floor_m2 == pytest.approx(4400.0, rel=1e-3)
    assert report.other_floor_m2 == pytest.approx(1200.0, rel=1e-3)
    # shop node (100), office node (300), office building (300); the bench is no POI.
    assert report.pois == 3
    assert report.poi_weight_m2 == pytest.approx(700.0)
    assert osm.land_use.building_lon.dtype == np.float64


def test_zones_with_more_housing_produce_more_trips(land_use_town):
    _, network, zones = land_use_town
    assert zones.production_basis.startswith("residential floor area")
    demand = gravity_demand(network, zones, trips=1000.0, seed=3)
    produced = demand.matrix.sum(axis=1)
    west, middle, east = produced  # zones 1..3, west to east
    assert west > middle > east


def test_a_zone_with_only_offices_attracts_more_than_it_produces(land_use_town):
    _, network, zones = land_use_town
    assert zones.attraction_basis.startswith("non-residential floor area plus POIs")
    demand = gravity_demand(network, zones, trips=1000.0, seed=3)
    east = 2
    # Half of generation follows road length, so the office zone still produces some trips.
    assert demand.matrix[:, east].sum() > 2 * demand.matrix[east, :].sum()
    assert "residential floor area" in demand.description


def test_land_use_demand_is_deterministic_and_sums_to_the_requested_trips(land_use_town):
    _, network, zones = land_use_town
    first = gravity_demand(network, zones, trips=777.0, seed=5)
    again = gravity_demand(network, zones, trips=777.0, seed=5)
    other = gravity_demand(network, zones, trips=777.0, seed=6)
    np.testing.assert_array_equal(first.matrix, again.matrix)
    assert not np.allclose(first.matrix, other.matrix)
    assert first.total == pytest.approx(777.0, rel=1e-12)


def test_trip_generation_falls_back_to_road_length_without_buildings(town):
    # town.osm has two schools (POIs) but no buildings: both sides use road length.
    network, zones = add_grid_zones(town.network, zone_size_m=400.0, land_use=town.land_use)
    assert town.report.buildings == 0
    assert zones.production_weight is None and zones.attraction_weight is None
    assert (zones.production_basis, zones.attraction_basis) == ("road length", "road length")
    plain_network, plain = add_grid_zones(town.network, zone_size_m=400.0)
    np.testing.assert_array_equal(
        gravity_demand(network, zones, trips=500.0, seed=1).matrix,
        gravity_demand(plain_network, plain, trips=500.0, seed=1).matrix,
    )
    assert (
        "proportional to the road length" in gravity_demand(network, zones, trips=5.0).description
    )


def test_the_import_report_counts_buildings_and_pois(tmp_path):
    import_osm_package(LAND_USE, tmp_path / "lu.zip", zone_size_m=400.0, trips=100.0)
    report = load_package(tmp_path / "lu.zip").scenario["import_report"]
    assert report["buildings"] == 4 and report["pois"] == 3
    assert report["productions_from"] == "residential floor area (50%) and road length"
    assert report["attractions_from"] == (
        "non-residential floor area plus POIs (50%) and road length"
    )
    for key in ("residential_floor_m2", "other_floor_m2", "poi_weight_m2"):
        assert isinstance(report[key], int | float)


def test_furness_matches_row_and_column_totals():
    produce = np.array([10.0, 20.0, 30.0])
    attract = np.array([25.0, 25.0, 10.0])
    deterrence = np.array([[0.0, 1.0, 0.5], [1.0, 0.0, 0.2], [0.5, 0.2, 0.0]])
    matrix = furness(produce, attract, deterrence)
    np.testing.assert_allclose(matrix.sum(axis=1), produce, rtol=1e-8)
    np.testing.assert_allclose(matrix.sum(axis=0), attract, rtol=1e-8)


# --- school streets ---------------------------------------------------------------------------


def test_school_streets_close_exactly_the_nearby_residential_and_living_links(town):
    closure = school_streets_intervention(radius_m=200.0)
    network = apply_interventions(
        town.network, [closure], features=parse_features(features_geojson(town.features))
    )
    closed = {
        (network.link_attrs["name"][i], int(network.node_ids[network.from_idx[i]]))
        for i in np.flatnonzero(network.closed)
    }
    # Escuela Oeste (node, x 75 y 150 m): Calle Sur 1-2 at 150 m, Calle Escuela at 91 m;
    # Avenida Oeste (75 m) and Calle Media (150 m) are main roads; Calle Centro is 223 m away.
    # Colegio Este (outline ~50 m east of node 9): Calle Norte 8-9.
    assert closed == {
        ("Calle Sur", 1), ("Calle Sur", 2), ("Calle Escuela", 1), ("Calle Escuela", 10),
        ("Calle Norte", 8), ("Calle Norte", 9),
    }  # fmt: skip
    assert closure == {
        "type": "restrict_area",
        "near": {"amenity": "school"},
        "radius_m": 200.0,
        "road_classes": ["residential", "living_street"],
        "action": "close",
        "label": "School streets: residential and living streets within 200 m of a school",
    }


def test_school_streets_radius_is_a_parameter(town):
    assert len(school_street_links(town.network, town.schools, radius_m=40.0)) == 0
    assert len(school_street_links(town.network, town.schools, radius_m=100.0)) == 4


def test_school_outline_counts_along_its_edges_not_only_at_its_corners():
    # A 1 km long school wall; the street crosses 100 m north of its middle, 500 m from any corner.
    wall = [(0.0, 0.0), (0.012, 0.0), (0.012, 0.0002), (0.0, 0.0002), (0.0, 0.0)]
    school = School("way", 1, "Long", [wall])
    network = Network(
        node_ids=np.array([1, 2]), from_idx=np.array([0]), to_idx=np.array([1]),
        capacity=np.array([600.0]), free_flow_time=np.array([1.0]), alpha=np.array([0.15]),
        beta=np.array([4.0]), link_ids=np.array([7]), zone_ids=np.zeros(0, dtype=np.int64),
        node_x=np.array([0.006, 0.0061]), node_y=np.array([0.0011, 0.0011]),
        link_attrs={"road_class": ["residential"],
                    "geometry": [[(0.006, 0.0011), (0.0061, 0.0011)]]},
    )  # fmt: skip
    np.testing.assert_array_equal(school_street_links(network, [school], radius_m=120.0), [7])
    assert len(school_street_links(network, [school], radius_m=80.0)) == 0


def test_closing_school_streets_keeps_every_zone_pair_connected(town, zoned_town):
    network, _ = zoned_town
    features = parse_features(features_geojson(town.features))
    closed = apply_interventions(network, [school_streets_intervention()], features=features)
    assert closed.closed.sum() == 6
    assert zones_connected(closed)


# --- the package -----------------------------------------------------------------------------


def test_import_osm_package_writes_a_package_with_licence_report_and_template(tmp_path):
    output = tmp_path / "town.zip"
    sha256 = import_osm_package(TOWN, output, template="school-streets", zone_size_m=400.0)
    package = load_package(output)
    assert package.sha256 == sha256
    descriptor = json.loads(zipfile.ZipFile(output).read("datapackage.json"))
    assert descriptor["licenses"][0]["name"] == "ODbL-1.0"
    assert descriptor["sources"][0]["title"] == "© OpenStreetMap contributors"
    scenario = descriptor["scenario"]
    assert scenario["template"]["name"] == "school-streets"
    assert scenario["template"]["parameters"] == {
        "radius_m": 200.0,
        "road_classes": ["residential", "living_street"],
    }
    assert scenario["demand"]["synthetic"] is True
    assert scenario["import_report"]["closed_links"] == 6
    assert scenario["import_report"]["zones"] == 4
    assert scenario["interventions"] == [school_streets_intervention(radius_m=200.0)]
    assert scenario["features"] == {"format": "geojson", "resource": "features"}
    assert package.network().n_links == 30 + 4 * 3 * 2
    # The portable rule resolves at run time against the package's own schools.
    assert package.scenario_network()[0].closed.sum() == 6


def test_import_without_template_has_no_interventions(tmp_path):
    import_osm_package(TOWN, tmp_path / "base.zip", zone_size_m=400.0, trips=300.0)
    descriptor = json.loads(zipfile.ZipFile(tmp_path / "base.zip").read("datapackage.json"))
    assert descriptor["scenario"]["interventions"] == []
    assert "template" not in descriptor["scenario"]
    assert descriptor["scenario"]["import_report"]["trips"] == 300.0


def test_import_passes_the_country_through(tmp_path):
    import_osm_package(TOWN, tmp_path / "es.zip", zone_size_m=400.0, trips=300.0, country="ES")
    descriptor = json.loads(zipfile.ZipFile(tmp_path / "es.zip").read("datapackage.json"))
    report = descriptor["scenario"]["import_report"]
    assert report["country"] == "ES"
    assert sum(report["speed_sources"].values()) >= report["links"]


def test_unknown_template_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown template"):
        import_osm_package(TOWN, tmp_path / "x.zip", template="low-traffic")


# --- real extracts ----------------------------------------------------------------------------


def extract(key: str) -> Path:
    path = OSM_DATA / EXTRACTS[key]
    if not path.is_file():
        pytest.skip(
            f"OSM extract {EXTRACTS[key]} not found under {OSM_DATA} (set RECI_SHARED_DATA)"
        )
    return path


@pytest.fixture(scope="module")
def imported():
    """Each real extract imported once: (OsmNetwork, zoned network, zones, seconds)."""
    cache = {}

    def load(key: str):
        if key not in cache:
            started = time.perf_counter()
            osm = read_osm(extract(key))
            network, zones = add_grid_zones(osm.network)
            cache[key] = (osm, network, zones, time.perf_counter() - started)
        return cache[key]

    return load


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(EXTRACTS))
def test_real_extract_imports_strongly_connected_with_a_school_streets_closure(imported, key):
    osm, network, zones, seconds = imported(key)
    assert is_strongly_connected(network)
    assert zones.n_zones > 0
    assert len(school_street_links(network, osm.schools)) > 0
    assert seconds < 30, f"{key} took {seconds:.1f} s to import"
    # Closing the school streets must not cut any zone off (connectors are on main roads).
    features = parse_features(features_geojson(osm.features))
    closed = apply_interventions(network, [school_streets_intervention()], features=features)
    assert zones_connected(closed)


@pytest.mark.slow
def test_helsinki_clipped_ways_are_counted_not_fatal(imported):
    osm, *_ = imported("helsinki")
    assert osm.report.clipped_ways > 0
    assert osm.report.missing_node_refs > 0
    assert osm.report.dropped_clipped_segments > 0


@pytest.mark.slow
def test_granada_baseline_and_school_streets_assign_at_gap_1e4(imported):
    assignment = pytest.importorskip("twins.engine.assignment")
    osm, network, zones, _ = imported("granada")
    demand = gravity_demand(network, zones, seed=42)
    closed = apply_interventions(
        network,
        [school_streets_intervention()],
        features=parse_features(features_geojson(osm.features)),
    )
    started = time.perf_counter()
    baseline = assignment.assign(network, demand, relative_gap=1e-4)
    scenario = assignment.assign(closed, demand, relative_gap=1e-4)
    assert time.perf_counter() - started < 60
    assert baseline.converged and scenario.converged
    assert baseline.unassigned_demand == 0
    assert scenario.unassigned_demand == 0
    assert baseline.tstt > 0 and scenario.tstt > 0


# --- portable interventions and map features ------------------------------------------------------


def test_the_import_writes_the_map_features_with_their_tags(tmp_path):
    import_osm_package(TOWN, tmp_path / "base.zip", zone_size_m=400.0, trips=300.0)
    package = load_package(tmp_path / "base.zip")
    assert package.scenario["interventions"] == []  # features are kept even without a template
    collection = json.loads(package.read_bytes("features"))
    schools = [f for f in collection["features"] if f["properties"].get("amenity") == "school"]
    assert sorted(f["properties"]["name"] for f in schools) == ["Colegio Este", "Escuela Oeste"]
    assert sorted(f["geometry"]["type"] for f in schools) == ["Point", "Polygon"]
    assert all(f["id"].split("/")[0] in ("node", "way", "relation") for f in schools)


def test_a_school_streets_rule_applies_to_a_baseline_package_of_the_same_town(tmp_path):
    # The scenario section travels: the rule written for one package resolves on another's.
    import_osm_package(TOWN, tmp_path / "base.zip", zone_size_m=400.0, trips=300.0)
    base = load_package(tmp_path / "base.zip")
    closed = apply_interventions(
        base.network(), [school_streets_intervention()], features=base.features()
    )
    assert closed.closed.sum() == 6


@pytest.fixture(scope="module")
def school_street_packages(tmp_path_factory):
    """Each real extract imported once as a school-streets package (loaded), by key."""
    folder = tmp_path_factory.mktemp("school-streets")
    cache = {}

    def load(key: str):
        if key not in cache:
            output = folder / f"{key}.zip"
            import_osm_package(extract(key), output, template="school-streets")
            cache[key] = load_package(output)
        return cache[key]

    return load


@pytest.mark.slow
@pytest.mark.parametrize("city", ["monaco", "helsinki"])
def test_granadas_school_streets_section_resolves_to_another_citys_own_schools(
    school_street_packages, city
):
    granada_section = school_street_packages("granada").scenario["interventions"]
    assert granada_section == [school_streets_intervention(radius_m=200.0)]  # no link ids
    package = school_street_packages(city)
    network = package.network()
    # Granada's section on this city's network, against this city's features.geojson...
    features = package.features()
    foreign, resolved = apply_interventions_report(network, granada_section, features=features)
    # ...and the city's own import with the template.
    own = apply_interventions(network, package.interventions, features=features)
    assert resolved[0].links > 0
    assert resolved[0].features == package.scenario["import_report"]["schools"]
    np.testing.assert_array_equal(foreign.closed, own.closed)
    assert int(own.closed.sum()) == package.scenario["import_report"]["closed_links"]
    # Every closed link is a residential or living street near one of this city's schools.
    osm = read_osm(extract(city))
    schools = school_street_links(network, osm.schools)
    assert sorted(network.link_ids[foreign.closed].tolist()) == sorted(schools.tolist())
    classes = {network.link_attrs["road_class"][i] for i in np.flatnonzero(foreign.closed)}
    assert classes <= {"residential", "living_street"}
