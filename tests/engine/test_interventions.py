"""Interventions change a copy of the network and say which one failed and why."""

from __future__ import annotations

import numpy as np
import pytest

from twins.engine.interventions import InterventionError, apply_interventions

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
        ({"type": "close_links"}, "give exactly one of link_ids or node_pairs"),
        (
            {"type": "close_links", "link_ids": [10], "node_pairs": [[1, 3]]},
            "give exactly one of link_ids or node_pairs",
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
