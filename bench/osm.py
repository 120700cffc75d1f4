"""Benchmark: the OSM import and the school-streets run on real extracts, beside SUMO's netconvert.

    .venv/bin/python bench/osm.py [--extracts granada_es monaco helsinki_fi] [--gaps 1e-4 1e-6]

For each extract in ``../shared/data/osm`` (or ``$RECI_SHARED_DATA/osm``):

- ours: ``read_osm`` alone, and the whole ``import_osm_package(..., template="school-streets")``
  (network, grid zones, synthetic demand, the school-streets closure, the package zip);
- the baseline and the school-streets assignments of that package, at the package's own
  relative gap and at each ``--gaps`` target (bi-conjugate Frank-Wolfe, the package's
  algorithm), and the whole ``run_package`` (both sides, the convergence-noise re-runs and the
  per-link results) at the same targets;
- the reference, in the same run: SUMO's ``netconvert`` converting the same extract to a
  SUMO network (car edges only). netconvert reads OSM XML (gzip too) but not PBF, so a PBF
  extract is first written out as OSM XML with pyosmium's ``SimpleWriter`` in a temporary
  folder; that conversion is timed separately and is not counted in netconvert's time.

Every phase runs in a fresh subprocess of its own (``--phase``, internal), so peak memory is
that process's peak resident set size (``ru_maxrss`` of the ``os.wait4`` rusage of exactly
that child, which covers the whole interpreter: Python, numpy, scipy, numba, osmium and the
data). Times of our phases are measured inside the child around the call (interpreter start
and module imports excluded; the ``start-up`` line gives those), numba kernels loaded by a
warm-up before timed assignments. netconvert's time is the wall time of its process.
SUMO is optional (``pip install -e '.[bench]'``); without it ours is printed alone.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EXTRACTS = {
    "granada_es": "granada_es/granada_es.osm.gz",
    "monaco": "monaco/monaco.osm.pbf",
    "helsinki_fi": "helsinki_fi/helsinki_fi.osm.pbf",
}
TEMPLATE = "school-streets"
# netconvert keeps every way its type map knows (footways, cycleways, rail...); keep the edges
# cars may use, as our import does. Everything else is netconvert's default.
NETCONVERT_OPTIONS = ("--keep-edges.by-vclass", "passenger", "--no-warnings")


def data_dir(arg: str | None) -> Path:
    if arg:
        return Path(arg)
    if os.environ.get("RECI_SHARED_DATA"):
        return Path(os.environ["RECI_SHARED_DATA"]) / "osm"
    return REPO.parent / "shared/data/osm"


# ---------------------------------------------------------------------------------
# Phases: each runs in a fresh interpreter and prints one JSON object
# ---------------------------------------------------------------------------------


def phase_startup(_args: dict) -> dict:
    """Only the imports every other phase needs: the memory floor of our processes."""
    import twins.engine.assignment  # noqa: F401
    import twins.engine.osm  # noqa: F401
    import twins.engine.runner  # noqa: F401

    return {}


def phase_read_osm(args: dict) -> dict:
    from twins.engine.osm import read_osm

    started = time.perf_counter()
    osm = read_osm(args["extract"])
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "nodes": osm.network.n_nodes, "links": osm.network.n_links}


def phase_import(args: dict) -> dict:
    from twins.engine.osm import import_osm_package

    started = time.perf_counter()
    import_osm_package(args["extract"], args["package"], template=TEMPLATE)
    return {"seconds": time.perf_counter() - started}


def _loaded(package: str):
    from twins.engine.package import load_package

    pkg = load_package(package)
    network = pkg.network()
    demand = pkg.demand(network)
    return pkg, network, demand, pkg.scenario_network(network)[0]


def _warm_up(network, demand) -> None:
    """Compile (or load from numba's cache) the kernels outside the timed runs."""
    from twins.engine.assignment import assign

    assign(network, demand, max_iterations=3, relative_gap=0.0)


def phase_assign(args: dict) -> dict:
    import numpy as np

    from twins.engine.assignment import assign

    pkg, network, demand, scenario_network = _loaded(args["package"])
    rule = pkg.assignment
    _warm_up(network, demand)
    closed = np.asarray(scenario_network.closed, bool) & ~np.asarray(network.closed, bool)
    out = {"closed": int(closed.sum())}
    for side, net in (("baseline", network), ("scenario", scenario_network)):
        started = time.perf_counter()
        result = assign(
            net,
            demand,
            algorithm=rule["algorithm"],
            relative_gap=args["gap"],
            max_iterations=args["max_iterations"] or int(rule["max_iterations"]),
            toll_weight=pkg.cost["toll_weight"],
            distance_weight=pkg.cost["distance_weight"],
        )
        out[side] = {
            "seconds": time.perf_counter() - started,
            "iterations": int(result.iterations),
            "gap": float(result.relative_gap),
        }
    return out


def phase_run(args: dict) -> dict:
    from twins.engine.runner import run_package

    pkg, network, demand, _ = _loaded(args["package"])
    _warm_up(network, demand)
    overrides = {"relative_gap": args["gap"]}
    if args["max_iterations"]:
        overrides["max_iterations"] = args["max_iterations"]
    started = time.perf_counter()
    run_package(pkg, overrides)
    return {"seconds": time.perf_counter() - started}


def phase_pbf_to_xml(args: dict) -> dict:
    import osmium

    started = time.perf_counter()
    writer = osmium.SimpleWriter(args["output"], overwrite=True)
    try:
        for obj in osmium.FileProcessor(args["extract"]):
            if obj.is_node():
                writer.add_node(obj)
            elif obj.is_way():
                writer.add_way(obj)
            elif obj.is_relation():
                writer.add_relation(obj)
    finally:
        writer.close()
    return {"seconds": time.perf_counter() - started}


PHASES = {
    "startup": phase_startup,
    "read_osm": phase_read_osm,
    "import": phase_import,
    "assign": phase_assign,
    "run": phase_run,
    "pbf_to_xml": phase_pbf_to_xml,
}


# ---------------------------------------------------------------------------------
# Running a child and reading its peak RSS
# ---------------------------------------------------------------------------------


@dataclass
class Child:
    wall: float  # seconds, the whole process
    peak_mb: float  # ru_maxrss of this child (KiB on Linux) in MiB
    result: dict = field(default_factory=dict)


def run_child(command: list[str], cwd: Path) -> Child:
    """Run ``command``; its wall time, its own peak RSS (os.wait4) and its JSON stdout."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace")[-2000:]
            raise RuntimeError(f"{' '.join(command[:4])}... failed ({process.returncode}):\n{tail}")
        out.seek(0)
        text = out.read().decode().strip()
    result = json.loads(text.splitlines()[-1]) if text.startswith("{") else {}
    return Child(wall=wall, peak_mb=usage.ru_maxrss / 1024, result=result)


def run_phase(name: str, args: dict, cwd: Path) -> Child:
    command = [sys.executable, str(Path(__file__).resolve()), "--phase", name]
    return run_child([*command, "--phase-args", json.dumps(args)], cwd)


def best_of(repeat: int, run) -> Child:
    """Fastest of ``repeat`` runs (by the time the phase reports, else the wall time);
    the peak memory is the largest seen."""
    runs = [run() for _ in range(repeat)]
    best = min(runs, key=lambda c: c.result.get("seconds", c.wall))
    best.peak_mb = max(c.peak_mb for c in runs)
    return best


# ---------------------------------------------------------------------------------
# SUMO
# ---------------------------------------------------------------------------------


def netconvert_binary() -> tuple[Path, str] | None:
    """The netconvert executable itself (not the Python wrapper script) and SUMO's version."""
    try:
        from importlib.metadata import version

        import sumo
    except ImportError:
        return None
    binary = Path(sumo.SUMO_HOME) / "bin" / "netconvert"
    return (binary, version("eclipse-sumo")) if binary.is_file() else None


def run_netconvert(binary: Path, osm_xml: Path, work: Path) -> Child:
    output = work / (osm_xml.name.split(".")[0] + ".net.xml")
    command = [str(binary), "--osm-files", str(osm_xml), "-o", str(output), *NETCONVERT_OPTIONS]
    child = run_child(command, work)
    child.result = net_xml_counts(output)
    child.result["seconds"] = child.wall
    return child


def net_xml_counts(path: Path) -> dict:
    """Normal (non-internal) edges, non-internal junctions and lanes of a SUMO .net.xml."""
    edges = junctions = lanes = 0
    for _, element in ET.iterparse(path):
        if element.tag == "edge" and element.get("function", "normal") == "normal":
            edges += 1
            lanes += sum(1 for child in element if child.tag == "lane")
        elif element.tag == "junction" and element.get("type") != "internal":
            junctions += 1
        if element.tag in ("edge", "junction", "connection", "tlLogic", "roundabout"):
            element.clear()
    return {"edges": edges, "junctions": junctions, "lanes": lanes}


# ---------------------------------------------------------------------------------
# One extract
# ---------------------------------------------------------------------------------


@dataclass
class ExtractResult:
    name: str
    sizes: dict
    read: Child
    imported: Child
    assigns: dict[float, Child]
    runs: dict[float, Child]
    package_gap: float
    to_xml: Child | None = None
    netconvert: Child | None = None


def package_sizes(package: Path) -> tuple[dict, float]:
    from twins.engine.package import load_package

    pkg = load_package(package, check_content=False)
    scenario = pkg.descriptor["scenario"]
    report = scenario.get("import_report") or pkg.descriptor.get("import_report") or {}
    sizes = {
        "nodes": report.get("nodes"),
        "links": report.get("links"),
        "zones": report.get("zones"),
        "closed": report.get("closed_links"),
        "schools": report.get("schools"),
    }
    return sizes, float(pkg.assignment["relative_gap"])


def bench_extract(name: str, path: Path, args, sumo, work: Path) -> ExtractResult:
    package = work / f"{name}.zip"
    common = {"extract": str(path)}
    read = best_of(args.repeat, lambda: run_phase("read_osm", common, work))
    imported = best_of(
        args.repeat, lambda: run_phase("import", common | {"package": str(package)}, work)
    )
    sizes, package_gap = package_sizes(package)
    gaps = sorted({package_gap, *args.gaps}, reverse=True)
    assigns, runs = {}, {}
    for gap in gaps:
        phase_args = {"package": str(package), "gap": gap, "max_iterations": args.max_iterations}
        assigns[gap] = best_of(args.repeat, lambda a=phase_args: run_phase("assign", a, work))
        runs[gap] = best_of(args.repeat, lambda a=phase_args: run_phase("run", a, work))
    # The links the scenario really closes, as applied by the engine (the report's count
    # is the importer's).
    sizes["closed"] = assigns[package_gap].result["closed"]
    result = ExtractResult(name, sizes, read, imported, assigns, runs, package_gap)
    if sumo:
        osm_xml = path
        if path.suffix == ".pbf":
            osm_xml = work / (path.name.split(".")[0] + ".osm")
            result.to_xml = best_of(
                args.repeat,
                lambda: run_phase("pbf_to_xml", common | {"output": str(osm_xml)}, work),
            )
        result.netconvert = best_of(args.repeat, lambda: run_netconvert(sumo[0], osm_xml, work))
    print(f"  done {name}", file=sys.stderr, flush=True)
    return result


# ---------------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------------

IMPORT_COLUMNS = (
    "extract",
    "nodes",
    "links",
    "zones",
    "closed",
    "read_osm s",
    "MB",
    "import s",
    "MB",
    "PBF->XML s",
    "netconvert s",
    "MB",
    "edges",
    "junctions",
    "ours/netconvert",
)
ASSIGN_COLUMNS = (
    "extract",
    "target",
    "baseline s",
    "it",
    "scenario s",
    "it",
    "MB",
    "run_package s",
    "MB",
)


def import_row(r: ExtractResult) -> list[str]:
    s = r.sizes
    cells = [r.name, *(str(s[k]) for k in ("nodes", "links", "zones", "closed"))]
    cells += [f"{r.read.result['seconds']:.2f}", f"{r.read.peak_mb:.0f}"]
    cells += [f"{r.imported.result['seconds']:.2f}", f"{r.imported.peak_mb:.0f}"]
    cells.append(f"{r.to_xml.result['seconds']:.2f}" if r.to_xml else "-")
    nc = r.netconvert
    if nc is None:
        return cells + ["-"] * 5
    cells += [f"{nc.wall:.2f}", f"{nc.peak_mb:.0f}"]
    cells += [str(nc.result["edges"]), str(nc.result["junctions"])]
    return cells + [f"{r.imported.result['seconds'] / nc.wall:.2f}"]


def assign_rows(r: ExtractResult) -> list[list[str]]:
    rows = []
    for gap, child in r.assigns.items():
        target = f"{gap:.0e}" + (" (package)" if gap == r.package_gap else "")
        b, s = child.result["baseline"], child.result["scenario"]
        run = r.runs[gap]
        rows.append(
            [r.name, target, f"{b['seconds']:.2f}", str(b["iterations"])]
            + [f"{s['seconds']:.2f}", str(s["iterations"]), f"{child.peak_mb:.0f}"]
            + [f"{run.result['seconds']:.2f}", f"{run.peak_mb:.0f}"]
        )
    return rows


def print_table(columns, rows: list[list[str]], markdown: bool) -> None:
    if markdown:
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for cells in rows:
            print("| " + " | ".join(cells) + " |")
        return
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    for cells in [list(columns), *rows]:
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))


def unconverged(results: list[ExtractResult]) -> list[str]:
    notes = []
    for r in results:
        for gap, child in r.assigns.items():
            for side in ("baseline", "scenario"):
                reached = child.result[side]["gap"]
                if reached > gap:
                    notes.append(f"{r.name} {side} stopped at gap {reached:.1e} > {gap:.0e}")
    return notes


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--extracts", nargs="+", default=list(EXTRACTS), choices=list(EXTRACTS))
    parser.add_argument("--data", help="folder holding the OSM extract folders")
    parser.add_argument(
        "--gaps",
        nargs="+",
        type=float,
        default=[1e-4, 1e-6],
        help="targets besides the package's own",
    )
    parser.add_argument(
        "--max-iterations", type=int, default=0, help="0: the package's max_iterations"
    )
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs per phase")
    parser.add_argument("--no-sumo", action="store_true")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--keep", help="keep packages and converted files in this folder")
    parser.add_argument("--phase", choices=list(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--phase-args", default="{}", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def versions() -> str:
    from importlib.metadata import version

    import numpy as np

    from twins.engine import __version__ as engine_version

    return (
        f"reci-twins-engine {engine_version}, Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {version('scipy')}, numba {version('numba')}, "
        f"osmium {version('osmium')}, {os.cpu_count()} CPUs"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.phase:
        print(json.dumps(PHASES[args.phase](json.loads(args.phase_args))))
        return 0
    folder = data_dir(args.data)
    missing = [n for n in args.extracts if not (folder / EXTRACTS[n]).is_file()]
    if missing:
        print(f"OSM extracts {missing} not found under {folder} (set --data or RECI_SHARED_DATA)")
        return 2
    sumo = None if args.no_sumo else netconvert_binary()
    print(versions() + "; SUMO " + (f"netconvert {sumo[1]}" if sumo else "not used"))
    work = Path(args.keep or tempfile.mkdtemp(prefix="bench-osm-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        startup = best_of(args.repeat, lambda: run_phase("startup", {}, work))
        results = [
            bench_extract(name, folder / EXTRACTS[name], args, sumo, work) for name in args.extracts
        ]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"start-up of a fresh process (interpreter and engine imports): {startup.wall:.2f} s, "
        f"peak {startup.peak_mb:.0f} MB"
    )
    print()
    print_table(IMPORT_COLUMNS, [import_row(r) for r in results], args.markdown)
    print(
        "nodes, links: the road network kept (largest strongly connected component), before "
        "zone centroids and connectors; closed: school-street links closed. MB: peak RSS of "
        "the phase's own process (MiB). ours/netconvert = import s / netconvert s (netconvert's "
        "time excludes the PBF->XML conversion). edges, junctions: netconvert's non-internal "
        "ones (car edges only)."
    )
    print()
    print_table(ASSIGN_COLUMNS, [row for r in results for row in assign_rows(r)], args.markdown)
    print(
        "baseline s, scenario s: one assign() each (BFW, numba warmed up); MB: peak RSS of "
        "that process (both sides). run_package s: the whole run (both sides, noise re-runs, "
        "per-link results) at that target; MB: its process."
    )
    for note in unconverged(results):
        print("NOT CONVERGED: " + note)
    if not sumo:
        why = "skipped (--no-sumo)" if args.no_sumo else "not importable"
        print(f"SUMO {why}: ours alone (install it: pip install -e '.[bench]').")
    return 0


if __name__ == "__main__":
    sys.exit(main())
