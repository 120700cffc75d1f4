"""Running a scenario package: baseline, scenario and the differences between them.

The runner is what the CLI and the Celery task call: it reads the package's
network and demand, runs the baseline assignment and, when the package has
interventions, the scenario assignment with the package's stopping rule, and
returns the results summary (the JSON of DESIGN.md "Command-line contract")
and a per-link CSV.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import ENGINE_NAME, __version__
from .interventions import apply_interventions
from .network import Demand, Network
from .package import LoadedPackage, schema_error

if TYPE_CHECKING:
    from .assignment import AssignmentResult

OVERRIDABLE = ("algorithm", "relative_gap", "max_iterations")
MAX_LISTED_PAIRS = 100  # unassigned OD pairs listed per side; the count is always complete
DELTA_KEYS = ("tstt", "vehicle_km", "unassigned_demand", "objective")

StageProgress = Callable[[str, int, float, float], None]


class OverrideError(ValueError):
    """A run parameter override is unknown or invalid."""


@dataclass
class RunOutput:
    """What a run produces: the results summary, per-link results and the raw results."""

    summary: dict
    links_csv: bytes
    baseline: AssignmentResult
    scenario: AssignmentResult | None

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
    pkg: LoadedPackage, overrides: dict | None = None, progress: StageProgress | None = None
) -> RunOutput:
    """Run the baseline and (if the package has interventions) the scenario assignment.

    ``overrides`` may set ``algorithm``, ``relative_gap`` and ``max_iterations``;
    anything else is an :class:`OverrideError`. ``progress(stage, iteration,
    gap, elapsed_s)`` is called once per iteration with stage "baseline" or
    "scenario". Invalid interventions raise InterventionError.
    """
    rule = assignment_rule(pkg, overrides)
    network = pkg.network()
    demand = pkg.demand(network)
    scenario_network = (
        apply_interventions(network, pkg.interventions) if pkg.interventions else None
    )
    baseline = _assign(pkg, network, demand, rule, "baseline", progress)
    scenario = None
    if scenario_network is not None:
        scenario = _assign(pkg, scenario_network, demand, rule, "scenario", progress)
    summary = build_summary(pkg, rule, baseline, scenario, scenario_network)
    summary["demand"] = {"synthetic": demand.synthetic, "description": demand.description}
    csv_bytes = links_csv(network, baseline, scenario_network, scenario)
    return RunOutput(summary=summary, links_csv=csv_bytes, baseline=baseline, scenario=scenario)


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
        "runtime_s": _number(result.runtime_s),
        "gap_history": [_number(gap) for gap in result.gap_history],
    }


def delta_summary(baseline: dict, scenario: dict) -> dict:
    """Scenario minus baseline, absolute and in percent of the baseline (None when undefined)."""
    delta = {}
    for key in DELTA_KEYS:
        before, after = baseline[key], scenario[key]
        if before is None or after is None:
            delta[key] = {"absolute": None, "percent": None}
            continue
        percent = (after - before) / before * 100.0 if before != 0 else None
        delta[key] = {"absolute": _number(after - before), "percent": _number(percent)}
    return delta


def build_summary(pkg: LoadedPackage, rule: dict, baseline, scenario, scenario_network) -> dict:
    """The results summary dict (DESIGN.md "Command-line contract", plus run settings).

    ``scenario`` and ``delta`` are present only when the package has interventions.
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
        summary["delta"] = delta_summary(summary["baseline"], summary["scenario"])
    return summary


# --- per-link results ---------------------------------------------------------------------


def _cell(value: float) -> str:
    return repr(float(value)) if math.isfinite(value) else ""


def links_csv(network: Network, baseline, scenario_network: Network | None, scenario) -> bytes:
    """Per-link results as CSV: baseline flow, time and v/c, and the scenario's when there is one.

    Non-finite values (v/c of a closed link) are empty cells.
    """
    columns = {
        "link_id": network.link_ids.tolist(),
        "from_node_id": network.node_ids[network.from_idx].tolist(),
        "to_node_id": network.node_ids[network.to_idx].tolist(),
        "baseline_flow": [_cell(v) for v in baseline.flow],
        "baseline_time": [_cell(v) for v in baseline.time],
        "baseline_vc": [_cell(v) for v in baseline.vc],
    }
    if scenario is not None:
        columns |= {
            "scenario_flow": [_cell(v) for v in scenario.flow],
            "scenario_time": [_cell(v) for v in scenario.time],
            "scenario_vc": [_cell(v) for v in scenario.vc],
            "flow_delta": [_cell(v) for v in np.asarray(scenario.flow) - baseline.flow],
            "closed": ["true" if c else "false" for c in scenario_network.closed],
        }
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(zip(*columns.values(), strict=True))
    return buffer.getvalue().encode("utf-8")
