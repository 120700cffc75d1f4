"""Running a scenario package: baseline, scenario and the differences between them.

The runner is what the CLI and the Celery task call: it reads the package's
network and demand, runs the baseline assignment and, when the package has
interventions, the scenario assignment with the package's stopping rule, and
returns the results summary (the JSON of DESIGN.md "Command-line contract")
and a per-link CSV.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import ENGINE_NAME, __version__
from .network import Demand, Network
from .package import LoadedPackage, schema_error
from .results import (
    NOISE_METHOD,
    RunNoise,
    SideNoise,
    average_trip_time,
    earlier_iterate,
    link_geometries,
    link_table,
    links_csv,
    links_geojson,
    resolved,
    side_trip_time_noise,
    street_changes,
)

if TYPE_CHECKING:
    from .assignment import AssignmentResult

OVERRIDABLE = ("algorithm", "relative_gap", "max_iterations")
MAX_LISTED_PAIRS = 100  # unassigned OD pairs listed per side; the count is always complete
DELTA_KEYS = ("tstt", "average_trip_time", "vehicle_km", "unassigned_demand", "objective")

StageProgress = Callable[[str, int, float, float], None]


class OverrideError(ValueError):
    """A run parameter override is unknown or invalid."""


@dataclass
class RunOutput:
    """What a run produces: the results summary, per-link results and the raw results.

    ``links`` is the per-link table (columns, network link order); ``links_csv`` and
    ``links_geojson`` are it written as CSV and as a GeoJSON FeatureCollection.
    """

    summary: dict
    links_csv: bytes
    baseline: AssignmentResult
    scenario: AssignmentResult | None
    links: dict[str, list]
    links_geojson: bytes
    noise: RunNoise | None = None

    def summary_json(self) -> bytes:
        """The summary as UTF-8 JSON (strict: no NaN or Infinity)."""
        return summary_to_json(self.summary)

    def write_json(self, path: str | Path) -> None:
        """Write the summary JSON to ``path``."""
        Path(path).write_bytes(self.summary_json())


def summary_to_json(summary: dict) -> bytes:
    """Serialise a results summary; non-finite numbers must already be None."""
    return (json.dumps(summary, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()


def validate_overrides(overrides: dict | None) -> dict:
    """Check run parameter overrides on their own (e.g. when a run is requested).

    Only ``algorithm``, ``relative_gap`` and ``max_iterations`` may be set, with
    the types and ranges of the package schema; returns them as a new dict.
    """
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(OVERRIDABLE))
    if unknown:
        raise OverrideError(
            f"overrides: unknown parameter {unknown[0]!r} (allowed: {', '.join(OVERRIDABLE)})"
        )
    problem = schema_error(
        overrides, "scenario-v1.schema.json", "overrides", definition="assignment"
    )
    if problem:
        raise OverrideError(problem)
    gap = overrides.get("relative_gap")
    if gap is not None and not math.isfinite(gap):
        raise OverrideError(f"overrides: relative_gap must be a finite number, not {gap!r}")
    iterations = overrides.get("max_iterations")
    if iterations is not None and not isinstance(iterations, int):
        # JSON Schema counts 10.0 as an integer; the solver needs a real one.
        raise OverrideError(f"overrides: max_iterations must be a whole number, not {iterations!r}")
    return overrides


def assignment_rule(pkg: LoadedPackage, overrides: dict | None = None) -> dict:
    """The package's stopping rule with validated run overrides applied."""
    rule = pkg.assignment | validate_overrides(overrides)
    rule["max_iterations"] = int(rule["max_iterations"])  # a package may write 10.0
    return rule


def run_package(
    pkg: LoadedPackage,
    overrides: dict | None = None,
    progress: StageProgress | None = None,
    *,
    estimate_noise: bool = True,
) -> RunOutput:
    """Run the baseline and (if the package has interventions) the scenario assignment.

    ``overrides`` may set ``algorithm``, ``relative_gap`` and ``max_iterations``;
    anything else is an :class:`OverrideError`. ``progress(stage, iteration,
    gap, elapsed_s)`` is called once per iteration with stage "baseline" or
    "scenario". Invalid interventions raise InterventionError. With a scenario and
    ``estimate_noise``, each side is re-run (without progress) to the iterate its
    convergence noise is measured from (docs/results.md).
    """
    rule = assignment_rule(pkg, overrides)
    network = pkg.network()
    demand = pkg.demand(network)
    scenario_network, resolved = None, []
    if pkg.interventions:
        scenario_network, resolved = pkg.scenario_network(network)
    baseline = _assign(pkg, network, demand, rule, "baseline", progress)
    scenario = noise = None
    if scenario_network is not None:
        scenario = _assign(pkg, scenario_network, demand, rule, "scenario", progress)
        if estimate_noise:
            noise = RunNoise(
                baseline=SideNoise.between(
                    baseline, earlier_iterate(network, demand, baseline, rule, pkg.cost)
                ),
                scenario=SideNoise.between(
                    scenario,
                    earlier_iterate(scenario_network, demand, scenario, rule, pkg.cost),
                ),
            )
    summary = build_summary(pkg, rule, baseline, scenario, scenario_network, noise)
    # What each (possibly portable) intervention resolved to on this network, with a
    # warning where a rule matched nothing.
    summary["interventions"]["resolved"] = [item.as_dict() for item in resolved]
    summary["demand"] = {"synthetic": demand.synthetic, "description": demand.description}
    table = link_table(network, baseline, scenario_network, scenario, noise)
    if scenario is not None:
        summary["streets"] = street_changes(table)
    geographic = pkg.scenario["network"]["format"] == "gmns"  # GMNS x/y are WGS84 lon/lat
    return RunOutput(
        summary=summary,
        links_csv=links_csv(table),
        baseline=baseline,
        scenario=scenario,
        links=table,
        links_geojson=links_geojson(table, link_geometries(network, geographic)),
        noise=noise,
    )


def _assign(
    pkg: LoadedPackage,
    network: Network,
    demand: Demand,
    rule: dict,
    stage: str,
    progress: StageProgress | None,
):
    # Imported here so that loading and validating packages does not need the solver.
    from .assignment import assign

    def on_iteration(iteration: int, gap: float, elapsed_s: float) -> None:
        progress(stage, iteration, gap, elapsed_s)

    return assign(
        network,
        demand,
        algorithm=rule["algorithm"],
        relative_gap=rule["relative_gap"],
        max_iterations=rule["max_iterations"],
        toll_weight=pkg.cost["toll_weight"],
        distance_weight=pkg.cost["distance_weight"],
        progress=on_iteration if progress else None,
    )


# --- summary ------------------------------------------------------------------------------


def _number(value) -> float | int | None:
    """A JSON-safe number: Python int/float, None for missing or non-finite values."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    value = float(value)
    return value if math.isfinite(value) else None


def side_summary(result) -> dict:
    """The summary of one assignment (baseline or scenario)."""
    pairs = list(result.unassigned_pairs)
    return {
        "tstt": _number(result.tstt),
        "objective": _number(result.objective),
        "relative_gap": _number(result.relative_gap),
        "iterations": int(result.iterations),
        "converged": bool(result.converged),
        "total_demand": _number(result.total_demand),
        "unassigned_demand": _number(result.unassigned_demand),
        "unassigned_pairs_count": len(pairs),
        "unassigned_pairs": [
            {"origin": int(o), "destination": int(d), "demand": _number(v)}
            for o, d, v in pairs[:MAX_LISTED_PAIRS]
        ],
        "vehicle_km": _number(result.vehicle_km),
        "assigned_demand": _number(getattr(result, "assigned_demand", None)),
        "average_trip_time": _number(average_trip_time(result)),
        "runtime_s": _number(result.runtime_s),
        "gap_history": [_number(gap) for gap in result.gap_history],
    }


def delta_summary(baseline: dict, scenario: dict, noise: dict | None = None) -> dict:
    """Scenario minus baseline, absolute and in percent of the baseline (None when undefined).

    With ``noise`` (key -> noise of the difference, None when unknown), each entry also
    has ``noise`` and ``resolved`` (False when the absolute difference is below its noise).
    """
    delta = {}
    for key in DELTA_KEYS:
        before, after = baseline[key], scenario[key]
        entry = {"absolute": None, "percent": None}
        if before is not None and after is not None:
            percent = (after - before) / before * 100.0 if before != 0 else None
            entry = {"absolute": _number(after - before), "percent": _number(percent)}
        if noise is not None:
            entry["noise"] = _number(noise.get(key))
            entry["resolved"] = resolved(entry["absolute"], entry["noise"])
        delta[key] = entry
    return delta


def _total_noise(noise: RunNoise, baseline, scenario) -> dict:
    totals = {key: noise.total(key) for key in DELTA_KEYS if key != "average_trip_time"}
    totals["average_trip_time"] = side_trip_time_noise(
        noise.baseline, baseline
    ) + side_trip_time_noise(noise.scenario, scenario)
    return totals


def noise_summary(noise: RunNoise, delta: np.ndarray) -> dict:
    """How the noise was estimated, and how many link differences it leaves unresolved.

    ``links_changed_resolved`` counts links whose |flow delta| exceeds its noise.
    """
    unresolved = np.abs(delta) < noise.flow
    changed = np.abs(delta) > noise.flow
    return {
        "method": NOISE_METHOD,
        "baseline": noise.baseline.as_dict(),
        "scenario": noise.scenario.as_dict(),
        "links_unresolved": int(np.count_nonzero(unresolved)),
        "links_changed_resolved": int(np.count_nonzero(changed)),
        "max_link_flow_noise": _number(noise.flow.max()) if len(delta) else 0.0,
    }


def build_summary(
    pkg: LoadedPackage, rule: dict, baseline, scenario, scenario_network, noise=None
) -> dict:
    """The results summary dict (DESIGN.md "Command-line contract", plus run settings).

    ``scenario`` and ``delta`` are present only when the package has interventions,
    ``noise`` only when it was estimated (then each delta entry has noise and resolved).
    """
    closed = int(np.count_nonzero(scenario_network.closed)) if scenario_network else 0
    summary = {
        "package": {"name": pkg.name, "version": pkg.version, "sha256": pkg.sha256},
        "engine": {"name": ENGINE_NAME, "version": __version__},
        "assignment": dict(rule),
        "cost": pkg.cost,
        "interventions": {"count": len(pkg.interventions), "closed_links": closed},
        "baseline": side_summary(baseline),
    }
    if scenario is not None:
        summary["scenario"] = side_summary(scenario)
        totals = _total_noise(noise, baseline, scenario) if noise else None
        summary["delta"] = delta_summary(summary["baseline"], summary["scenario"], totals)
        if noise is not None:
            flow_delta = np.asarray(scenario.flow, dtype=float) - baseline.flow
            summary["noise"] = noise_summary(noise, flow_delta)
    return summary
