"""Benchmark: our assignment engine against AequilibraE on the TNTP networks.

    .venv/bin/python bench/assignment.py [--networks SiouxFalls ...] [--gaps 1e-4 1e-5]

For each network and target relative gap, both engines solve the same problem (same
arrays, same demand, same generalised cost) with bi-conjugate Frank-Wolfe, in this
process, one after the other. Reported per engine: wall time, iterations, the relative
gap of the returned flows as computed by ``twins.engine.assignment.relative_gap`` (the
same independent check for both; an engine's own stopping test may report less), and
the error of the Beckmann objective against the best-known TNTP flows.

Timing: ours is the ``assign()`` call (graph building included; numba kernels compiled
beforehand by a warm-up); AequilibraE's is the in-memory graph and matrix set-up plus
``execute()``. File reading is excluded for both. AequilibraE is optional: without it,
ours is printed alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from twins.engine import __version__ as ENGINE_VERSION  # noqa: E402
from twins.engine.assignment import assign, beckmann_objective, relative_gap  # noqa: E402
from twins.engine.network import Demand, Network  # noqa: E402
from twins.engine.tntp import flow_array, read_demand, read_flow, read_network  # noqa: E402

NETWORKS = ("SiouxFalls", "Anaheim", "ChicagoSketch", "Winnipeg")
# AequilibraE rejects free-flow times of 0 (ChicagoSketch's centroid connectors); this
# floor changes the objective by about 1e-9 relative.
AEQ_MIN_FREE_FLOW_TIME = 1e-8


@dataclass
class Case:
    name: str
    network: Network
    demand: Demand
    toll_weight: float
    distance_weight: float
    reference_objective: float


@dataclass
class Outcome:
    seconds: float
    iterations: int
    own_gap: float  # the engine's own convergence measure
    gap: float  # relative_gap() of the returned flows
    objective_error: float  # (Z - Z_best_known) / Z_best_known


def data_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("RECI_SHARED_DATA"):
        return Path(os.environ["RECI_SHARED_DATA"]) / "tntp"
    return REPO.parent / "shared/data/tntp"


def load_case(folder: Path) -> Case:
    name = folder.name
    node = folder / f"{name}_node.tntp"
    network, meta = read_network(folder / f"{name}_net.tntp", node if node.exists() else None)
    tw, dw = meta.get("toll_weight", 0.0), meta.get("distance_weight", 0.0)
    reference = flow_array(read_flow(folder / f"{name}_flow.tntp"), network)
    return Case(
        name=name,
        network=network,
        demand=read_demand(folder / f"{name}_trips.tntp", network),
        toll_weight=tw,
        distance_weight=dw,
        reference_objective=beckmann_objective(network, reference, tw, dw),
    )


def judge(case: Case, flow: np.ndarray, seconds: float, iterations: int, own_gap: float) -> Outcome:
    """The same independent measures for any engine's flows."""
    weights = (case.toll_weight, case.distance_weight)
    objective = beckmann_objective(case.network, flow, *weights)
    return Outcome(
        seconds=seconds,
        iterations=iterations,
        own_gap=own_gap,
        gap=relative_gap(case.network, case.demand, flow, *weights),
        objective_error=(objective - case.reference_objective) / case.reference_objective,
    )


def run_ours(case: Case, gap: float, max_iterations: int) -> Outcome:
    started = time.perf_counter()
    result = assign(
        case.network,
        case.demand,
        algorithm="bfw",
        relative_gap=gap,
        max_iterations=max_iterations,
        toll_weight=case.toll_weight,
        distance_weight=case.distance_weight,
    )
    seconds = time.perf_counter() - started
    return judge(case, result.flow, seconds, result.iterations, result.relative_gap)


def warm_up(case: Case) -> None:
    """Compile (or load from cache) the numba kernels outside the timed runs."""
    assign(case.network, case.demand, max_iterations=3, relative_gap=0.0)


# ---------------------------------------------------------------------------------
# AequilibraE, built in memory from the same arrays
# ---------------------------------------------------------------------------------


def aequilibrae_available() -> str | None:
    """AequilibraE's version, or None when it cannot be imported."""
    os.environ.setdefault("AEQ_SHOW_PROGRESS", "FALSE")  # its tqdm bars cost time
    try:
        from importlib.metadata import version

        import aequilibrae.paths  # noqa: F401
    except ImportError:
        return None
    return version("aequilibrae")


def aequilibrae_links(network: Network, fixed: np.ndarray):
    import pandas as pd

    if np.any((network.alpha > 0) & (network.beta < 1)):
        raise ValueError("AequilibraE's BPR needs beta >= 1 on links with alpha > 0")
    n_links = network.n_links
    return pd.DataFrame(
        {
            "link_id": np.arange(1, n_links + 1),
            "a_node": network.node_ids[network.from_idx],
            "b_node": network.node_ids[network.to_idx],
            "direction": np.ones(n_links, dtype=np.int8),
            "capacity": network.capacity,
            "free_flow_time": np.maximum(network.free_flow_time, AEQ_MIN_FREE_FLOW_TIME),
            "alpha": network.alpha,
            # beta is irrelevant where alpha is 0 (Winnipeg's constant-time links have
            # beta 0); AequilibraE insists on beta >= 1.
            "beta": np.where(network.alpha > 0, network.beta, 1.0),
            "fixed_cost": fixed,
            "id": np.arange(1, n_links + 1),
        }
    )


def run_aequilibrae(case: Case, gap: float, max_iterations: int, cores: int) -> Outcome:
    from aequilibrae.matrix import AequilibraeMatrix
    from aequilibrae.paths import Graph, TrafficAssignment, TrafficClass

    network = case.network
    fixed = case.toll_weight * network.toll + case.distance_weight * network.length_source
    links = aequilibrae_links(network, fixed)
    started = time.perf_counter()
    graph = Graph()
    graph.network = links
    graph.prepare_graph(np.asarray(case.demand.zone_ids, dtype=np.int64))
    graph.set_graph("free_flow_time")
    graph.set_skimming([])
    graph.set_blocked_centroid_flows(bool(network.block_centroid_flows))
    matrix = AequilibraeMatrix()
    matrix.create_empty(zones=len(case.demand.zone_ids), matrix_names=["trips"], memory_only=True)
    matrix.index[:] = case.demand.zone_ids
    matrix.matrices[:, :, 0] = case.demand.matrix
    matrix.computational_view(["trips"])
    traffic = TrafficClass("car", graph, matrix)
    if np.any(fixed):
        traffic.set_fixed_cost("fixed_cost")
    assignment = TrafficAssignment()
    assignment.set_classes([traffic])
    assignment.set_vdf("BPR")
    assignment.set_vdf_parameters({"alpha": "alpha", "beta": "beta"})
    assignment.set_capacity_field("capacity")
    assignment.set_time_field("free_flow_time")
    assignment.set_cores(cores)
    assignment.set_algorithm("bfw")
    assignment.max_iter = max_iterations
    assignment.rgap_target = float(gap)
    assignment.execute()
    seconds = time.perf_counter() - started
    loads = assignment.results()["trips_ab"].reindex(links.link_id).to_numpy()
    flow = np.nan_to_num(loads, nan=0.0)
    solver = assignment.assignment
    return judge(case, flow, seconds, int(solver.iter), float(solver.rgap))


# ---------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------

COLUMNS = (
    "network",
    "target",
    "ours s",
    "it",
    "gap",
    "obj err",
    "AeqE s",
    "it",
    "gap",
    "own gap",
    "obj err",
    "ours/AeqE",
)


def row(name: str, target: float, ours: Outcome, theirs: Outcome | None) -> list[str]:
    cells = [name, f"{target:.0e}", f"{ours.seconds:.2f}", str(ours.iterations)]
    cells += [f"{ours.gap:.2e}", f"{ours.objective_error:.1e}"]
    if theirs is None:
        return cells + ["-"] * 6
    cells += [f"{theirs.seconds:.2f}", str(theirs.iterations), f"{theirs.gap:.2e}"]
    cells += [f"{theirs.own_gap:.2e}", f"{theirs.objective_error:.1e}"]
    return cells + [f"{ours.seconds / theirs.seconds:.2f}"]


def print_table(rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|" + "---|" * len(COLUMNS))
        for cells in rows:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
    for cells in [list(COLUMNS), *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))


def best_of(repeat: int, run) -> Outcome:
    """The fastest of ``repeat`` runs (the machine's cores are shared)."""
    return min((run() for _ in range(repeat)), key=lambda outcome: outcome.seconds)


def check_targets(results: dict[tuple[str, float], tuple[Outcome, Outcome | None]]) -> bool:
    """Ratio ours/AequilibraE < 0.5 on ChicagoSketch and Winnipeg at 1e-5, < 1 everywhere."""
    ok = True
    for (name, gap), (ours, theirs) in results.items():
        if theirs is None:
            continue
        limit = 0.5 if name in ("ChicagoSketch", "Winnipeg") and gap <= 1e-5 else 1.0
        ratio = ours.seconds / theirs.seconds
        if ratio >= limit:
            ok = False
            print(f"TARGET MISSED: {name} at {gap:.0e}: ratio {ratio:.2f} >= {limit}")
    return ok


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS))
    parser.add_argument("--gaps", nargs="+", type=float, default=[1e-4, 1e-5])
    parser.add_argument("--data", help="folder of TNTP network folders")
    parser.add_argument("--max-iterations", type=int, default=5000)
    parser.add_argument("--aeq-cores", type=int, default=1, help="AequilibraE threads (ours: 1)")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per engine")
    parser.add_argument("--no-aequilibrae", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    folder = data_dir(args.data)
    if not folder.is_dir():
        print(f"TNTP data not found at {folder} (set --data or RECI_SHARED_DATA)")
        return 2
    aeq_version = None if args.no_aequilibrae else aequilibrae_available()
    print(
        f"reci-twins-engine {ENGINE_VERSION}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, {os.cpu_count()} CPUs; AequilibraE "
        + (f"{aeq_version} (BFW, {args.aeq_cores} core(s))" if aeq_version else "not used")
    )
    results, rows = {}, []
    for name in args.networks:
        case = load_case(folder / name)
        warm_up(case)
        for gap in args.gaps:
            ours = best_of(args.repeat, lambda c=case, g=gap: run_ours(c, g, args.max_iterations))
            theirs = None
            if aeq_version:
                theirs = best_of(
                    args.repeat,
                    lambda c=case, g=gap: run_aequilibrae(
                        c, g, args.max_iterations, args.aeq_cores
                    ),
                )
            results[(name, gap)] = (ours, theirs)
            rows.append(row(name, gap, ours, theirs))
            print(f"  done {name} {gap:.0e}", file=sys.stderr, flush=True)
    print_table(rows, args.markdown)
    print(
        "gap = relative_gap() of the returned flows (same check for both); own gap = "
        "AequilibraE's stopping measure; obj err = (Z - Z_best_known) / Z_best_known"
    )
    if not aeq_version:
        why = "skipped (--no-aequilibrae)" if args.no_aequilibrae else "not importable"
        print(f"AequilibraE {why}: ours alone (install it: pip install -e '.[bench]').")
        return 0
    return 0 if check_targets(results) else 1


if __name__ == "__main__":
    sys.exit(main())
