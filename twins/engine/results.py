"""Results a technician can read: per-link table, streets, trip time and convergence noise.

Given the baseline and scenario assignments of a run, this module builds

- the per-link table (ids, OSM way id, street name, road class, capacity, baseline and
  scenario flow and time, their differences, the convergence noise of the difference,
  whether it is resolved, and whether the link is closed or restricted), written as CSV
  or as a GeoJSON FeatureCollection of LineStrings in WGS84;
- the streets that gain and lose the most traffic (grouped by name, by OSM way where
  unnamed), ranked by their change in vehicle-km;
- the noise of each reported difference, and whether the difference is resolved.

Convergence noise (docs/results.md): the solver is deterministic, so re-running it
with ``max_iterations = k`` returns exactly its k-th iterate. For each side, the
reference iterate k is the first whose relative gap was at most ``NOISE_GAP_FACTOR``
times the stopping gap (the final gap when the run stopped at its iteration limit),
and at most the iteration before the last; the noise of a quantity
on one side is how much it changed from iterate k to the final one, and the noise of a
difference is the sum of the two sides' noises. A difference is *unresolved* when its
absolute value is smaller than its noise.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .network import Demand, Network

NOISE_GAP_FACTOR = 10.0  # reference iterate: the first with gap <= 10 x the final gap
TOP_STREETS = 10  # streets listed per side (gains, losses)
MAX_LISTED_WAYS = 20  # OSM way ids listed per street

NOISE_METHOD = (
    "per side, the change of each quantity between the final iterate and the first "
    f"iterate whose relative gap was at most {NOISE_GAP_FACTOR:g} times the stopping gap "
    "(re-run of the deterministic solver); the noise of a difference is the sum of the "
    "baseline's and the scenario's; a difference is unresolved when |delta| < noise"
)


# --- convergence noise --------------------------------------------------------------------


def reference_iteration(
    gap_history: Sequence[float], target_gap: float = 0.0, factor: float = NOISE_GAP_FACTOR
) -> int:
    """The iterate the noise is measured from, numbered from 1.

    The first iterate whose gap was at most ``factor`` times the larger of the final
    gap and the target gap, and at most the one before the last; 0 when the run
    stopped at its first iterate (there is no earlier one).
    """
    iterations = len(gap_history)
    if iterations <= 1:
        return 0
    threshold = factor * max(gap_history[-1], target_gap)
    for k, gap in enumerate(gap_history, start=1):
        if gap <= threshold:
            return min(k, iterations - 1)
    return iterations - 1  # the final gap is NaN or inf: compare with the previous iterate


def earlier_iterate(network: Network, demand: Demand, result, rule: dict, cost: dict):
    """The assignment re-run to its reference iterate (None when there is no earlier one).

    ``rule`` is the run's stopping rule and ``cost`` the package's cost weights, so the
    re-run follows the same trajectory; it reports no progress.
    """
    from .assignment import assign

    k = reference_iteration(result.gap_history, rule["relative_gap"])
    if k < 1:
        return None
    earlier = assign(
        network,
        demand,
        algorithm=rule["algorithm"],
        relative_gap=0.0,
        max_iterations=k,
        toll_weight=cost["toll_weight"],
        distance_weight=cost["distance_weight"],
    )
    if list(earlier.gap_history) != list(result.gap_history[:k]):
        raise RuntimeError("the solver did not repeat its trajectory; cannot estimate noise")
    return earlier


@dataclass
class SideNoise:
    """How much one side's results moved since its reference iterate (all >= 0)."""

    flow: np.ndarray  # per link, |x_final - x_k|
    time: np.ndarray  # per link, |t_final - t_k| (0 on closed links)
    tstt: float
    vehicle_km: float | None
    objective: float
    reference_iteration: int
    final_iteration: int

    @classmethod
    def between(cls, result, earlier) -> SideNoise:
        """The noise of ``result`` measured against its ``earlier`` iterate (or none: 0)."""
        if earlier is None:
            zeros = np.zeros(len(result.flow))
            vkm = None if result.vehicle_km is None else 0.0
            return cls(zeros, zeros.copy(), 0.0, vkm, 0.0, result.iterations, result.iterations)
        vkm = None
        if result.vehicle_km is not None and earlier.vehicle_km is not None:
            vkm = abs(result.vehicle_km - earlier.vehicle_km)
        return cls(
            flow=np.abs(np.asarray(result.flow) - earlier.flow),
            time=np.nan_to_num(np.abs(np.asarray(result.time) - earlier.time), nan=0.0),
            tstt=abs(result.tstt - earlier.tstt),
            vehicle_km=vkm,
            objective=abs(result.objective - earlier.objective),
            reference_iteration=earlier.iterations,
            final_iteration=result.iterations,
        )

    def as_dict(self) -> dict:
        return {
            "reference_iteration": self.reference_iteration,
            "final_iteration": self.final_iteration,
        }


@dataclass
class RunNoise:
    """The noise of baseline and scenario; differences use the sum of the two."""

    baseline: SideNoise
    scenario: SideNoise

    @property
    def flow(self) -> np.ndarray:
        return self.baseline.flow + self.scenario.flow

    @property
    def time(self) -> np.ndarray:
        return self.baseline.time + self.scenario.time

    def total(self, key: str) -> float | None:
        """Noise of the difference of a summary total (tstt, vehicle_km, objective, ...)."""
        if key == "unassigned_demand":
            return 0.0  # reachability does not depend on the flows: exact
        before, after = getattr(self.baseline, key), getattr(self.scenario, key)
        if before is None or after is None:
            return None
        return before + after


def resolved(delta: float | None, noise: float | None) -> bool | None:
    """A difference is resolved unless it is smaller than its noise (None when unknown)."""
    if delta is None or noise is None or not (math.isfinite(delta) and math.isfinite(noise)):
        return None
    return bool(abs(delta) >= noise)


# --- per-link table -----------------------------------------------------------------------


def _attr(network: Network, key: str) -> list:
    values = network.link_attrs.get(key)
    return list(values) if values is not None else [None] * network.n_links


def link_table(
    network: Network,
    baseline,
    scenario_network: Network | None = None,
    scenario=None,
    noise: RunNoise | None = None,
) -> dict[str, list]:
    """Per-link results as columns (network link order); floats may be NaN.

    Without a scenario only the baseline columns are present. ``flow_noise`` and
    ``time_noise`` are the noise of ``flow_delta`` and ``time_delta``; ``delta_resolved``
    is ``|flow_delta| >= flow_noise`` (None when no noise was estimated).
    """
    names = [name or None for name in _attr(network, "name")]
    table: dict[str, list] = {
        "link_id": network.link_ids.tolist(),
        "from_node_id": network.node_ids[network.from_idx].tolist(),
        "to_node_id": network.node_ids[network.to_idx].tolist(),
        "osm_way_id": [None if w is None else int(w) for w in _attr(network, "osm_way_id")],
        "name": names,
        "road_class": [c or None for c in _attr(network, "road_class")],
        "length_km": np.asarray(network.length_km, dtype=float).tolist(),
        "capacity": np.asarray(network.capacity, dtype=float).tolist(),
        "baseline_flow": np.asarray(baseline.flow, dtype=float).tolist(),
        "baseline_time": np.asarray(baseline.time, dtype=float).tolist(),
        "baseline_vc": np.asarray(baseline.vc, dtype=float).tolist(),
    }
    if scenario is None or scenario_network is None:
        return table
    flow_delta = np.asarray(scenario.flow, dtype=float) - baseline.flow
    time_delta = np.asarray(scenario.time, dtype=float) - baseline.time
    closed = np.asarray(scenario_network.closed, dtype=bool)
    changed = (np.asarray(scenario_network.capacity, dtype=float) != network.capacity) | (
        np.asarray(scenario_network.free_flow_time, dtype=float) != network.free_flow_time
    )
    table |= {
        "scenario_capacity": np.asarray(scenario_network.capacity, dtype=float).tolist(),
        "scenario_flow": np.asarray(scenario.flow, dtype=float).tolist(),
        "scenario_time": np.asarray(scenario.time, dtype=float).tolist(),
        "scenario_vc": np.asarray(scenario.vc, dtype=float).tolist(),
        "flow_delta": flow_delta.tolist(),
        "time_delta": time_delta.tolist(),
        "flow_noise": noise.flow.tolist() if noise else [None] * network.n_links,
        "time_noise": noise.time.tolist() if noise else [None] * network.n_links,
        "delta_resolved": (
            [bool(r) for r in np.abs(flow_delta) >= noise.flow]
            if noise
            else [None] * network.n_links
        ),
        "closed": closed.tolist(),
        "restricted": (changed & ~closed).tolist(),
    }
    return table


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def links_csv(table: dict[str, list]) -> bytes:
    """The per-link table as UTF-8 CSV; NaN and None are empty cells, booleans true/false."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table)
    for row in zip(*table.values(), strict=True):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def _json_value(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _is_lon_lat(x: float, y: float) -> bool:
    return math.isfinite(x) and math.isfinite(y) and -180 <= x <= 180 and -90 <= y <= 90


def link_geometries(network: Network, geographic: bool) -> list[list[list[float]] | None]:
    """Each link's WGS84 line: its ``geometry`` attribute, else its end nodes' coordinates.

    None for a link when neither is known, or when the network's coordinates are not
    lon/lat (``geographic`` False, e.g. TNTP node files in feet or arbitrary units).
    """
    if not geographic:
        return [None] * network.n_links
    shapes = _attr(network, "geometry")
    xs = None if network.node_x is None else np.asarray(network.node_x, dtype=float)
    ys = None if network.node_y is None else np.asarray(network.node_y, dtype=float)
    lines: list[list[list[float]] | None] = []
    for i, shape in enumerate(shapes):
        line = None
        if shape is not None and len(shape) >= 2:
            points = [[float(x), float(y)] for x, y in shape]
            line = points if all(_is_lon_lat(x, y) for x, y in points) else None
        elif xs is not None and ys is not None:
            a, b = network.from_idx[i], network.to_idx[i]
            points = [[float(xs[a]), float(ys[a])], [float(xs[b]), float(ys[b])]]
            line = points if all(_is_lon_lat(x, y) for x, y in points) else None
        lines.append(line)
    return lines


def links_geojson(table: dict[str, list], geometries: Sequence[list | None]) -> bytes:
    """The per-link table as a GeoJSON FeatureCollection of LineStrings (RFC 7946, WGS84).

    Properties are the table's columns; NaN becomes null; links without a known
    geographic line have a null geometry.
    """
    keys = list(table)
    features = []
    for row, line in zip(zip(*table.values(), strict=True), geometries, strict=True):
        features.append(
            {
                "type": "Feature",
                "geometry": None if line is None else {"type": "LineString", "coordinates": line},
                "properties": {k: _json_value(v) for k, v in zip(keys, row, strict=True)},
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return (json.dumps(collection, ensure_ascii=False, allow_nan=False) + "\n").encode()


# --- streets and trip time ----------------------------------------------------------------


def street_key(name, osm_way_id) -> str | None:
    """A link's street: its name, else "way <id>" for an unnamed OSM way, else None."""
    if name:
        return str(name)
    if osm_way_id is not None:
        return f"way {int(osm_way_id)}"
    return None


def street_changes(table: dict[str, list], top: int = TOP_STREETS) -> dict:
    """The streets that gain and lose the most traffic, from a link table with a scenario.

    Streets are links grouped by name (by OSM way where unnamed; links with neither,
    such as centroid connectors, are left out). A street's change is the sum over its
    links of flow delta x length (vehicle-km per hour) when every length is known, else
    its largest link flow delta (veh/h) in the direction of the ranking; ``ranked_by``
    says which. Each street also carries its noise and whether the change is resolved.
    """
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(map(street_key, table["name"], table["osm_way_id"])):
        if key is not None:
            groups.setdefault(key, []).append(i)
    lengths = np.asarray(table["length_km"], dtype=float)
    by_vkm = bool(groups) and bool(np.all(np.isfinite(lengths[sum(groups.values(), [])])))
    delta = np.asarray(table["flow_delta"], dtype=float)
    noise_col = table.get("flow_noise")
    noise = (
        None
        if noise_col is None or any(v is None for v in noise_col)
        else np.asarray(noise_col, dtype=float)
    )
    streets = []
    for key, links in groups.items():
        idx = np.asarray(links)
        ways = sorted({table["osm_way_id"][i] for i in links if table["osm_way_id"][i] is not None})
        entry = {
            "street": key,
            "name": table["name"][links[0]],
            "osm_way_ids": ways[:MAX_LISTED_WAYS],
            "links": len(links),
            "closed_links": int(sum(bool(table["closed"][i]) for i in links)),
            "restricted_links": int(sum(bool(table["restricted"][i]) for i in links)),
            "vehicle_km_delta": None,
            "vehicle_km_noise": None,
            "max_link_flow_gain": float(max(delta[idx].max(), 0.0)),
            "max_link_flow_loss": float(min(delta[idx].min(), 0.0)),
        }
        if by_vkm:
            entry["vehicle_km_delta"] = float(delta[idx] @ lengths[idx])
            if noise is not None:
                entry["vehicle_km_noise"] = float(noise[idx] @ lengths[idx])
        streets.append((entry, idx))

    def ranked(sign: int) -> list[dict]:
        chosen = []
        for entry, idx in streets:
            if by_vkm:
                value, value_noise = entry["vehicle_km_delta"], entry["vehicle_km_noise"]
            else:
                pos = int(np.argmax(sign * delta[idx]))
                value = float(delta[idx][pos])
                value_noise = None if noise is None else float(noise[idx][pos])
            if sign * value > 0:
                chosen.append((sign * value, entry | {"resolved": resolved(value, value_noise)}))
        chosen.sort(key=lambda pair: (-pair[0], pair[1]["street"]))
        return [entry for _, entry in chosen[:top]]

    return {
        "ranked_by": "vehicle_km_delta" if by_vkm else "max_link_flow_delta",
        "units": "vehicle-km per hour" if by_vkm else "vehicles per hour",
        "gains": ranked(+1),
        "losses": ranked(-1),
    }


def average_trip_time(result) -> float | None:
    """TSTT / assigned demand: the mean trip time in minutes of the trips that were assigned."""
    assigned = float(getattr(result, "assigned_demand", 0.0) or 0.0)
    if assigned <= 0 or not math.isfinite(result.tstt):
        return None
    return float(result.tstt) / assigned


def side_trip_time_noise(side: SideNoise, result) -> float:
    """The noise of one side's average trip time (its TSTT noise over its assigned demand)."""
    assigned = float(getattr(result, "assigned_demand", 0.0) or 0.0)
    return side.tstt / assigned if assigned > 0 else 0.0
