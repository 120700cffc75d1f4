"""Per-link results, GeoJSON/CSV, streets, trip time and the convergence-noise estimator."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

import numpy as np
import pytest

from twins.engine.assignment import assign
from twins.engine.interventions import apply_interventions
from twins.engine.network import Demand
from twins.engine.results import (
    RunNoise,
    SideNoise,
    average_trip_time,
    earlier_iterate,
    link_geometries,
    link_table,
    links_csv,
    links_geojson,
    reference_iteration,
    resolved,
    street_changes,
)
from twins.engine.tntp import read_demand, read_network

from .package_helpers import tiny_network, tntp_folder

RULE = {"algorithm": "fw", "relative_gap": 1e-3, "max_iterations": 1000}
NO_COST = {"toll_weight": 0.0, "distance_weight": 0.0}


def congested_demand() -> Demand:
    return Demand(zone_ids=np.array([1, 2]), matrix=np.array([[0.0, 2500.0], [800.0, 0.0]]))


def run_pair(network, scenario_network, demand, rule=RULE):
    def side(net):
        result = assign(net, demand, algorithm=rule["algorithm"], relative_gap=rule["relative_gap"])
        return result, SideNoise.between(
            result, earlier_iterate(net, demand, result, rule, NO_COST)
        )

    (base, base_noise), (scen, scen_noise) = side(network), side(scenario_network)
    return base, scen, RunNoise(base_noise, scen_noise)


# --- the reference iterate ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("history", "target", "expected"),
    [
        ([0.5], 1e-4, 0),  # stopped at the first iterate: nothing earlier
        ([0.5, 1e-5], 1e-4, 1),  # a decade in one step: the previous iterate
        ([0.5, 1e-2, 5e-4, 2e-4, 9e-5], 1e-4, 3),  # first gap <= 10 x 1e-4
        ([0.5, 1e-2, 5e-3, 4e-3], 1e-6, 2),  # iteration limit: 10 x the final gap
        ([0.5, 2e-4, 1.5e-4, 9e-5], 1e-4, 2),  # first gap <= 10 x the target
        ([0.5, 0.4, float("nan")], 1e-4, 2),  # no usable gap: the previous iterate
    ],
)
def test_reference_iteration(history, target, expected):
    assert reference_iteration(history, target) == expected


def test_the_earlier_iterate_repeats_the_solver_trajectory():
    network, demand = tiny_network(), congested_demand()
    result = assign(network, demand, algorithm="fw", relative_gap=1e-4)
    earlier = earlier_iterate(network, demand, result, RULE | {"relative_gap": 1e-4}, NO_COST)
    k = reference_iteration(result.gap_history, 1e-4)
    assert 1 <= k < result.iterations
    assert earlier.iterations == k
    assert earlier.gap_history == result.gap_history[:k]
    again = assign(network, demand, algorithm="fw", relative_gap=0.0, max_iterations=k)
    np.testing.assert_array_equal(earlier.flow, again.flow)


def test_a_run_that_stops_at_its_first_iterate_has_zero_noise():
    network = tiny_network()
    demand = Demand(zone_ids=np.array([1, 2]), matrix=np.array([[0.0, 10.0], [0.0, 0.0]]))
    result = assign(network, demand, relative_gap=1e-4)
    if result.iterations != 1:
        pytest.skip("the uncongested tiny network needed more than one iteration")
    assert earlier_iterate(network, demand, result, RULE, NO_COST) is None
    noise = SideNoise.between(result, None)
    assert noise.tstt == 0.0 and not noise.flow.any()


# --- resolved or not ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("delta", "noise", "expected"),
    [(5.0, 10.0, False), (-5.0, 10.0, False), (50.0, 10.0, True), (-50.0, 10.0, True),
     (0.0, 0.0, True), (1.0, None, None), (float("nan"), 1.0, None)],
)  # fmt: skip
def test_a_difference_smaller_than_its_noise_is_unresolved(delta, noise, expected):
    assert resolved(delta, noise) is expected


def test_a_negligible_capacity_change_is_flagged_as_noise():
    # Link 12 loses 0.1 % of its capacity: the true flow changes are a fraction of a
    # vehicle, below what Frank-Wolfe at a gap of 1e-3 resolves.
    network, demand = tiny_network(), congested_demand()
    scenario_network = apply_interventions(
        network, [{"type": "scale_capacity", "link_ids": [12], "factor": 0.999}]
    )
    base, scen, noise = run_pair(network, scenario_network, demand)
    table = link_table(network, base, scenario_network, scen, noise)
    moved = [i for i, delta in enumerate(table["flow_delta"]) if delta != 0]
    assert [table["link_id"][i] for i in moved] == [10, 11, 12, 13, 16]
    for i in moved:
        assert abs(table["flow_delta"][i]) < 1.0
        assert table["delta_resolved"][i] is False, table["link_id"][i]
    # Link 14 carries the only path from 2 to 1 on both sides: no change, exactly.
    assert (table["flow_delta"][4], table["flow_noise"][4], table["delta_resolved"][4]) == (
        0.0,
        0.0,
        True,
    )
    assert table["restricted"] == [False, False, True, False, False, False, False]
    assert not any(table["closed"])


def test_the_noise_covers_the_error_of_each_link_difference():
    # Against a reference solved to a gap of 1e-12, every link's reported difference is
    # within its noise: the estimate is conservative on this network.
    network, demand = tiny_network(), congested_demand()
    scenario_network = apply_interventions(
        network, [{"type": "scale_capacity", "link_ids": [10], "factor": 0.3}]
    )
    base, scen, noise = run_pair(network, scenario_network, demand)
    exact = (
        assign(scenario_network, demand, relative_gap=1e-12).flow
        - assign(network, demand, relative_gap=1e-12).flow
    )
    error = np.abs(scen.flow - base.flow - exact)
    assert np.all(error <= noise.flow + 1e-9)
    # Link 10's loss (about 680 veh/h) is far above its noise: resolved.
    table = link_table(network, base, scenario_network, scen, noise)
    assert table["flow_delta"][0] == pytest.approx(-682, abs=5)
    assert table["delta_resolved"][0] is True


def test_sioux_falls_noise_covers_most_link_errors_and_the_tstt_error():
    folder = tntp_folder("SiouxFalls")
    network, _ = read_network(folder / "SiouxFalls_net.tntp")
    demand = read_demand(folder / "SiouxFalls_trips.tntp", network)
    links = network.node_ids[network.from_idx] * 100 + network.node_ids[network.to_idx]
    scenario_network = network.with_changes(closed=links == 1016)
    rule = {"algorithm": "bfw", "relative_gap": 1e-4, "max_iterations": 1000}
    base, scen, noise = run_pair(network, scenario_network, demand, rule)
    ref_base = assign(network, demand, relative_gap=1e-10, max_iterations=5000)
    ref_scen = assign(scenario_network, demand, relative_gap=1e-10, max_iterations=5000)
    error = np.abs((scen.flow - base.flow) - (ref_scen.flow - ref_base.flow))
    assert np.mean(error <= noise.flow) >= 0.95
    tstt_error = abs((scen.tstt - base.tstt) - (ref_scen.tstt - ref_base.tstt))
    assert tstt_error <= noise.total("tstt")
    # No link is reported as a resolved change in the wrong direction.
    delta, exact = scen.flow - base.flow, ref_scen.flow - ref_base.flow
    resolved_change = np.abs(delta) > noise.flow
    assert np.all(np.sign(delta[resolved_change]) == np.sign(exact[resolved_change]))


# --- the per-link table, CSV and GeoJSON --------------------------------------------------


def street_network():
    network = tiny_network()
    network.link_attrs = {
        "name": ["Calle A", "Calle A", "", "", "Calle B", "Calle B", "Calle C"],
        "road_class": ["residential"] * 7,
        "osm_way_id": [100, 100, 200, 201, 300, 300, None],
        "geometry": [[(-3.60, 37.17), (-3.595, 37.175), (-3.59, 37.18)]] + [None] * 6,
    }
    return network


def fake_result(flow, time=None):
    flow = np.asarray(flow, dtype=float)
    time = np.ones_like(flow) if time is None else np.asarray(time, dtype=float)
    return SimpleNamespace(flow=flow, time=time, vc=flow / 1000.0)


def test_streets_rank_by_vehicle_km_with_unnamed_ways_by_id():
    network = street_network()
    base = fake_result([100, 100, 50, 50, 10, 10, 500])
    scen = fake_result([0, 0, 150, 150, 12, 10, 400])
    scenario_network = network.with_changes(closed=np.array([1, 1, 0, 0, 0, 0, 0], dtype=bool))
    noise_flow = np.array([0, 0, 5, 5, 5, 0, 0], dtype=float)
    side = SideNoise(noise_flow, np.zeros(7), 0.0, 0.0, 0.0, 1, 2)
    zero = SideNoise(np.zeros(7), np.zeros(7), 0.0, 0.0, 0.0, 1, 2)
    table = link_table(network, base, scenario_network, scen, RunNoise(side, zero))
    streets = street_changes(table)
    assert streets["ranked_by"] == "vehicle_km_delta"
    # Lengths (km): 10: 2, 11: 2, 12: 3, 13: 3, 14: 2, 15: 2, 16: 2.
    gains = {s["street"]: s for s in streets["gains"]}
    assert list(gains) == ["way 200", "way 201", "Calle B"]  # +300, +300 (tie: by name), +4
    assert gains["way 200"]["vehicle_km_delta"] == pytest.approx(300.0)
    assert gains["way 200"]["vehicle_km_noise"] == pytest.approx(15.0)
    assert gains["way 200"]["resolved"] is True
    assert gains["Calle B"]["vehicle_km_noise"] == pytest.approx(10.0)
    assert gains["Calle B"]["resolved"] is False  # +4 veh-km against a noise of 10
    losses = streets["losses"]
    assert [s["street"] for s in losses] == ["Calle A", "Calle C"]  # -400, -200
    assert losses[0]["closed_links"] == 2 and losses[0]["osm_way_ids"] == [100]
    assert losses[0]["max_link_flow_loss"] == -100.0


def test_links_csv_and_geojson_carry_the_same_columns():
    network = street_network()
    base, scen = fake_result([100] * 7), fake_result([90, 100, 100, 100, 100, 100, 110])
    scenario_network = network.with_changes(
        capacity=network.capacity * np.array([1, 1, 1, 1, 1, 1, 0.5])
    )
    zero = SideNoise(np.zeros(7), np.zeros(7), 0.0, 0.0, 0.0, 1, 2)
    table = link_table(network, base, scenario_network, scen, RunNoise(zero, zero))
    rows = list(csv.DictReader(io.StringIO(links_csv(table).decode())))
    collection = json.loads(links_geojson(table, link_geometries(network, geographic=True)))
    assert collection["type"] == "FeatureCollection"
    features = collection["features"]
    assert list(rows[0]) == list(features[0]["properties"]) == list(table)
    required = {
        "link_id", "osm_way_id", "name", "road_class", "capacity", "baseline_flow",
        "baseline_time", "scenario_flow", "scenario_time", "flow_delta", "time_delta",
        "flow_noise", "delta_resolved", "closed", "restricted",
    }  # fmt: skip
    assert required <= set(table)
    first = features[0]
    assert first["geometry"] == {
        "type": "LineString",
        "coordinates": [[-3.60, 37.17], [-3.595, 37.175], [-3.59, 37.18]],
    }
    # Without a geometry attribute the line joins the end nodes (3 -> 2).
    assert features[1]["geometry"]["coordinates"] == [[-3.59, 37.18], [-3.58, 37.17]]
    assert first["properties"]["flow_delta"] == -10.0
    assert first["properties"]["name"] == "Calle A"
    assert features[2]["properties"]["name"] is None and rows[2]["name"] == ""
    assert features[6]["properties"]["restricted"] is True and rows[6]["restricted"] == "true"
    assert features[6]["properties"]["osm_way_id"] is None


def test_non_geographic_coordinates_give_null_geometry():
    network = tiny_network()
    assert link_geometries(network, geographic=False) == [None] * 7
    projected = network.with_changes(node_x=network.node_x * 1e5, node_y=network.node_y * 1e5)
    assert link_geometries(projected, geographic=True) == [None] * 7


def test_nan_becomes_null_in_geojson_and_empty_in_csv():
    network = tiny_network()
    base = fake_result([100.0] * 7)
    scen = fake_result([0.0] + [100.0] * 6, time=[float("nan")] + [1.0] * 6)
    closed = network.with_changes(closed=np.array([1, 0, 0, 0, 0, 0, 0], dtype=bool))
    table = link_table(network, base, closed, scen)
    feature = json.loads(links_geojson(table, link_geometries(network, True)))["features"][0]
    assert feature["properties"]["scenario_time"] is None
    assert feature["properties"]["time_delta"] is None
    assert feature["properties"]["flow_noise"] is None  # not estimated
    assert feature["properties"]["closed"] is True
    assert next(csv.DictReader(io.StringIO(links_csv(table).decode())))["time_delta"] == ""


def test_average_trip_time_is_tstt_over_assigned_demand():
    assert average_trip_time(SimpleNamespace(tstt=600.0, assigned_demand=150.0)) == 4.0
    assert average_trip_time(SimpleNamespace(tstt=0.0, assigned_demand=0.0)) is None
