"""GMNS node/link tables and OD-matrix CSV: readers and writers.

Conventions (docs/package-format.md has the full table):

* ``node.csv``: node_id, x_coord, y_coord (WGS84 lon/lat, or empty when
  unknown), zone_id, node_type. Zones are the nodes whose node_type is
  ``centroid``; their zone id is their node id.
* ``link.csv``: link_id, from_node_id, to_node_id, directed, length [m],
  free_speed [km/h], lanes, capacity [veh/h **per lane**, as GMNS defines it;
  the link's capacity is capacity x lanes, lanes empty = 1], facility_type
  (the road class), name, vdf_fftt [min], vdf_alpha, vdf_beta, toll,
  osm_way_id, geometry (WKT ``LINESTRING (lon lat, ...)``).
  ``vdf_fftt`` is authoritative; when empty it is length / free_speed.
  Columns GMNS defines that we do not use (and user-defined ones, which GMNS
  allows) are ignored.
* OD CSV: origin, destination, trips; pairs not listed have no trips.

Every error is a :class:`GmnsError` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .network import Demand, Network, NetworkError

NODE_COLUMNS = ("node_id", "x_coord", "y_coord", "zone_id", "node_type")
LINK_COLUMNS = (
    "link_id",
    "from_node_id",
    "to_node_id",
    "directed",
    "length",
    "free_speed",
    "lanes",
    "capacity",
    "facility_type",
    "name",
    "vdf_fftt",
    "vdf_alpha",
    "vdf_beta",
    "toll",
    "osm_way_id",
    "geometry",
)
OD_COLUMNS = ("origin", "destination", "trips")
CENTROID = "centroid"
DEFAULT_ALPHA = 0.15
DEFAULT_BETA = 4.0
# Metres per unit of the package's cost.distance_unit.
DISTANCE_UNITS_M = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048}
_MISSING = ("", "NaN", "nan")  # GMNS missingValues
_TRUE = {"true", "1", "yes", "t", "y"}
_FALSE = {"false", "0", "no", "f", "n"}


class GmnsError(NetworkError):
    """A GMNS or OD CSV file is malformed; the message names file, line and column."""


# --- reading CSV tables -------------------------------------------------------------------


class _Table:
    """A parsed CSV: header plus rows, keeping line numbers for error messages."""

    def __init__(self, data: bytes | str | Path, name: str | None = None) -> None:
        raw, self.name = read_source(data, name)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            message = f"{self.name}: not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise GmnsError(message) from None
        self.header, self.rows, self.lines = self._parse(text)

    def _parse(self, text: str) -> tuple[list[str], list[list[str]], list[int]]:
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [column.strip() for column in next(reader, [])]
            rows, lines = [], []
            for row in reader:
                if not any(cell.strip() for cell in row):
                    continue  # blank lines carry nothing
                if len(row) != len(header):
                    raise GmnsError(
                        f"{self.name}: line {reader.line_num}: {len(row)} values "
                        f"for {len(header)} columns"
                    )
                rows.append([cell.strip() for cell in row])
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise GmnsError(f"{self.name}: line {reader.line_num}: {exc}") from None
        self._check_header(header)
        return header, rows, lines

    def _check_header(self, header: list[str]) -> None:
        if not header or header == [""]:
            raise GmnsError(f"{self.name}: empty file (no header line)")
        duplicates = sorted({c for c in header if header.count(c) > 1})
        if duplicates:
            raise GmnsError(f"{self.name}: duplicate column {duplicates[0]!r}")

    def has(self, column: str) -> bool:
        return column in self.header

    def require(self, *columns: str) -> None:
        for column in columns:
            if column not in self.header:
                raise GmnsError(f"{self.name}: missing column {column!r}")

    def cells(self, column: str) -> list[str]:
        """The raw cells of a column; all missing when the column is absent."""
        if column not in self.header:
            return [""] * len(self.rows)
        position = self.header.index(column)
        return [row[position] for row in self.rows]

    def parse(self, column: str, parse: Callable[[str], object], *, default=None) -> list:
        """Parse a column cell by cell; a missing cell gives ``default`` (None = required)."""
        values = []
        for line, cell in zip(self.lines, self.cells(column), strict=True):
            if cell in _MISSING:
                if default is None:
                    raise GmnsError(f"{self.name}: line {line}: column {column}: value missing")
                values.append(default)
                continue
            try:
                values.append(parse(cell))
            except ValueError as exc:
                raise GmnsError(f"{self.name}: line {line}: column {column}: {exc}") from None
        return values

    def line_of(self, row: int) -> int:
        return self.lines[row]


def read_source(
    data: bytes | str | Path, name: str | None, error: type[Exception] | None = None
) -> tuple[bytes, str]:
    """The bytes of a path or of bytes, and the name to use in messages."""
    if isinstance(data, bytes | bytearray):
        return bytes(data), name or "<bytes>"
    path = Path(data)
    try:
        return path.read_bytes(), name or path.name
    except OSError as exc:
        message = f"{name or path.name}: cannot be read ({exc.strerror})"
        raise (error or GmnsError)(message) from None


def _int(cell: str) -> int:
    try:
        return int(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not an integer") from None


def _float(cell: str) -> float:
    try:
        value = float(cell)
    except ValueError:
        raise ValueError(f"{cell!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not a finite number")
    return value


def _non_negative(cell: str) -> float:
    value = _float(cell)
    if value < 0:
        raise ValueError(f"{cell!r} is negative")
    return value


def _positive(cell: str) -> float:
    value = _float(cell)
    if value <= 0:
        raise ValueError(f"{cell!r} must be > 0")
    return value


def _lanes(cell: str) -> int:
    value = _int(cell)
    if value < 1:
        raise ValueError(f"{cell!r} lanes: must be >= 1 (close a link with an intervention)")
    return value


def _directed(cell: str) -> bool:
    if cell.lower() in _TRUE:
        return True
    if cell.lower() in _FALSE:
        raise ValueError("undirected links are not supported: give one link per direction")
    raise ValueError(f"{cell!r} is not a boolean")


_WKT_LINESTRING = re.compile(r"^\s*LINESTRING\s*\((.*)\)\s*$", re.IGNORECASE | re.DOTALL)


def parse_wkt_linestring(text: str) -> list[tuple[float, float]]:
    """``LINESTRING (x y, x y, ...)`` as a list of (x, y); ValueError if malformed."""
    match = _WKT_LINESTRING.match(text)
    if not match:
        raise ValueError(f"{text[:40]!r} is not a WKT LINESTRING")
    points = []
    for vertex in match.group(1).split(","):
        parts = vertex.split()
        if len(parts) != 2:
            raise ValueError(f"LINESTRING vertex {vertex.strip()!r} is not 'x y'")
        points.append((_float(parts[0]), _float(parts[1])))
    if len(points) < 2:
        raise ValueError("a LINESTRING needs at least two vertices")
    return points


def _unique(table: _Table, column: str, values: list[int]) -> None:
    seen: dict[int, int] = {}
    for row, value in enumerate(values):
        if value in seen:
            raise GmnsError(
                f"{table.name}: line {table.line_of(row)}: column {column}: "
                f"duplicate id {value} (first on line {table.line_of(seen[value])})"
            )
        seen[value] = row


# --- network ------------------------------------------------------------------------------


def read_network(
    node_csv: bytes | str | Path,
    link_csv: bytes | str | Path,
    *,
    distance_unit: str = "km",
    block_centroid_flows: bool = True,
    node_name: str | None = None,
    link_name: str | None = None,
) -> Network:
    """Read GMNS node and link tables (paths or bytes) into a :class:`Network`.

    ``distance_unit`` is the package's ``cost.distance_unit``: link lengths
    (metres) are converted to it for ``length_source``, which the distance
    weight of the generalised cost multiplies.
    """
    if distance_unit not in DISTANCE_UNITS_M:
        raise GmnsError(f"unknown distance unit {distance_unit!r}")
    nodes = _read_nodes(_Table(node_csv, node_name or "node.csv"))
    link_table = _Table(link_csv, link_name or "link.csv")
    links = _read_links(link_table, nodes["index_of"])
    length_km = links.pop("length_km")
    return Network(
        node_ids=nodes["node_ids"],
        zone_ids=nodes["zone_ids"],
        node_x=nodes["x"],
        node_y=nodes["y"],
        block_centroid_flows=block_centroid_flows,
        length_km=length_km,
        length_source=np.nan_to_num(length_km * 1000.0 / DISTANCE_UNITS_M[distance_unit]),
        **links,
    )


def _read_nodes(table: _Table) -> dict:
    table.require("node_id")
    node_ids = table.parse("node_id", _int)
    _unique(table, "node_id", node_ids)
    x = np.array(table.parse("x_coord", _float, default=math.nan), dtype=float)
    y = np.array(table.parse("y_coord", _float, default=math.nan), dtype=float)
    no_coordinates = bool(np.isnan(x).all() and np.isnan(y).all())
    return {
        "node_ids": np.array(node_ids, dtype=np.int64),
        "zone_ids": _zones(table, node_ids),
        "x": None if no_coordinates else x,
        "y": None if no_coordinates else y,
        "index_of": {node_id: i for i, node_id in enumerate(node_ids)},
    }


def _zones(table: _Table, node_ids: list[int]) -> np.ndarray:
    zones = []
    cells = zip(node_ids, table.cells("node_type"), table.cells("zone_id"), strict=True)
    for row, (node_id, node_type, zone_id) in enumerate(cells):
        # GMNS lets any node name the zone it lies in; only centroids define zones here.
        if node_type.lower() != CENTROID:
            continue
        if zone_id not in _MISSING and zone_id != str(node_id):
            # Zones are addressed by their centroid's node id; another zone_id would
            # silently renumber the demand matrix.
            raise GmnsError(
                f"{table.name}: line {table.line_of(row)}: column zone_id: a centroid's "
                f"zone_id must equal its node_id ({node_id}), got {zone_id!r}"
            )
        zones.append(node_id)
    return np.array(zones, dtype=np.int64)


def _read_links(table: _Table, index_of: dict[int, int]) -> dict:
    table.require("link_id", "from_node_id", "to_node_id", "capacity")
    link_ids = table.parse("link_id", _int)
    _unique(table, "link_id", link_ids)
    table.parse("directed", _directed, default=True)  # refuses undirected links
    lanes = np.array(table.parse("lanes", _lanes, default=1), dtype=float)
    length_m = np.array(table.parse("length", _non_negative, default=math.nan), dtype=float)
    return {
        "link_ids": np.array(link_ids, dtype=np.int64),
        "from_idx": _node_indices(table, "from_node_id", index_of),
        "to_idx": _node_indices(table, "to_node_id", index_of),
        "capacity": np.array(table.parse("capacity", _positive), dtype=float) * lanes,
        "free_flow_time": _free_flow_time(table, length_m),
        "alpha": np.array(table.parse("vdf_alpha", _non_negative, default=DEFAULT_ALPHA)),
        "beta": np.array(table.parse("vdf_beta", _non_negative, default=DEFAULT_BETA)),
        "toll": np.array(table.parse("toll", _float, default=0.0), dtype=float),
        "length_km": length_m / 1000.0,
        "link_attrs": _link_attrs(table),
    }


def _node_indices(table: _Table, column: str, index_of: dict[int, int]) -> np.ndarray:
    indices = []
    for row, node_id in enumerate(table.parse(column, _int)):
        if node_id not in index_of:
            raise GmnsError(
                f"{table.name}: line {table.line_of(row)}: column {column}: "
                f"node {node_id} is not in the node table"
            )
        indices.append(index_of[node_id])
    return np.array(indices, dtype=np.int64)


def _free_flow_time(table: _Table, length_m: np.ndarray) -> np.ndarray:
    fftt = np.array(table.parse("vdf_fftt", _non_negative, default=math.nan), dtype=float)
    speed = np.array(table.parse("free_speed", _positive, default=math.nan), dtype=float)
    derived = length_m / 1000.0 / speed * 60.0
    fftt = np.where(np.isnan(fftt), derived, fftt)
    missing = np.flatnonzero(np.isnan(fftt))
    if len(missing):
        raise GmnsError(
            f"{table.name}: line {table.line_of(int(missing[0]))}: column vdf_fftt: value "
            "missing (give vdf_fftt, or length and free_speed)"
        )
    return fftt


def _link_attrs(table: _Table) -> dict[str, list]:
    """Optional per-link attributes, kept only when the file gives at least one value."""
    attrs = {
        "name": table.parse("name", str, default=""),
        "road_class": table.parse("facility_type", str, default=""),
        "osm_way_id": [None if v == "" else v for v in table.parse("osm_way_id", _int, default="")],
        "geometry": [
            None if v == "" else v
            for v in table.parse("geometry", parse_wkt_linestring, default="")
        ],
    }
    attrs["lanes"] = [None if v == "" else v for v in table.parse("lanes", _lanes, default="")]
    return {
        key: values for key, values in attrs.items() if any(v not in ("", None) for v in values)
    }


# --- writing ------------------------------------------------------------------------------


def _fmt(value) -> str:
    """Shortest text that reads back to the same float; empty for unknown values."""
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return "" if not math.isfinite(value) else repr(float(value))
    return str(value)


def _csv_bytes(header: tuple[str, ...], rows) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_network(network: Network) -> tuple[bytes, bytes]:
    """GMNS ``node.csv`` and ``link.csv`` bytes for a network (closed links are refused)."""
    if network.closed is not None and network.closed.any():
        raise GmnsError(
            "write_network: the network has closed links; write closures as interventions"
        )
    return _node_bytes(network), _link_bytes(network)


def _node_bytes(network: Network) -> bytes:
    zones = set(network.zone_ids.tolist())
    x = network.node_x if network.node_x is not None else np.full(network.n_nodes, np.nan)
    y = network.node_y if network.node_y is not None else np.full(network.n_nodes, np.nan)
    rows = (
        (node_id, _fmt(x[i]), _fmt(y[i]), node_id if node_id in zones else "",
         CENTROID if node_id in zones else "")
        for i, node_id in enumerate(network.node_ids.tolist())
    )  # fmt: skip
    return _csv_bytes(NODE_COLUMNS, rows)


def _link_bytes(network: Network) -> bytes:
    attrs = network.link_attrs
    lanes = list(attrs.get("lanes", [None] * network.n_links))
    per_lane = network.capacity / np.array([1 if n is None else n for n in lanes], dtype=float)
    length_km = network.length_km
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where(
            network.free_flow_time > 0, length_km / network.free_flow_time * 60, np.nan
        )
    columns = {
        "link_id": network.link_ids.tolist(),
        "from_node_id": network.node_ids[network.from_idx].tolist(),
        "to_node_id": network.node_ids[network.to_idx].tolist(),
        "directed": ["true"] * network.n_links,
        "length": (length_km * 1000.0).tolist(),
        "free_speed": speed.tolist(),
        "lanes": lanes,
        "capacity": per_lane.tolist(),
        "facility_type": attrs.get("road_class", [None] * network.n_links),
        "name": attrs.get("name", [None] * network.n_links),
        "vdf_fftt": network.free_flow_time.tolist(),
        "vdf_alpha": network.alpha.tolist(),
        "vdf_beta": network.beta.tolist(),
        "toll": network.toll.tolist(),
        "osm_way_id": attrs.get("osm_way_id", [None] * network.n_links),
        "geometry": [_wkt(g) for g in attrs.get("geometry", [None] * network.n_links)],
    }
    rows = zip(*([_fmt(v) for v in columns[c]] for c in LINK_COLUMNS), strict=True)
    return _csv_bytes(LINK_COLUMNS, rows)


def _wkt(points) -> str | None:
    if points is None or len(points) == 0:
        return None
    return "LINESTRING (" + ", ".join(f"{_fmt(float(x))} {_fmt(float(y))}" for x, y in points) + ")"


# --- OD matrix ----------------------------------------------------------------------------


def read_od_csv(
    path_or_bytes: bytes | str | Path,
    network: Network,
    *,
    name: str | None = None,
    synthetic: bool = False,
    description: str = "",
) -> Demand:
    """Read an OD CSV (origin, destination, trips) into a :class:`Demand` over the network's zones.

    Every origin and destination must be a zone of the network; trips must be
    finite and >= 0; a pair may appear once. Unlisted pairs have no trips.
    """
    table = _Table(path_or_bytes, name or "od.csv")
    table.require(*OD_COLUMNS)
    unknown = [c for c in table.header if c not in OD_COLUMNS]
    if unknown:
        raise GmnsError(f"{table.name}: unexpected column {unknown[0]!r}")
    zone_index = {zone: i for i, zone in enumerate(network.zone_ids.tolist())}
    origins = _zone_indices(table, "origin", zone_index)
    destinations = _zone_indices(table, "destination", zone_index)
    trips = table.parse("trips", _non_negative)
    _no_duplicate_pairs(table, origins, destinations)
    matrix = np.zeros((len(zone_index), len(zone_index)))
    matrix[origins, destinations] = trips
    return Demand(
        zone_ids=network.zone_ids.copy(),
        matrix=matrix,
        synthetic=synthetic,
        description=description,
    )


def _zone_indices(table: _Table, column: str, zone_index: dict[int, int]) -> np.ndarray:
    indices = []
    for row, zone in enumerate(table.parse(column, _int)):
        if zone not in zone_index:
            raise GmnsError(
                f"{table.name}: line {table.line_of(row)}: column {column}: "
                f"{zone} is not a zone of the network"
            )
        indices.append(zone_index[zone])
    return np.array(indices, dtype=np.int64)


def _no_duplicate_pairs(table: _Table, origins: np.ndarray, destinations: np.ndarray) -> None:
    first_row: dict[tuple[int, int], int] = {}
    for row, pair in enumerate(zip(origins.tolist(), destinations.tolist(), strict=True)):
        if pair in first_row:
            raise GmnsError(
                f"{table.name}: line {table.line_of(row)}: OD pair repeated "
                f"(first on line {table.line_of(first_row[pair])})"
            )
        first_row[pair] = row


def write_od_csv(demand: Demand) -> bytes:
    """OD CSV bytes of the non-zero cells of a demand matrix, in zone order."""
    rows_idx, cols_idx = np.nonzero(demand.matrix)
    zones = demand.zone_ids.tolist()
    rows = (
        (zones[r], zones[c], _fmt(float(demand.matrix[r, c])))
        for r, c in zip(rows_idx.tolist(), cols_idx.tolist(), strict=True)
    )
    return _csv_bytes(OD_COLUMNS, rows)


# --- Frictionless table schemas (documentation for other tools: types and units) ---------

_FIELDS = {
    "node_id": ("integer", "Node id."),
    "x_coord": ("number", "Longitude (WGS84), empty when unknown."),
    "y_coord": ("number", "Latitude (WGS84), empty when unknown."),
    "zone_id": ("integer", "For a centroid, its zone id (= node_id)."),
    "node_type": ("string", "'centroid' for zone centroids."),
    "link_id": ("integer", "Link id."),
    "from_node_id": ("integer", "Tail node."),
    "to_node_id": ("integer", "Head node."),
    "directed": ("boolean", "Always true: one link per direction."),
    "length": ("number", "Length in metres."),
    "free_speed": ("number", "Free-flow speed in km/h (informative; vdf_fftt rules)."),
    "lanes": ("integer", "Lanes in the direction of travel; empty = 1."),
    "capacity": ("number", "Capacity per lane in vehicles per hour; link capacity = x lanes."),
    "facility_type": ("string", "Road class (OSM highway=* value for OSM-derived networks)."),
    "name": ("string", "Street name."),
    "vdf_fftt": ("number", "Free-flow travel time in minutes (BPR t0)."),
    "vdf_alpha": ("number", "BPR alpha; empty = 0.15."),
    "vdf_beta": ("number", "BPR beta (power); empty = 4."),
    "toll": ("number", "Toll in the package's cost unit."),
    "osm_way_id": ("integer", "OpenStreetMap way the link comes from."),
    "geometry": ("string", "WKT LINESTRING in lon lat order."),
    "origin": ("integer", "Origin zone id."),
    "destination": ("integer", "Destination zone id."),
    "trips": ("number", "Trips from origin to destination in the assignment period."),
}
_TABLES = {"node": NODE_COLUMNS, "link": LINK_COLUMNS, "od": OD_COLUMNS}


def table_schema(table: str) -> dict:
    """The Frictionless Table Schema of the ``node``, ``link`` or ``od`` table we write."""
    fields = [
        {"name": column, "type": _FIELDS[column][0], "description": _FIELDS[column][1]}
        for column in _TABLES[table]
    ]
    return {"fields": fields, "missingValues": ["", "NaN"]}


def header_of(data: bytes) -> list[str]:
    """The column names of a CSV file's first line."""
    first = data.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace")
    return [column.strip() for column in next(csv.reader([first]), [])]
