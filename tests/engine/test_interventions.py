"""Interventions change a copy of the network and say which one failed and why."""

from __future__ import annotations

import numpy as np
import pytest

from twins.engine.interventions import (
    InterventionError,
    apply_interventions,
    apply_interventions_report,
    parse_features,
)
from twins.engine.network import Network

from .package_helpers import tiny_network


def position(network, link_id: int) -> int:
    return int(np.flatnonzero(network.link_ids == link_id)[0])


def test_close_links_by_id_closes_exactly_those_links():
    changed = apply_interventions(tiny_network(), [{"type": "close_links", "link_ids": [11, 13]}])
    assert changed.link_ids[changed.closed].tolist() == [11, 13]


def test_a_node_pair_closes_every_parallel_link_between_the_nodes():
    changed = apply_interventions(tiny_network(), [{"type": "close_links", "node_pairs": [[1, 3]]}])
    assert changed.link_ids[changed.closed].tolist() == [10, 16]


def test_the_input_network_is_never_modified():
    network = tiny_network()
    before = (network.capacity.copy(), network.free_flow_time.copy(), network.closed.copy())
    apply_interventions(
        network,
        [
            {"type": "close_links", "link_ids": [10]},
            {"type": "scale_capacity", "link_ids": [11], "factor": 2},
            {"type": "set_free_flow_time", "link_ids": [12], "minutes": 9},
        ],
    )
    for array, saved in zip(
        (network.capacity, network.free_flow_time, network.closed), before, strict=True
    ):
        np.testing.assert_array_equal(array, saved)


def test_scale_capacity_multiplies_capacity():
    changed = apply_interventions(
        tiny_network(), [{"type": "scale_capacity", "node_pairs": [[3, 2]], "factor": 0.5}]
    )
    assert changed.capacity[position(changed, 11)] == 500.0
    assert not changed.closed.any()


def test_scale_capacity_to_zero_closes_the_link_instead_of_dividing_by_zero():
    changed = apply_interventions(
        tiny_network(), [{"type": "scale_capacity", "link_ids": [12], "factor": 0}]
    )
    assert changed.closed[position(changed, 12)]
    assert changed.capacity[position(changed, 12)] == 500.0


def test_set_free_flow_time_sets_minutes():
    changed = apply_interventions(
        tiny_network(), [{"type": "set_free_flow_time", "link_ids": [10], "minutes": 7.5}]
    )
    assert changed.free_flow_time[position(changed, 10)] == 7.5


def test_set_speed_derives_free_flow_time_from_length():
    changed = apply_interventions(
        tiny_network(), [{"type": "set_speed", "link_ids": [12], "speed_kmh": 30}]
    )
    assert changed.free_flow_time[position(changed, 12)] == pytest.approx(6.0)  # 3 km at 30 km/h


def test_set_speed_needs_a_known_length():
    network = tiny_network()
    network.length_km[position(network, 12)] = np.nan
    with pytest.raises(InterventionError) as caught:
        apply_interventions(network, [{"type": "set_speed", "link_ids": [12], "speed_kmh": 30}])
    assert str(caught.value) == "interventions[0] (set_speed): link id 12 has no known length"


def test_interventions_apply_in_order():
    changed = apply_interventions(
        tiny_network(),
        [
            {"type": "set_free_flow_time", "link_ids": [10], "minutes": 5},
            {"type": "set_speed", "link_ids": [10], "speed_kmh": 60},
        ],
    )
    assert changed.free_flow_time[position(changed, 10)] == pytest.approx(2.0)


def test_unknown_link_id_names_the_intervention_index_and_the_id():
    with pytest.raises(InterventionError) as caught:
        apply_interventions(
            tiny_network(),
            [
                {"type": "close_links", "link_ids": [10]},
                {"type": "scale_capacity", "link_ids": [11, 404], "factor": 0.5},
            ],
        )
    assert str(caught.value) == (
        "interventions[1] (scale_capacity): link id 404 is not in the network"
    )


def test_unknown_node_pair_names_the_intervention_and_the_pair():
    with pytest.raises(InterventionError) as caught:
        apply_interventions(tiny_network(), [{"type": "close_links", "node_pairs": [[2, 1]]}])
    assert str(caught.value) == (
        "interventions[0] (close_links): no link from node 2 to node 1 in the network"
    )


@pytest.mark.parametrize(
    ("intervention", "message"),
    [
        ({"type": "open_links", "link_ids": [10]}, "interventions[0]: unknown intervention type"),
        (
            {"type": "close_links"},
            "give exactly one of link_ids, node_pairs, street_names or osm_way_ids",
        ),
        (
            {"type": "close_links", "link_ids": [10], "node_pairs": [[1, 3]]},
            "give exactly one of link_ids, node_pairs, street_names or osm_way_ids",
        ),
        ({"type": "close_links", "link_ids": []}, "link_ids must be a non-empty list"),
        ({"type": "close_links", "link_ids": [True]}, "link id True is not in the network"),
        ({"type": "close_links", "node_pairs": [[1, 3, 4]]}, "must be [from_node_id, to_node_id]"),
        ({"type": "scale_capacity", "link_ids": [10]}, "factor must be a number >= 0.0"),
        ({"type": "scale_capacity", "link_ids": [10], "factor": -1}, "factor must be a number"),
        ({"type": "set_speed", "link_ids": [10], "speed_kmh": 0}, "speed_kmh must be a number > 0"),
        ("close everything", "interventions[0]: must be an object"),
    ],
)
def test_invalid_interventions_are_refused_with_a_reason(intervention, message):
    with pytest.raises(InterventionError) as caught:
        apply_interventions(tiny_network(), [intervention])
    assert message in str(caught.value)


def test_no_interventions_gives_an_equal_copy():
    network = tiny_network()
    changed = apply_interventions(network, [])
    assert changed is not network
    np.testing.assert_array_equal(changed.capacity, network.capacity)
    assert changed.capacity is not network.capacity


# --- addressing by street, OSM way, tag and area ---------------------------------------------
#
# A hand-made street plan near (0, 0), where 0.001 degree is about 111 m:
#
#   4 (0, .002) --L5 living, "Calle de la Peña"--> 5 (.002, .002)
#   ^                                               |
#   L4 residential "Calle del Olmo"                 L6 residential (no name)
#   |                                               v
#   1 (0, 0) <--L1/L2 residential "Calle Núñez"--> 2 (.002, 0) --L3 primary "Avenida"--> 3
#
#   school (node) at (.001, -.0005): 55 m from Calle Núñez, 124 m from L3, L4 and L6.

STREETS = [  # (id, from, to, class, name, OSM way)
    (1, 1, 2, "residential", "Calle Núñez", 100),
    (2, 2, 1, "residential", "Calle Núñez", 100),
    (3, 2, 3, "primary", "Avenida Mayor", 200),
    (4, 1, 4, "residential", "Calle del Olmo", 300),
    (5, 4, 5, "living_street", "Calle de la  Peña", 400),
    (6, 5, 2, "residential", "", 500),
]
STREET_NODES = {1: (0.0, 0.0), 2: (0.002, 0.0), 3: (0.004, 0.0), 4: (0.0, 0.002), 5: (0.002, 0.002)}


def street_plan() -> Network:
    node_ids = np.array(sorted(STREET_NODES))
    index = {node: i for i, node in enumerate(node_ids.tolist())}
    n = len(STREETS)
    return Network(
        node_ids=node_ids,
        from_idx=np.array([index[s[1]] for s in STREETS]),
        to_idx=np.array([index[s[2]] for s in STREETS]),
        capacity=np.full(n, 600.0),
        free_flow_time=np.full(n, 1.0),
        alpha=np.full(n, 0.15),
        beta=np.full(n, 4.0),
        link_ids=np.array([s[0] for s in STREETS]),
        zone_ids=np.zeros(0, dtype=np.int64),
        node_x=np.array([STREET_NODES[i][0] for i in node_ids]),
        node_y=np.array([STREET_NODES[i][1] for i in node_ids]),
        link_attrs={
            "road_class": [s[3] for s in STREETS],
            "name": [s[4] for s in STREETS],
            "osm_way_id": [s[5] for s in STREETS],
            "geometry": [[STREET_NODES[s[1]], STREET_NODES[s[2]]] for s in STREETS],
        },
    )


def square(x0, y0, x1, y1) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


FEATURES = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "id": "node/1",
         "geometry": {"type": "Point", "coordinates": [0.001, -0.0005]},
         "properties": {"amenity": "school", "name": "Escuela"}},
        # A hospital campus holding all of Calle de la Peña and the ends of L4 and L6.
        {"type": "Feature", "id": "way/2",
         "geometry": {"type": "Polygon", "coordinates": [square(-0.001, 0.0012, 0.003, 0.003)]},
         "properties": {"amenity": "hospital;clinic"}},
    ],
}  # fmt: skip
SCHOOL_STREETS = {
    "type": "restrict_area",
    "near": {"amenity": "school"},
    "radius_m": 100,
    "road_classes": ["residential", "living_street"],
    "action": "close",
}


def closed_ids(network: Network) -> list[int]:
    return network.link_ids[network.closed].tolist()


def test_near_closes_the_links_of_the_classes_within_the_radius_of_matching_features():
    features = parse_features(FEATURES)
    network = apply_interventions(street_plan(), [SCHOOL_STREETS], features=features)
    assert closed_ids(network) == [1, 2]
    wider = apply_interventions(
        street_plan(), [SCHOOL_STREETS | {"radius_m": 150}], features=features
    )
    assert closed_ids(wider) == [1, 2, 4, 6]  # the primary road (L3) is 124 m away but not a class


def test_near_counts_links_inside_a_feature_and_matches_one_of_several_values():
    near_hospital = SCHOOL_STREETS | {
        "near": {"amenity": ["hospital", "kindergarten"]},
        "radius_m": 0,
    }
    network = apply_interventions(street_plan(), [near_hospital], features=parse_features(FEATURES))
    assert closed_ids(network) == [4, 5, 6]  # L5 lies inside, L4 and L6 end inside


def test_near_can_scale_capacity_instead_of_closing():
    halve = SCHOOL_STREETS | {"action": {"scale_capacity": 0.5}}
    network = apply_interventions(street_plan(), [halve], features=parse_features(FEATURES))
    assert network.capacity.tolist() == [300.0, 300.0, 600.0, 600.0, 600.0, 600.0]
    assert not network.closed.any()


def test_a_tag_filter_that_matches_nothing_closes_nothing_and_says_so():
    theatre = SCHOOL_STREETS | {"near": {"amenity": "theatre"}, "label": "Theatres"}
    network, resolved = apply_interventions_report(
        street_plan(), [theatre], features=parse_features(FEATURES)
    )
    assert not network.closed.any()
    assert resolved[0].as_dict() == {
        "index": 0, "type": "restrict_area", "label": "Theatres", "links": 0, "features": 0,
        "warning": "no map feature matches amenity=theatre; nothing is restricted",
    }  # fmt: skip
    _, resolved = apply_interventions_report(
        street_plan(), [SCHOOL_STREETS | {"radius_m": 10}], features=parse_features(FEATURES)
    )
    assert (resolved[0].links, resolved[0].features) == (0, 1)
    assert "1 map features match amenity=school but no link" in resolved[0].warning


def test_the_report_counts_the_links_each_intervention_resolved_to():
    _, resolved = apply_interventions_report(
        street_plan(),
        [SCHOOL_STREETS, {"type": "close_links", "street_names": ["Calle Núñez"]}],
        features=parse_features(FEATURES),
    )
    assert [(r.links, r.features, r.warning) for r in resolved] == [(2, 1, None), (2, None, None)]


def test_near_without_map_features_names_the_missing_resource():
    with pytest.raises(InterventionError) as caught:
        apply_interventions(street_plan(), [SCHOOL_STREETS])
    assert str(caught.value).startswith(
        "interventions[0] (restrict_area): 'near' needs the package's map features, the "
        "resource features.geojson (named by scenario.features), and this package has none"
    )


def polygon_rule(geometry: dict) -> dict:
    return {"type": "restrict_area", "polygon": geometry, "road_classes": ["residential",
            "living_street"], "action": "close"}  # fmt: skip


def test_a_polygon_takes_the_links_whose_halfway_point_is_inside():
    # y from 0.0012: Calle de la Peña (halfway at y .002) is in; L4 and L6 end inside but
    # their halfway points (y .001) are outside.
    area = {"type": "Polygon", "coordinates": [square(-0.0005, 0.0012, 0.0025, 0.003)]}
    assert closed_ids(apply_interventions(street_plan(), [polygon_rule(area)])) == [5]
    two = {"type": "MultiPolygon", "coordinates": [area["coordinates"],
           [square(0.0005, -0.0005, 0.0015, 0.0005)]]}  # fmt: skip
    assert closed_ids(apply_interventions(street_plan(), [polygon_rule(two)])) == [1, 2, 5]


def test_a_polygon_hole_is_outside():
    outer = square(-0.0005, 0.0012, 0.0025, 0.003)
    hole = square(0.0008, 0.0018, 0.0012, 0.0022)  # around Calle de la Peña's halfway point
    area = {"type": "Polygon", "coordinates": [outer, hole]}
    network, resolved = apply_interventions_report(street_plan(), [polygon_rule(area)])
    assert closed_ids(network) == []
    assert resolved[0].warning == (
        "no link of class residential, living_street lies in the polygon; nothing is restricted"
    )


def test_an_open_polygon_ring_is_refused():
    area = {"type": "Polygon", "coordinates": [square(0, 0, 1, 1)[:-1]]}
    with pytest.raises(InterventionError, match=r"ring 0 must be closed"):
        apply_interventions(street_plan(), [polygon_rule(area)])


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["calle nunez"], [1, 2]),
        (["CALLE NÚÑEZ"], [1, 2]),
        (["Calle de la Pena"], [5]),  # accents and the doubled space in the data do not matter
        (["Calle del Olmo", "Avenida Mayor"], [3, 4]),
    ],
)
def test_close_links_by_street_name_ignores_case_accents_and_spacing(names, expected):
    network = apply_interventions(street_plan(), [{"type": "close_links", "street_names": names}])
    assert closed_ids(network) == expected


def test_an_unknown_street_name_lists_close_matches():
    with pytest.raises(InterventionError) as caught:
        apply_interventions(
            street_plan(), [{"type": "close_links", "street_names": ["Calle Nunes"]}]
        )
    assert str(caught.value) == (
        "interventions[0] (close_links): no street named 'Calle Nunes' in the network; "
        "close matches: 'Calle Núñez'"
    )


def test_close_links_by_osm_way_id_takes_every_link_of_the_way():
    network = apply_interventions(
        street_plan(), [{"type": "close_links", "osm_way_ids": [100, 400]}]
    )
    assert closed_ids(network) == [1, 2, 5]
    with pytest.raises(InterventionError, match="no link of the network comes from OSM way 9"):
        apply_interventions(street_plan(), [{"type": "close_links", "osm_way_ids": [9]}])


def test_street_names_need_a_network_with_names():
    with pytest.raises(InterventionError, match="the network has no street names"):
        apply_interventions(tiny_network(), [{"type": "scale_capacity", "street_names": ["A"],
                                              "factor": 0.5}])  # fmt: skip


@pytest.mark.parametrize(
    ("collection", "message"),
    [
        ({"type": "Feature"}, "features: must be a GeoJSON FeatureCollection"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
          "geometry": {"type": "Point", "coordinates": [200, 0]}}]},
         "features[0].geometry: [200, 0] is not a WGS84 [lon, lat] position"),
        ({"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"a": 1},
          "geometry": {"type": "Point", "coordinates": [0, 0]}}]},
         "features[0].properties.a: tag values must be strings"),
    ],
)  # fmt: skip
def test_malformed_features_are_refused_naming_the_feature(collection, message):
    with pytest.raises(ValueError) as caught:
        parse_features(collection)
    assert str(caught.value) == message
