"""Command line of the scenario engine (no Django, no Celery).

    python -m twins.engine run PACKAGE [--json FILE] [--geojson FILE] [--csv FILE]
                                       [--gap G] [--max-iterations N] [--algorithm A]
    python -m twins.engine pack-tntp DIR -o PACKAGE.zip [--close FROM-TO ...] [--gap G] ...
    python -m twins.engine import-osm FILE -o PACKAGE.zip [--template school-streets] ...

Exit codes: 0 success, 2 bad input (the message says what and where), 1 anything else.
"""

from __future__ import annotations

import argparse
import re
import sys
import traceback
from pathlib import Path

from .interventions import InterventionError
from .network import NetworkError
from .osm import TEMPLATES as OSM_TEMPLATES
from .package import PackageError, load_package, pack_tntp
from .runner import OverrideError, run_package

BAD_INPUT = (PackageError, InterventionError, NetworkError, OverrideError)
EXIT_OK, EXIT_ERROR, EXIT_BAD_INPUT = 0, 1, 2
PROGRESS_EVERY = 10  # iterations between progress lines (the first is always shown)


def _node_pair(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*-\s*(\d+)\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not FROM-TO (two node ids, e.g. 10-16)")
    return int(match.group(1)), int(match.group(2))


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number")
    return value


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number >= 0")
    return int(text)


def _add_stopping_rule(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gap", type=float, help="relative gap to stop at (default 1e-6)")
    parser.add_argument("--max-iterations", type=int, help="iteration limit")
    parser.add_argument("--algorithm", choices=("bfw", "cfw", "fw"), help="Frank-Wolfe variant")


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the three subcommands."""
    parser = argparse.ArgumentParser(
        prog="python -m twins.engine", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run a scenario package and print a summary")
    run.add_argument("package", type=Path, help="package .zip or folder")
    run.add_argument("--json", type=Path, metavar="FILE", help="write the results summary here")
    run.add_argument(
        "--geojson",
        type=Path,
        metavar="FILE",
        help="write per-link results here as a GeoJSON FeatureCollection (WGS84)",
    )
    run.add_argument(
        "--csv",
        "--links-csv",
        dest="csv",
        type=Path,
        metavar="FILE",
        help="write per-link results here as CSV (--links-csv is the old name)",
    )
    run.add_argument("--quiet", action="store_true", help="no progress lines")
    _add_stopping_rule(run)

    pack = commands.add_parser("pack-tntp", help="package a folder of TNTP files")
    pack.add_argument(
        "folder", type=Path, help="folder with *_net.tntp, *_trips.tntp[, *_node.tntp]"
    )
    pack.add_argument("-o", "--output", type=Path, required=True, help="package .zip or folder")
    pack.add_argument("--close", type=_node_pair, action="append", default=[], metavar="FROM-TO")
    pack.add_argument("--name", help="package name (lower case, digits, . _ -)")
    pack.add_argument("--title", help="package title")
    pack.add_argument("--version", default="1.0.0", help="package version (semver)")
    pack.add_argument("--toll-weight", type=float, help="minutes per toll unit")
    pack.add_argument("--distance-weight", type=float, help="minutes per distance unit")
    pack.add_argument("--distance-unit", choices=("m", "km", "mi", "ft"), help="unit of lengths")
    _add_stopping_rule(pack)

    osm = commands.add_parser("import-osm", help="build a package from an OpenStreetMap extract")
    osm.add_argument("file", type=Path, help="OSM extract (.osm, .osm.gz, .osm.pbf)")
    osm.add_argument("-o", "--output", type=Path, required=True, help="package .zip or folder")
    osm.add_argument("--template", choices=OSM_TEMPLATES, help="intervention template")
    osm.add_argument(
        "--radius", type=_positive, default=200.0, metavar="M", help="template radius (m)"
    )
    osm.add_argument("--seed", type=_seed, default=42, help="seed of the synthetic demand")
    osm.add_argument(
        "--zone-size", type=_positive, default=500.0, metavar="M", help="zone grid cell size (m)"
    )
    osm.add_argument(
        "--trips", type=_positive, metavar="N", help="peak-hour trips (default: sized to the roads)"
    )
    osm.add_argument(
        "--demand",
        type=Path,
        metavar="CSV",
        help="OD matrix from a spreadsheet (instead of --trips)",
    )
    osm.add_argument(
        "--zones", type=Path, metavar="CSV", help="the city's zones (id;name;lat;lon) of --demand"
    )
    osm.add_argument(
        "--country", metavar="CC", help="country of the default speed limits (ES, FR...)"
    )
    return parser


def _stopping_rule(args: argparse.Namespace) -> dict:
    given = {
        "relative_gap": args.gap,
        "max_iterations": args.max_iterations,
        "algorithm": args.algorithm,
    }
    return {key: value for key, value in given.items() if value is not None}


def _print_progress(stage: str, iteration: int, gap: float, elapsed_s: float) -> None:
    if iteration == 1 or iteration % PROGRESS_EVERY == 0:
        print(f"{stage}: iteration {iteration}, gap {gap:.3e}, {elapsed_s:.1f} s", file=sys.stderr)


def command_run(args: argparse.Namespace) -> int:
    """``run``: load, run, print the summary, optionally write JSON and per-link CSV."""
    package = load_package(args.package)
    progress = None if args.quiet else _print_progress
    output = run_package(package, overrides=_stopping_rule(args), progress=progress)
    print(format_summary(output.summary))
    if args.json:
        output.write_json(args.json)
    if args.csv:
        args.csv.write_bytes(output.links_csv)
    if args.geojson:
        args.geojson.write_bytes(output.links_geojson)
    return EXIT_OK


def command_pack_tntp(args: argparse.Namespace) -> int:
    """``pack-tntp``: package the TNTP files as they are, with closures and a stopping rule."""
    cost = {
        "toll_weight": args.toll_weight,
        "distance_weight": args.distance_weight,
        "distance_unit": args.distance_unit,
    }
    sha256 = pack_tntp(
        args.folder,
        args.output,
        close=args.close,
        assignment=_stopping_rule(args),
        cost=cost,
        name=args.name,
        title=args.title,
        version=args.version,
    )
    print(f"wrote {args.output} (sha256 {sha256})")
    return EXIT_OK


def command_import_osm(args: argparse.Namespace) -> int:
    """``import-osm``: network, zones, synthetic demand and template interventions from OSM."""
    if not args.file.is_file():
        raise PackageError(f"{args.file}: no such file")
    if args.zones and not args.demand:
        raise PackageError("--zones needs --demand: the zones name the OD matrix's rows")
    if args.trips and args.demand:
        raise PackageError("--trips sizes the synthetic demand; with --demand the file decides")
    from .osm import import_osm_package

    try:
        sha256 = import_osm_package(
            args.file,
            args.output,
            template=args.template,
            radius_m=args.radius,
            zone_size_m=args.zone_size,
            trips=args.trips,
            seed=args.seed,
            country=args.country,
            demand_csv=args.demand,
            zones_csv=args.zones,
        )
    except NetworkError:
        raise  # already names the file, line and column
    except ValueError as exc:  # an unknown country or template
        raise PackageError(f"import-osm: {exc}") from exc
    except RuntimeError as exc:  # pyosmium's error for unreadable or malformed files
        raise PackageError(f"{args.file}: cannot read it as OpenStreetMap data ({exc})") from exc
    print(f"wrote {args.output} (sha256 {sha256})")
    return EXIT_OK


COMMANDS = {"run": command_run, "pack-tntp": command_pack_tntp, "import-osm": command_import_osm}


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def _percent(delta: dict | None, key: str) -> str:
    percent = delta[key]["percent"] if delta else None
    return "" if percent is None else f"{percent:+.2f} %"


def _noise_cell(delta: dict | None, key: str, spec: str) -> str:
    """ "± noise" of a difference, with "(unresolved)" when it is smaller than its noise."""
    entry = (delta or {}).get(key) or {}
    if entry.get("noise") is None or entry.get("absolute") is None:
        return ""
    text = f"{entry['absolute']:+{spec}} ± {entry['noise']:{spec}}"
    return text + ("" if entry.get("resolved") else " (unresolved)")


def _street_lines(streets: dict, count: int = 5) -> list[str]:
    vkm = streets["ranked_by"] == "vehicle_km_delta"
    lines = []
    for title, key in (("gain", "gains"), ("lose", "losses")):
        if not streets[key]:
            continue
        lines += ["", f"Streets that {title} the most traffic ({streets['units']}):"]
        for entry in streets[key][:count]:
            if vkm:
                value, noise = entry["vehicle_km_delta"], entry["vehicle_km_noise"]
            else:
                value = entry["max_link_flow_gain" if key == "gains" else "max_link_flow_loss"]
                noise = None
            note = "" if noise is None else f" ± {noise:,.1f}"
            if entry.get("resolved") is False:
                note += " (unresolved)"
            if entry["closed_links"]:
                note += f", {entry['closed_links']} link(s) closed"
            lines.append(f"  {entry['street'][:40]:40} {value:+12,.1f}{note}")
    return lines


def format_summary(summary: dict) -> str:
    """The human-readable summary of a run (what ``run`` prints)."""
    base, scen, delta = summary["baseline"], summary.get("scenario"), summary.get("delta")
    rule = summary["assignment"]
    lines = [
        f"Package {summary['package']['name']} {summary['package']['version']} "
        f"(sha256 {summary['package']['sha256'][:12]})",
        f"Engine {summary['engine']['name']} {summary['engine']['version']}; {rule['algorithm']}, "
        f"relative gap {rule['relative_gap']:g}, at most {rule['max_iterations']} iterations",
        "",
        f"{'':22}{'baseline':>16}{'scenario' if scen else '':>16}{'change' if scen else '':>12}",
    ]
    rows = [
        ("TSTT", "tstt", ",.1f"),
        ("Objective (Beckmann)", "objective", ",.1f"),
        ("Relative gap", "relative_gap", ".2e"),
        ("Iterations", "iterations", "d"),
        ("Total demand", "total_demand", ",.1f"),
        ("Unassigned demand", "unassigned_demand", ",.1f"),
        ("Vehicle-km", "vehicle_km", ",.1f"),
        ("Average trip (min)", "average_trip_time", ",.2f"),
        ("Runtime (s)", "runtime_s", ".2f"),
    ]
    for label, key, spec in rows:
        scenario_cell = _fmt(scen.get(key), spec) if scen else ""
        change = _percent(delta, key) if key in (delta or {}) else ""
        lines.append(
            f"{label:22}{_fmt(base.get(key), spec):>16}{scenario_cell:>16}{change:>12}"
            f"  {_noise_cell(delta, key, spec)}"
        )
    for name, side in (("baseline", base), ("scenario", scen)):
        if side and not side["converged"]:
            lines.append(
                f"Note: the {name} stopped at the iteration limit before reaching the gap."
            )
        if side and side["unassigned_pairs_count"]:
            lines.append(
                f"Note: {side['unassigned_pairs_count']} OD pairs of the {name} have no path; "
                "their demand is reported as unassigned."
            )
    noise = summary.get("noise")
    if noise:
        lines.append(
            f"Convergence noise: {noise['links_changed_resolved']} links change by more than "
            f"their noise, {noise['links_unresolved']} links' changes are within it "
            "(docs/results.md)."
        )
    if summary.get("streets"):
        lines += _street_lines(summary["streets"])
    return "\n".join(line.rstrip() for line in lines)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except BAD_INPUT as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001 - the CLI's last resort: report, exit 1
        traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
