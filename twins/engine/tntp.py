"""Readers for the TNTP formats (https://github.com/bstabler/TransportationNetworks).

Four files: ``*_net.tntp`` (metadata header, then one link per line),
``*_trips.tntp`` (``Origin o`` blocks of ``dest : trips;`` pairs),
``*_node.tntp`` (node coordinates) and ``*_flow.tntp`` (a link flow solution).
Every malformed input raises :class:`NetworkError` naming the file and line.

TNTP conventions kept here:

- zone centroids are nodes ``1..NUMBER OF ZONES``; nodes below ``FIRST THRU NODE``
  may not be passed through, so ``block_centroid_flows`` is ``FIRST THRU NODE > 1``;
- link ids are ``1..L`` in file order;
- lengths are in a unit that only the network's README states (feet for Anaheim,
  miles for ChicagoSketch, unknown for SiouxFalls and Winnipeg), so ``length_km``
  is filled only when the unit is known: from ``length_unit`` or, failing that,
  from a ``README.md`` beside the net file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .network import Demand, Network, NetworkError

KM_PER_UNIT = {"km": 1.0, "mi": 1.609344, "ft": 0.0003048, "m": 0.001}
README_UNIT_WORDS = {
    "km": "km",
    "kilometers": "km",
    "kilometres": "km",
    "mi": "mi",
    "mile": "mi",
    "miles": "mi",
    "ft": "ft",
    "feet": "ft",
    "foot": "ft",
    "m": "m",
    "meters": "m",
    "metres": "m",
}
NET_COLUMNS = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b", "power")
METADATA_RE = re.compile(r"^<([^>]+)>(.*)$")
# "dest : trips;" (the last semicolon of a line may be missing)
OD_PAIR_RE = re.compile(r"\s*([^\s:;]+)\s*:\s*([^\s:;]+)\s*(?:;|$)")


@dataclass
class _Line:
    """A line of a TNTP file with its position, for error messages."""

    path: Path
    number: int
    text: str

    def error(self, what: str) -> NetworkError:
        return NetworkError(f"{self.path.name}, line {self.number}: {what}: {self.text.strip()!r}")

    def number_at(self, token: str, name: str, kind=float):
        try:
            return kind(token)
        except ValueError:
            raise self.error(f"{name} is not a number ({token!r})") from None


def _lines(path: Path) -> list[_Line]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise NetworkError(f"{path}: cannot read ({exc.strerror})") from exc
    return [_Line(path, i, t) for i, t in enumerate(text.splitlines(), start=1)]


def _split_metadata(lines: list[_Line]) -> tuple[dict[str, str], list[_Line]]:
    """The ``<KEY> value`` header (upper-case keys) and the lines after ``<END OF METADATA>``."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = METADATA_RE.match(line.text.strip())
        if not match:
            if line.text.strip() and not line.text.strip().startswith("~"):
                raise line.error("expected a <KEY> value metadata line or <END OF METADATA>")
            continue
        key = match.group(1).strip().upper()
        if key == "END OF METADATA":
            return meta, lines[i + 1 :]
        meta[key] = match.group(2).strip()
    where = lines[-1].path.name if lines else "file"
    raise NetworkError(f"{where}: no <END OF METADATA> line")


def _metadata_int(meta: dict[str, str], key: str, path: Path, default: int | None = None) -> int:
    if key not in meta:
        if default is not None:
            return default
        raise NetworkError(f"{path.name}: metadata <{key}> is missing")
    try:
        return int(meta[key])
    except ValueError:
        raise NetworkError(
            f"{path.name}: metadata <{key}> is not an integer ({meta[key]!r})"
        ) from None


def _data_lines(lines: list[_Line]) -> list[_Line]:
    """Lines carrying data: blank lines and ``~`` comments dropped."""
    return [line for line in lines if line.text.strip() and not line.text.strip().startswith("~")]


def _link_fields(line: _Line) -> list[float]:
    """The numeric columns of one link line (the trailing ``;`` is optional)."""
    tokens = line.text.strip().rstrip(";").split()
    if len(tokens) < len(NET_COLUMNS):
        raise line.error(f"expected at least {len(NET_COLUMNS)} columns ({', '.join(NET_COLUMNS)})")
    names = NET_COLUMNS + ("speed", "toll", "link_type")
    values = [line.number_at(tok, name) for tok, name in zip(tokens, names, strict=False)]
    return values + [0.0] * (len(names) - len(values))


def _check_link(line: _Line, values: list[float], n_nodes: int) -> None:
    for node, name in ((values[0], "init_node"), (values[1], "term_node")):
        if not (1 <= node <= n_nodes and node == int(node)):  # range first: NaN, inf
            raise line.error(f"{name} {node:g} is not a node number in 1..{n_nodes}")
    bad = [n for n, v in zip(NET_COLUMNS[2:], values[2:7], strict=True) if not v >= 0]
    if bad:
        raise line.error(f"negative or NaN {', '.join(bad)}")


def read_readme_meta(readme_path: str | Path) -> dict:
    """Length unit and generalised-cost weights stated in a TNTP network README.

    Returns a dict with ``length_unit`` ("km", "mi", "ft", "m" or None) and, when the
    README gives them as numbers, ``toll_weight`` and ``distance_weight`` (minutes per
    cost unit and per distance unit). Missing or unreadable README: empty dict.
    """
    try:
        text = Path(readme_path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    found: dict = {"length_unit": _readme_length_unit(text)}
    weights = _readme_section(text, "Generalized Cost Weights")
    for key, label in (("toll_weight", "Toll"), ("distance_weight", "Distance")):
        match = re.search(rf"^\s*{label}\s*:\s*([0-9.eE+-]+)", weights, re.MULTILINE)
        if match:
            found[key] = float(match.group(1))
    return found


def _readme_section(text: str, title: str) -> str:
    match = re.search(rf"^##\s*{title}\s*$(.*?)(?=^##\s|\Z)", text, re.MULTILINE | re.DOTALL)
    return match.group(1) if match else ""


def _readme_length_unit(text: str) -> str | None:
    match = re.search(r"^\s*Distance\s*:[ \t]*(\S*)", _readme_section(text, "Units"), re.MULTILINE)
    return README_UNIT_WORDS.get(match.group(1).lower()) if match else None


def _length_km(length: np.ndarray, unit: str | None) -> np.ndarray:
    if unit is None:
        return np.full(len(length), np.nan)
    if unit not in KM_PER_UNIT:
        raise NetworkError(
            f"unknown length unit {unit!r}; use one of {sorted(KM_PER_UNIT)} or None"
        )
    return length * KM_PER_UNIT[unit]


def read_network(
    net_path: str | Path,
    node_path: str | Path | None = None,
    *,
    length_unit: str | None = None,
    readme_path: str | Path | None = None,
) -> tuple[Network, dict]:
    """Read a TNTP ``_net.tntp`` (and optionally its ``_node.tntp``) into a :class:`Network`.

    ``length_unit`` ("km", "mi", "ft", "m") says what the length column measures; when
    None, the unit is taken from ``readme_path`` or a ``README.md`` beside the net file,
    and ``length_km`` stays NaN if neither states it. ``meta`` has ``zones``,
    ``first_thru_node``, ``nodes``, ``links``, ``length_unit`` and, when the README
    gives them, ``toll_weight`` and ``distance_weight``.
    """
    net_path = Path(net_path)
    header, body = _split_metadata(_lines(net_path))
    zones = _metadata_int(header, "NUMBER OF ZONES", net_path)
    n_nodes = _metadata_int(header, "NUMBER OF NODES", net_path)
    first_thru = _metadata_int(header, "FIRST THRU NODE", net_path, default=1)
    n_links = _metadata_int(header, "NUMBER OF LINKS", net_path)
    rows = _link_rows(_data_lines(body), n_nodes)
    if len(rows) == 0:
        raise NetworkError(f"{net_path.name}: no links")
    if len(rows) != n_links:
        raise NetworkError(f"{net_path.name}: <NUMBER OF LINKS> is {n_links} but {len(rows)} found")
    if not 1 <= zones <= n_nodes:
        raise NetworkError(f"{net_path.name}: <NUMBER OF ZONES> {zones} not in 1..{n_nodes}")
    readme = read_readme_meta(readme_path or net_path.with_name("README.md"))
    unit = length_unit if length_unit is not None else readme.get("length_unit")
    network = _network_from_rows(rows, n_nodes, zones, first_thru, unit)
    if node_path is not None:
        network.node_x, network.node_y = read_node_coordinates(node_path, network)
    meta = {
        "zones": zones,
        "first_thru_node": first_thru,
        "nodes": n_nodes,
        "links": n_links,
        "length_unit": unit,
    }
    meta.update({k: v for k, v in readme.items() if k.endswith("_weight")})
    return network, meta


def _link_rows(lines: list[_Line], n_nodes: int) -> np.ndarray:
    rows = []
    for line in lines:
        values = _link_fields(line)
        _check_link(line, values, n_nodes)
        rows.append(values)
    return np.array(rows, dtype=float).reshape(-1, len(NET_COLUMNS) + 3)


def _network_from_rows(
    rows: np.ndarray, n_nodes: int, zones: int, first_thru: int, unit: str | None
) -> Network:
    length = rows[:, 3].copy()
    return Network(
        node_ids=np.arange(1, n_nodes + 1, dtype=np.int64),
        from_idx=rows[:, 0].astype(np.int64) - 1,
        to_idx=rows[:, 1].astype(np.int64) - 1,
        capacity=rows[:, 2].copy(),
        free_flow_time=rows[:, 4].copy(),
        alpha=rows[:, 5].copy(),
        beta=rows[:, 6].copy(),
        link_ids=np.arange(1, len(rows) + 1, dtype=np.int64),
        zone_ids=np.arange(1, zones + 1, dtype=np.int64),
        block_centroid_flows=first_thru > 1,
        length_km=_length_km(length, unit),
        length_source=length,
        toll=rows[:, 8].copy(),
        link_attrs={"link_type": rows[:, 9].astype(np.int64)},
    )


def read_node_coordinates(node_path: str | Path, network: Network) -> tuple[np.ndarray, np.ndarray]:
    """Node x and y from a ``_node.tntp`` (header line, then ``node x y ;``); NaN where absent."""
    node_path = Path(node_path)
    x = np.full(network.n_nodes, np.nan)
    y = np.full(network.n_nodes, np.nan)
    position = {int(node): i for i, node in enumerate(network.node_ids)}
    for line in _data_lines(_lines(node_path))[1:]:  # after the header line
        tokens = line.text.strip().rstrip(";").split()
        if len(tokens) < 3:
            raise line.error("expected node, x and y")
        node = line.number_at(tokens[0], "node", int)
        if node not in position:
            raise line.error(f"node {node} is not in the network")
        x[position[node]] = line.number_at(tokens[1], "x")
        y[position[node]] = line.number_at(tokens[2], "y")
    return x, y


def read_demand(trips_path: str | Path, network: Network) -> Demand:
    """Read a TNTP ``_trips.tntp`` into a :class:`Demand` over ``network.zone_ids``.

    The file's ``<NUMBER OF ZONES>`` must match the network's, zones must be in
    ``1..zones``, a pair may appear once, and the sum must match ``<TOTAL OD FLOW>``
    (when given) to 1e-6 relative, which catches truncated files.
    """
    trips_path = Path(trips_path)
    header, body = _split_metadata(_lines(trips_path))
    zones = _metadata_int(header, "NUMBER OF ZONES", trips_path)
    if zones != len(network.zone_ids):
        raise NetworkError(
            f"{trips_path.name}: {zones} zones but the network has {len(network.zone_ids)}"
        )
    zone_pos = {int(z): i for i, z in enumerate(network.zone_ids)}
    matrix = _trip_matrix(_data_lines(body), zone_pos)
    _check_total(trips_path, header, matrix)
    return Demand(
        zone_ids=network.zone_ids.copy(), matrix=matrix, description=f"TNTP {trips_path.name}"
    )


def _trip_matrix(lines: list[_Line], zone_pos: dict[int, int]) -> np.ndarray:
    matrix = np.zeros((len(zone_pos), len(zone_pos)))
    seen = np.zeros(matrix.shape, dtype=bool)
    origin = None
    for line in lines:
        text = line.text.strip()
        if text.lower().startswith("origin"):
            origin = _zone(line, text.split()[1] if len(text.split()) > 1 else "", zone_pos)
            continue
        if origin is None:
            raise line.error("destination values before any 'Origin' line")
        dests, trips = _od_pairs(line, zone_pos)
        if seen[origin, dests].any() or len(set(dests)) < len(dests):
            raise line.error("a destination is given twice for this origin")
        matrix[origin, dests] = trips
        seen[origin, dests] = True
    return matrix


def _od_pairs(line: _Line, zone_pos: dict[int, int]) -> tuple[list[int], list[float]]:
    """Destination positions and trips of one line of ``dest : trips;`` pairs."""
    pairs = OD_PAIR_RE.findall(line.text)
    if OD_PAIR_RE.sub("", line.text).strip():
        raise line.error("expected 'destination : trips;' pairs")
    try:  # the fast path; the slow one below only runs to name the culprit
        dests = [zone_pos[int(d)] for d, _ in pairs]
        trips = [float(t) for _, t in pairs]
    except (KeyError, ValueError):
        dests = [_zone(line, d, zone_pos) for d, _ in pairs]
        trips = [line.number_at(t, f"trips to {d}") for d, t in pairs]
    if not all(t >= 0 for t in trips):
        raise line.error("negative or NaN trips")
    return dests, trips


def _zone(line: _Line, token: str, zone_pos: dict[int, int]) -> int:
    zone = line.number_at(token, "zone", int)
    if zone not in zone_pos:
        raise line.error(f"zone {zone} is not a zone of the network")
    return zone_pos[zone]


def _check_total(path: Path, header: dict[str, str], matrix: np.ndarray) -> None:
    if "TOTAL OD FLOW" not in header:
        return
    try:
        stated = float(header["TOTAL OD FLOW"])
    except ValueError:
        raise NetworkError(f"{path.name}: <TOTAL OD FLOW> is not a number") from None
    if abs(matrix.sum() - stated) > 1e-6 * max(abs(stated), 1.0):
        raise NetworkError(
            f"{path.name}: trips sum to {matrix.sum():.6f} but <TOTAL OD FLOW> is {stated}"
        )


def read_flow(flow_path: str | Path) -> dict[tuple[int, int], tuple[float, float]]:
    """Read a TNTP ``_flow.tntp`` as ``{(from_node, to_node): (flow, cost)}``.

    The format cannot tell parallel links apart, so a repeated pair is an error.
    """
    flow_path = Path(flow_path)
    lines = _data_lines(_lines(flow_path))
    flows: dict[tuple[int, int], tuple[float, float]] = {}
    has_header = bool(lines) and not _is_number(lines[0].text.split()[0])
    for line in lines[1:] if has_header else lines:
        tokens = line.text.strip().rstrip(";").split()
        if len(tokens) < 4:
            raise line.error("expected From, To, Volume and Cost")
        key = (line.number_at(tokens[0], "From", int), line.number_at(tokens[1], "To", int))
        if key in flows:
            raise line.error(f"link {key[0]}-{key[1]} given twice")
        flows[key] = (line.number_at(tokens[2], "Volume"), line.number_at(tokens[3], "Cost"))
    return flows


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def flow_array(flows: dict[tuple[int, int], tuple[float, float]], network: Network) -> np.ndarray:
    """The flows of :func:`read_flow` as a per-link array in ``network``'s link order.

    Every link must have a flow and every flow a link (NetworkError otherwise).
    """
    from_ids = network.node_ids[network.from_idx]
    to_ids = network.node_ids[network.to_idx]
    keys = list(zip(from_ids.tolist(), to_ids.tolist(), strict=True))
    if len(set(keys)) != len(keys):
        raise NetworkError("the network has parallel links; TNTP flows cannot be matched to them")
    missing = [k for k in keys if k not in flows]
    extra = set(flows) - set(keys)
    if missing or extra:
        raise NetworkError(
            f"flow table does not match the network: {len(missing)} links without flow "
            f"(e.g. {missing[:3]}), {len(extra)} flows without link (e.g. {sorted(extra)[:3]})"
        )
    return np.array([flows[k][0] for k in keys], dtype=float)
