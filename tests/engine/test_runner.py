"""Running packages: baseline, scenario, differences and per-link results."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from twins.engine import ENGINE_NAME, __version__
from twins.engine.package import load_package, pack_tntp
from twins.engine.runner import (
    MAX_LISTED_PAIRS,
    OverrideError,
    run_package,
    validate_overrides,
)

from .package_helpers import tiny_package, tntp_folder

SIDE_KEYS = {
    "tstt", "objective", "relative_gap", "iterations", "converged", "total_demand",
    "unassigned_demand", "unassigned_pairs", "unassigned_pairs_count", "vehicle_km",
    "runtime_s", "gap_history", "assigned_demand", "average_trip_time",
}  # fmt: skip
DELTA_KEYS = {"tstt", "average_trip_time", "vehicle_km", "unassigned_demand", "objective"}


@pytest.fixture(scope="module")
def sioux_falls_run(tmp_path_factory):
    """SiouxFalls with link 10-16 closed, run once for the module (it takes about a second)."""
    path = tmp_path_factory.mktemp("sf") / "sf.zip"
    pack_tntp(tntp_folder("SiouxFalls"), path, close=[(10, 16)])
    stages = []
    output = run_package(load_package(path), progress=lambda *args: stages.append(args))
    return output, stages


def rows(links_csv: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(links_csv.decode())))


def test_sioux_falls_closure_gives_baseline_scenario_and_delta(sioux_falls_run):
    summary = sioux_falls_run[0].summary
    assert summary["package"]["name"] == "siouxfalls"
    assert summary["engine"] == {"name": ENGINE_NAME, "version": __version__}
    assert set(summary["baseline"]) == SIDE_KEYS
    assert set(summary["scenario"]) == SIDE_KEYS
    for side in (summary["baseline"], summary["scenario"]):
        assert side["relative_gap"] <= 1e-4  # the package's stopping rule
        assert side["total_demand"] == 360600.0
        assert side["unassigned_demand"] == 0.0
    # Closing a link can only make the user equilibrium costlier on this network.
    assert summary["scenario"]["tstt"] > summary["baseline"]["tstt"]
    tstt = summary["delta"]["tstt"]
    assert tstt["absolute"] == pytest.approx(
        summary["scenario"]["tstt"] - summary["baseline"]["tstt"]
    )
    assert tstt["percent"] == pytest.approx(tstt["absolute"] / summary["baseline"]["tstt"] * 100)
    assert set(summary["delta"]) == DELTA_KEYS
    for entry in summary["delta"].values():
        assert set(entry) == {"absolute", "percent", "noise", "resolved"}
    assert tstt["resolved"] is True and 0 <= tstt["noise"] < abs(tstt["absolute"])


def test_every_difference_carries_its_noise(sioux_falls_run):
    output = sioux_falls_run[0]
    summary, table = output.summary, output.links
    noise = summary["noise"]
    assert 1 <= noise["baseline"]["reference_iteration"] < noise["baseline"]["final_iteration"]
    assert noise["baseline"]["final_iteration"] == summary["baseline"]["iterations"]
    assert noise["links_unresolved"] == sum(
        abs(d) < n for d, n in zip(table["flow_delta"], table["flow_noise"], strict=True)
    )
    assert all(
        r is (abs(d) >= n)
        for d, n, r in zip(
            table["flow_delta"], table["flow_noise"], table["delta_resolved"], strict=True
        )
    )
    assert summary["delta"]["unassigned_demand"]["noise"] == 0.0  # reachability is exact


def test_average_trip_time_is_tstt_per_assigned_trip(sioux_falls_run):
    summary = sioux_falls_run[0].summary
    for side in (summary["baseline"], summary["scenario"]):
        assert side["average_trip_time"] == pytest.approx(side["tstt"] / side["assigned_demand"])


def test_tntp_links_have_no_streets_and_no_map_geometry(sioux_falls_run):
    output = sioux_falls_run[0]
    assert output.summary["streets"]["gains"] == [] == output.summary["streets"]["losses"]
    features = json.loads(output.links_geojson)["features"]
    assert len(features) == 76 and all(f["geometry"] is None for f in features)


def test_sioux_falls_lengths_are_unknown_so_vehicle_km_is_null(sioux_falls_run):
    summary = sioux_falls_run[0].summary
    assert summary["baseline"]["vehicle_km"] is None
    assert summary["delta"]["vehicle_km"] == {
        "absolute": None,
        "percent": None,
        "noise": None,
        "resolved": None,
    }


def test_links_csv_shows_the_closed_link_empty_in_the_scenario(sioux_falls_run):
    links = rows(sioux_falls_run[0].links_csv)
    assert list(links[0]) == [
        "link_id", "from_node_id", "to_node_id", "osm_way_id", "name", "road_class",
        "length_km", "capacity", "baseline_flow", "baseline_time", "baseline_vc",
        "scenario_capacity", "scenario_flow", "scenario_time", "scenario_vc", "flow_delta",
        "time_delta", "flow_noise", "time_noise", "delta_resolved", "closed", "restricted",
    ]  # fmt: skip
    assert len(links) == 76
    closed = [row for row in links if row["closed"] == "true"]
    assert [(row["from_node_id"], row["to_node_id"]) for row in closed] == [("10", "16")]
    assert float(closed[0]["scenario_flow"]) == 0.0
    assert closed[0]["scenario_vc"] == ""  # v/c of a closed link is undefined
    assert float(closed[0]["baseline_flow"]) > 0
    assert closed[0]["delta_resolved"] == "true"  # the whole flow leaves: far above noise
    assert {row["restricted"] for row in links} == {"false"}


def test_a_gmns_package_gets_streets_and_a_map(tmp_path):
    path = tiny_package(tmp_path / "tiny.zip", [{"type": "close_links", "link_ids": [10]}])
    output = run_package(load_package(path))
    features = json.loads(output.links_geojson)["features"]
    # No geometry column: each line joins its end nodes' lon/lat.
    assert features[0]["geometry"]["coordinates"] == [[-3.60, 37.17], [-3.59, 37.18]]
    assert features[0]["properties"]["closed"] is True
    # Unnamed links without OSM ways are not streets.
    assert output.summary["streets"]["gains"] == [] == output.summary["streets"]["losses"]


def test_noise_can_be_skipped(tmp_path):
    path = tiny_package(tmp_path / "tiny.zip", [{"type": "close_links", "link_ids": [10]}])
    output = run_package(load_package(path), estimate_noise=False)
    assert "noise" not in output.summary and output.noise is None
    assert set(output.summary["delta"]["tstt"]) == {"absolute", "percent"}
    assert set(output.links["delta_resolved"]) == {None}


def test_progress_is_reported_per_stage(sioux_falls_run):
    output, stages = sioux_falls_run
    baseline = [s for s in stages if s[0] == "baseline"]
    scenario = [s for s in stages if s[0] == "scenario"]
    assert len(baseline) == output.summary["baseline"]["iterations"]
    assert len(scenario) == output.summary["scenario"]["iterations"]
    assert baseline[0][1] == 1


def test_summary_json_is_strict_json(sioux_falls_run, tmp_path):
    output = sioux_falls_run[0]
    output.write_json(tmp_path / "summary.json")
    text = (tmp_path / "summary.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == output.summary


def test_a_package_without_interventions_has_no_scenario(tmp_path):
    output = run_package(load_package(tiny_package(tmp_path / "tiny.zip")))
    assert "scenario" not in output.summary
    assert "delta" not in output.summary
    assert list(rows(output.links_csv)[0])[-1] == "baseline_vc"


def test_the_tiny_network_knows_its_vehicle_km(tmp_path):
    output = run_package(load_package(tiny_package(tmp_path / "tiny.zip")))
    # Every trip drives 4 km (1-3-2 or 1-4-2 is 4 km, 2-3-1 is 4 km): 150 trips.
    assert output.summary["baseline"]["vehicle_km"] == pytest.approx(600.0, rel=1e-9)


def test_demand_cut_off_by_a_closure_is_reported_unassigned(tmp_path):
    path = tiny_package(tmp_path / "tiny.zip", [{"type": "close_links", "link_ids": [15]}])
    summary = run_package(load_package(path)).summary
    scenario = summary["scenario"]
    assert scenario["unassigned_demand"] == 50.0
    assert scenario["unassigned_pairs"] == [{"origin": 2, "destination": 1, "demand": 50.0}]
    assert scenario["unassigned_pairs_count"] == 1
    assert summary["delta"]["unassigned_demand"] == {
        "absolute": 50.0,
        "percent": None,
        "noise": 0.0,
        "resolved": True,
    }


def test_overrides_change_the_stopping_rule(tmp_path):
    package = load_package(tiny_package(tmp_path / "tiny.zip"))
    summary = run_package(package, overrides={"max_iterations": 1, "algorithm": "fw"}).summary
    assert summary["assignment"] == {"algorithm": "fw", "relative_gap": 1e-6, "max_iterations": 1}
    assert summary["baseline"]["iterations"] == 1


def test_unknown_override_is_refused(tmp_path):
    package = load_package(tiny_package(tmp_path / "tiny.zip"))
    with pytest.raises(OverrideError, match="overrides: unknown parameter 'gap'"):
        run_package(package, overrides={"gap": 1e-3})


def test_mistyped_override_is_refused_with_its_name(tmp_path):
    package = load_package(tiny_package(tmp_path / "tiny.zip"))
    with pytest.raises(OverrideError) as caught:
        run_package(package, overrides={"relative_gap": "abc"})
    assert str(caught.value) == "overrides.relative_gap: 'abc' is not of type 'number'"


def test_overrides_can_be_checked_before_a_run_is_queued():
    assert validate_overrides({"relative_gap": 1e-5}) == {"relative_gap": 1e-5}
    with pytest.raises(OverrideError, match="overrides.max_iterations: 0 is less than"):
        validate_overrides({"max_iterations": 0})
    with pytest.raises(OverrideError, match="overrides.algorithm: 'newton' is not one of"):
        validate_overrides({"algorithm": "newton"})


def test_the_unassigned_pair_list_is_capped_but_counted():
    from twins.engine.runner import side_summary

    class Result:
        tstt = objective = relative_gap = total_demand = unassigned_demand = 1.0
        iterations, converged, vehicle_km, runtime_s, gap_history = 1, True, None, 0.1, [0.5]
        unassigned_pairs = [(1, d, 1.0) for d in range(MAX_LISTED_PAIRS + 5)]
        assigned_demand = 1.0

    side = side_summary(Result())
    assert len(side["unassigned_pairs"]) == MAX_LISTED_PAIRS
    assert side["unassigned_pairs_count"] == MAX_LISTED_PAIRS + 5


@pytest.mark.parametrize(
    "overrides",
    [{"max_iterations": 10.0}, {"relative_gap": float("nan")}, {"relative_gap": float("inf")}],
    ids=["float-iterations", "nan-gap", "inf-gap"],
)
def test_overrides_that_would_crash_the_solver_are_refused(overrides):
    # Regression: these passed validation and failed (or ran 1000 iterations) later.
    from twins.engine.runner import OverrideError, validate_overrides

    with pytest.raises(OverrideError, match=next(iter(overrides))):
        validate_overrides(overrides)


def test_the_summary_says_what_each_portable_intervention_resolved_to(tmp_path):
    from twins.engine.osm import import_osm_package

    town = Path(__file__).parent / "fixtures" / "town.osm"
    package = tmp_path / "town.zip"
    import_osm_package(town, package, template="school-streets", zone_size_m=300.0)
    summary = run_package(load_package(package), estimate_noise=False).summary
    (resolved,) = summary["interventions"]["resolved"]
    assert resolved["type"] == "restrict_area"
    assert resolved["links"] == summary["interventions"]["closed_links"] > 0
    assert resolved["features"] >= 1
