"""Scenario interventions (format version 1) applied to a :class:`Network`.

Each intervention is a dict as the package's ``scenario.interventions`` holds it
(see ``schema/scenario-v1.schema.json``): a ``type``, the links it addresses and
its parameter. They are applied in list order to a copy of the network; the
input network is never modified.

Links are addressed by exactly one of ``link_ids``, ``node_pairs`` (specific to
one network), ``street_names`` or ``osm_way_ids`` (specific to one city), or,
for ``restrict_area``, by a rule that is resolved against the network the
intervention is applied to, so it travels between cities: the links of some
road classes within ``radius_m`` of map features matching a tag filter
(``near``), or inside a GeoJSON ``polygon``. Features come from the package's
``features`` resource (a GeoJSON FeatureCollection, tags as properties).
"""

from __future__ import annotations

import difflib
import math
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from .demand import LocalProjection
from .network import Network

FEATURES_RESOURCE_HINT = "features.geojson (named by scenario.features)"
# Feature outlines are sampled this densely (metres) so that a street next to a long wall is
# measured against the wall, not only against its corners.
FEATURE_SAMPLE_M = 10.0
SELECTORS = ("link_ids", "node_pairs", "street_names", "osm_way_ids")


class InterventionError(ValueError):
    """An intervention cannot be applied; the message names its index and the cause."""


# --- map features -------------------------------------------------------------------------


@dataclass(frozen=True)
class MapFeature:
    """One map feature: its tags and its geometry as (lon, lat) arrays."""

    id: str | None
    tags: dict[str, str]
    parts: tuple[np.ndarray, ...]  # points, lines and polygon rings, each (n, 2)
    polygons: tuple[tuple[np.ndarray, ...], ...]  # rings of each polygon (outer first)


_GEOMETRY_DEPTH = {
    "Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2,
    "Polygon": 2, "MultiPolygon": 3,
}  # fmt: skip


def parse_features(collection, where: str = "features") -> list[MapFeature]:
    """Map features from a GeoJSON FeatureCollection (WGS84); ValueError naming the feature.

    Geometries: Point, MultiPoint, LineString, MultiLineString, Polygon, MultiPolygon.
    Properties are the tags: string values (null values are ignored).
    """
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ValueError(f"{where}: must be a GeoJSON FeatureCollection")
    items = collection.get("features")
    if not isinstance(items, list):
        raise ValueError(f"{where}: 'features' must be a list")
    return [_parse_feature(item, f"{where}[{i}]") for i, item in enumerate(items)]


def _parse_feature(item, where: str) -> MapFeature:
    if not isinstance(item, dict) or item.get("type") != "Feature":
        raise ValueError(f"{where}: must be a GeoJSON Feature")
    properties = item.get("properties") or {}
    if not isinstance(properties, dict):
        raise ValueError(f"{where}.properties: must be an object")
    tags = {}
    for key, value in properties.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"{where}.properties.{key}: tag values must be strings")
        tags[key] = value
    parts, polygons = parse_geometry(item.get("geometry"), f"{where}.geometry")
    feature_id = item.get("id")
    return MapFeature(None if feature_id is None else str(feature_id), tags, parts, polygons)


def parse_geometry(geometry, where: str, *, areas_only: bool = False):
    """(parts, polygons) of a GeoJSON geometry; ValueError naming ``where`` when malformed."""
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    allowed = ("Polygon", "MultiPolygon") if areas_only else tuple(_GEOMETRY_DEPTH)
    if kind not in allowed:
        raise ValueError(f"{where}: type must be one of {', '.join(allowed)}")
    coordinates = _positions(geometry.get("coordinates"), _GEOMETRY_DEPTH[kind], where)
    if kind == "Point":
        return (coordinates.reshape(1, 2),), ()
    if kind in ("MultiPoint", "LineString"):
        return (coordinates,), ()
    if kind == "MultiLineString":
        return tuple(coordinates), ()
    polygons = (coordinates,) if kind == "Polygon" else tuple(coordinates)
    for p, rings in enumerate(polygons):
        for r, ring in enumerate(rings):
            if len(ring) < 4 or not np.array_equal(ring[0], ring[-1]):
                raise ValueError(
                    f"{where}: polygon {p} ring {r} must be closed (first position = last) "
                    "with at least 4 positions"
                )
    parts = tuple(ring for rings in polygons for ring in rings)
    return parts, tuple(tuple(rings) for rings in polygons)


def _positions(value, depth: int, where: str):
    """Nested lists of [lon, lat(, z)] as arrays: depth 0 a position, 1 a list of them..."""
    if depth == 0:
        ok = isinstance(value, list) and len(value) in (2, 3)
        ok = ok and all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
        if not ok or not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
            raise ValueError(f"{where}: {str(value)[:40]} is not a WGS84 [lon, lat] position")
        return np.array(value[:2], dtype=float)
    if not isinstance(value, list) or not value:
        raise ValueError(f"{where}: coordinates must be a non-empty list")
    children = [_positions(child, depth - 1, where) for child in value]
    return np.vstack(children) if depth == 1 else children


def tag_filter_matches(tags: dict[str, str], tag_filter: dict) -> bool:
    """Every key of the filter matches: a string is the exact value, a list any of its values,
    ``true`` any value. A ``;``-separated OSM value matches when one of its parts does."""
    for key, wanted in tag_filter.items():
        value = tags.get(key)
        if value is None:
            return False
        if wanted is True:
            continue
        values = {value, *(part.strip() for part in value.split(";"))}
        options = wanted if isinstance(wanted, list) else [wanted]
        if not values & set(options):
            return False
    return True


# --- applying -----------------------------------------------------------------------------


@dataclass
class Resolved:
    """What one intervention resolved to on a network (for summaries)."""

    index: int
    type: str
    label: str | None
    links: int  # distinct links addressed
    features: int | None = None  # map features matched (restrict_area with near)
    warning: str | None = None  # e.g. a rule that matched nothing
    link_positions: np.ndarray = field(  # the links, as positions in the network's arrays
        default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False
    )

    def as_dict(self) -> dict:
        """JSON-ready: index, type, label, links, features, warning (positions left out)."""
        return {k: v for k, v in self.__dict__.items() if k != "link_positions"}


class _LinkIndex:
    """Lookups from link id and from node pair to link positions, built once per network."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.by_id = {int(link_id): i for i, link_id in enumerate(network.link_ids.tolist())}
        self.by_pair: dict[tuple[int, int], list[int]] = {}
        from_ids = network.node_ids[network.from_idx].tolist()
        to_ids = network.node_ids[network.to_idx].tolist()
        for i, pair in enumerate(zip(from_ids, to_ids, strict=True)):
            self.by_pair.setdefault(pair, []).append(i)
        self._by_name: dict[str, list[int]] | None = None
        self._by_way: dict[int, list[int]] | None = None

    def by_name(self, where: str) -> dict[str, list[int]]:
        if self._by_name is None:
            names = self.network.link_attrs.get("name")
            if names is None:
                raise InterventionError(f"{where}: the network has no street names")
            self._by_name = {}
            for i, name in enumerate(names):
                if name:
                    self._by_name.setdefault(normalise_name(name), []).append(i)
        return self._by_name

    def by_way(self, where: str) -> dict[int, list[int]]:
        if self._by_way is None:
            ways = self.network.link_attrs.get("osm_way_id")
            if ways is None:
                raise InterventionError(f"{where}: the network has no OSM way ids")
            self._by_way = {}
            for i, way in enumerate(ways):
                if way is not None:
                    self._by_way.setdefault(int(way), []).append(i)
        return self._by_way


class _Edit:
    """The arrays an intervention may change, copied once from the network."""

    def __init__(self, network: Network, features) -> None:
        self.network = network
        self.index = _LinkIndex(network)
        self.capacity = network.capacity.astype(float, copy=True)
        self.free_flow_time = network.free_flow_time.astype(float, copy=True)
        self.closed = np.array(network.closed, dtype=bool, copy=True)
        self._features = features
        self._geometry: _Geometry | None = None

    def features(self, where: str) -> list[MapFeature]:
        features = self._features
        if features is None:
            raise InterventionError(
                f"{where}: 'near' needs the package's map features, the resource "
                f"{FEATURES_RESOURCE_HINT}, and this package has none (use 'polygon', or "
                "import the network from OpenStreetMap)"
            )
        return features

    def geometry(self, where: str) -> _Geometry:
        if self._geometry is None:
            self._geometry = _Geometry(self.network, where)
        return self._geometry

    def result(self) -> Network:
        return self.network.with_changes(
            capacity=self.capacity, free_flow_time=self.free_flow_time, closed=self.closed
        )


def apply_interventions(
    network: Network, interventions: Iterable[dict], *, features=None
) -> Network:
    """Return a copy of ``network`` with the interventions applied in order.

    Raises :class:`InterventionError` naming the intervention (``interventions[i]``)
    when its type is unknown, a parameter is invalid or a link id / node pair /
    street name / OSM way is not in the network. A node pair matching several
    parallel links applies to all. ``features`` (a list of :class:`MapFeature`) are
    the map features ``near`` rules match (a package's: :meth:`LoadedPackage.features`,
    or :meth:`LoadedPackage.scenario_network`, which passes them).
    """
    return apply_interventions_report(network, interventions, features=features)[0]


def apply_interventions_report(
    network: Network, interventions: Iterable[dict], *, features=None
) -> tuple[Network, list[Resolved]]:
    """:func:`apply_interventions`, plus what each intervention resolved to.

    A rule that resolves to no link (no feature matches the tag filter, no link of
    the classes is near one, or none lies in the polygon) is not an error: it changes
    nothing, and its :class:`Resolved` has ``links == 0`` and a ``warning`` saying why.
    """
    edit = _Edit(network, features)
    resolved = []
    for position, intervention in enumerate(interventions):
        where = f"interventions[{position}]"
        if not isinstance(intervention, dict):
            raise InterventionError(f"{where}: must be an object")
        kind = intervention.get("type")
        action = _ACTIONS.get(kind)
        if action is None:
            raise InterventionError(f"{where}: unknown intervention type {kind!r}")
        where = f"{where} ({kind})"
        record = Resolved(position, kind, intervention.get("label"), 0)
        if kind == "restrict_area":
            links = _restrict_area(edit, intervention, where, record)
        else:
            links = _select(edit.index, intervention, where)
            action(edit, links, intervention, where)
        record.link_positions = np.unique(links)
        record.links = len(record.link_positions)
        resolved.append(record)
    return edit.result(), resolved


def select_links(
    network: Network, intervention: dict, *, where: str = "intervention"
) -> np.ndarray:
    """Positions of the links an intervention addresses (by one of SELECTORS)."""
    return _select(_LinkIndex(network), intervention, where)


def _select(index: _LinkIndex, intervention: dict, where: str) -> np.ndarray:
    given = [selector for selector in SELECTORS if selector in intervention]
    if len(given) != 1:
        raise InterventionError(
            f"{where}: give exactly one of link_ids, node_pairs, street_names or osm_way_ids"
        )
    selector = given[0]
    value = _non_empty_list(intervention[selector], selector, where)
    if selector == "link_ids":
        return _links_by_id(index, value, where)
    if selector == "node_pairs":
        return _links_by_node_pair(index, value, where)
    if selector == "street_names":
        return _links_by_street_name(index, value, where)
    return _links_by_way(index, value, where)


def _links_by_id(index: _LinkIndex, link_ids: list, where: str) -> np.ndarray:
    found = []
    for link_id in link_ids:
        if _as_int(link_id) not in index.by_id:
            raise InterventionError(f"{where}: link id {link_id!r} is not in the network")
        found.append(index.by_id[int(link_id)])
    return np.array(found, dtype=np.int64)


def _links_by_node_pair(index: _LinkIndex, node_pairs: list, where: str) -> np.ndarray:
    found: list[int] = []
    for pair in node_pairs:
        key = _as_pair(pair, where)
        if key not in index.by_pair:
            raise InterventionError(
                f"{where}: no link from node {key[0]} to node {key[1]} in the network"
            )
        found.extend(index.by_pair[key])
    return np.array(found, dtype=np.int64)


def normalise_name(name: str) -> str:
    """A street name for matching: accents removed, case folded, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def _links_by_street_name(index: _LinkIndex, names: list, where: str) -> np.ndarray:
    by_name = index.by_name(where)
    found: list[int] = []
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InterventionError(f"{where}: street name {name!r} must be a non-empty string")
        key = normalise_name(name)
        if key not in by_name:
            raise InterventionError(
                f"{where}: no street named {name!r} in the network" + _hint(index, key, by_name)
            )
        found.extend(by_name[key])
    return np.array(found, dtype=np.int64)


def _hint(index: _LinkIndex, key: str, by_name: dict[str, list[int]]) -> str:
    close = difflib.get_close_matches(key, list(by_name), n=5, cutoff=0.6)
    if not close:
        return " (and no similar name)"
    names = index.network.link_attrs["name"]
    spelled = [names[by_name[match][0]] for match in close]
    return "; close matches: " + ", ".join(repr(s) for s in spelled)


def _links_by_way(index: _LinkIndex, way_ids: list, where: str) -> np.ndarray:
    by_way = index.by_way(where)
    found: list[int] = []
    for way in way_ids:
        if _as_int(way) is None:
            raise InterventionError(f"{where}: OSM way id {way!r} must be an integer")
        if int(way) not in by_way:
            raise InterventionError(f"{where}: no link of the network comes from OSM way {way}")
        found.extend(by_way[int(way)])
    return np.array(found, dtype=np.int64)


def _non_empty_list(value, field: str, where: str) -> list:
    if not isinstance(value, list) or not value:
        raise InterventionError(f"{where}: {field} must be a non-empty list")
    return value


def _as_int(value) -> int | None:
    # bool is an int subclass in Python; True must not silently mean link 1.
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        return None
    return int(value)


def _as_pair(pair, where: str) -> tuple[int, int]:
    if isinstance(pair, list | tuple) and len(pair) == 2:
        first, second = _as_int(pair[0]), _as_int(pair[1])
        if first is not None and second is not None:
            return first, second
    raise InterventionError(f"{where}: node pair {pair!r} must be [from_node_id, to_node_id]")


def _number(intervention: dict, field: str, where: str, *, minimum: float, strict=False) -> float:
    value = intervention.get(field)
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):
        relation = ">" if strict else ">="
        raise InterventionError(f"{where}: {field} must be a number {relation} {minimum}")
    return float(value)


def _close_links(edit: _Edit, links: np.ndarray, intervention: dict, where: str) -> None:
    edit.closed[links] = True


def _scale_capacity(edit: _Edit, links: np.ndarray, intervention: dict, where: str) -> None:
    _scale(edit, links, _number(intervention, "factor", where, minimum=0.0))


def _scale(edit: _Edit, links: np.ndarray, factor: float) -> None:
    if factor == 0.0:
        # A zero capacity would divide by zero in the BPR function: close instead.
        edit.closed[links] = True
    else:
        edit.capacity[links] *= factor


def _set_free_flow_time(edit: _Edit, links: np.ndarray, intervention: dict, where: str) -> None:
    edit.free_flow_time[links] = _number(intervention, "minutes", where, minimum=0.0)


def _set_speed(edit: _Edit, links: np.ndarray, intervention: dict, where: str) -> None:
    speed = _number(intervention, "speed_kmh", where, minimum=0.0, strict=True)
    length_km = edit.network.length_km[links]
    unknown = ~np.isfinite(length_km)
    if unknown.any():
        link_id = int(edit.network.link_ids[links[np.argmax(unknown)]])
        raise InterventionError(f"{where}: link id {link_id} has no known length")
    edit.free_flow_time[links] = length_km / speed * 60.0


# --- restrict_area ------------------------------------------------------------------------


def _restrict_area(edit: _Edit, intervention: dict, where: str, record: Resolved) -> np.ndarray:
    has_near, has_polygon = "near" in intervention, "polygon" in intervention
    if has_near == has_polygon:
        raise InterventionError(f"{where}: give exactly one of near or polygon")
    classes = _road_classes(intervention, where)
    factor = _action_factor(intervention.get("action"), where)
    features = edit.features(where) if has_near else []
    candidates = _links_of_classes(edit.network, classes, where)
    geometry = edit.geometry(where)
    if has_near:
        tag_filter = _tag_filter(intervention["near"], where)
        radius = _number(intervention, "radius_m", where, minimum=0.0)
        matched = [f for f in features if tag_filter_matches(f.tags, tag_filter)]
        record.features = len(matched)
        links = geometry.near(candidates, matched, radius)
        if not matched:
            record.warning = (
                f"no map feature matches {_describe(tag_filter)}; nothing is restricted"
            )
        elif len(links) == 0:
            record.warning = (
                f"{len(matched)} map features match {_describe(tag_filter)} but no link of "
                f"class {', '.join(classes)} is within {radius:g} m; nothing is restricted"
            )
    else:
        try:
            _, polygons = parse_geometry(intervention["polygon"], "polygon", areas_only=True)
        except ValueError as exc:
            raise InterventionError(f"{where}: {exc}") from None
        links = geometry.inside(candidates, polygons)
        if len(links) == 0:
            record.warning = (
                f"no link of class {', '.join(classes)} lies in the polygon; nothing is restricted"
            )
    _scale(edit, links, factor)
    return links


def _road_classes(intervention: dict, where: str) -> list[str]:
    classes = _non_empty_list(intervention.get("road_classes"), "road_classes", where)
    if not all(isinstance(c, str) and c for c in classes):
        raise InterventionError(f"{where}: road_classes must be non-empty strings")
    return classes


def _action_factor(action, where: str) -> float:
    """The capacity factor of an action: "close" is 0."""
    if action == "close":
        return 0.0
    if isinstance(action, dict) and set(action) == {"scale_capacity"}:
        return _number(action, "scale_capacity", f"{where}: action", minimum=0.0)
    raise InterventionError(f'{where}: action must be "close" or {{"scale_capacity": factor}}')


def _tag_filter(value, where: str) -> dict:
    ok = isinstance(value, dict) and value
    for key, wanted in value.items() if ok else ():
        options = wanted if isinstance(wanted, list) else [wanted]
        ok = ok and isinstance(key, str) and key != "" and options != []
        ok = ok and (wanted is True or all(isinstance(o, str) for o in options))
    if not ok:
        raise InterventionError(
            f'{where}: near must be a tag filter such as {{"amenity": "school"}} '
            "(values: a string, a list of strings, or true for any value)"
        )
    return value


def _describe(tag_filter: dict) -> str:
    def one(key, wanted):
        if wanted is True:
            return f"{key}=*"
        return f"{key}={'|'.join(wanted) if isinstance(wanted, list) else wanted}"

    return " and ".join(one(k, v) for k, v in tag_filter.items())


def _links_of_classes(network: Network, classes: list[str], where: str) -> np.ndarray:
    road_class = network.link_attrs.get("road_class")
    if road_class is None:
        raise InterventionError(
            f"{where}: the network has no road classes (GMNS facility_type), so road_classes "
            "cannot be matched"
        )
    wanted = set(classes)
    return np.array([i for i, c in enumerate(road_class) if c in wanted], dtype=np.int64)


class _Geometry:
    """Link polylines in local metres, for distance and containment tests."""

    def __init__(self, network: Network, where: str) -> None:
        self.network = network
        if network.node_x is None or network.node_y is None:
            raise InterventionError(
                f"{where}: the network has no coordinates, so areas cannot be resolved"
            )
        self.proj = LocalProjection.around(network.node_y[np.isfinite(network.node_y)])
        self.lonlat: dict[int, np.ndarray] = {}

    def link_lonlat(self, i: int) -> np.ndarray | None:
        if i not in self.lonlat:
            geometries = self.network.link_attrs.get("geometry")
            geometry = geometries[i] if geometries is not None else None
            if geometry is None or len(geometry) < 2:
                a, b = self.network.from_idx[i], self.network.to_idx[i]
                geometry = [
                    (self.network.node_x[a], self.network.node_y[a]),
                    (self.network.node_x[b], self.network.node_y[b]),
                ]
            points = np.asarray(geometry, dtype=float)
            self.lonlat[i] = points if np.isfinite(points).all() else None
        return self.lonlat[i]

    def near(self, candidates: np.ndarray, features: list[MapFeature], radius: float):
        """Candidates whose polyline comes within ``radius`` m of a feature (or lies in one)."""
        if not features or len(candidates) == 0:
            return np.zeros(0, dtype=np.int64)
        samples = [
            densify(self.proj.xy(*part.T), FEATURE_SAMPLE_M) for f in features for part in f.parts
        ]
        tree = cKDTree(np.vstack(samples))
        polygons = [rings for f in features for rings in f.polygons]
        lines = {i: self.link_lonlat(i) for i in candidates.tolist()}
        lines = {i: line for i, line in lines.items() if line is not None}
        within = set()
        if polygons and lines:
            owner = np.concatenate([np.full(len(line), i) for i, line in lines.items()])
            within = set(owner[points_in_polygons(np.vstack(list(lines.values())), polygons)])
        hits = [
            i
            for i, line in lines.items()
            if i in within or polyline_near(self.proj.xy(*line.T), tree, radius)
        ]
        return np.array(hits, dtype=np.int64)

    def inside(self, candidates: np.ndarray, polygons) -> np.ndarray:
        """Candidates whose point halfway along their geometry lies in one of the polygons."""
        middles, kept = [], []
        for i in candidates.tolist():
            lonlat = self.link_lonlat(i)
            if lonlat is not None:
                middles.append(self._halfway(lonlat))
                kept.append(i)
        if not kept:
            return np.zeros(0, dtype=np.int64)
        inside = points_in_polygons(np.array(middles), polygons)
        return np.array(kept, dtype=np.int64)[inside]

    def _halfway(self, lonlat: np.ndarray) -> np.ndarray:
        xy = self.proj.xy(*lonlat.T)
        steps = np.hypot(*np.diff(xy, axis=0).T)
        total = steps.sum()
        if total == 0:
            return lonlat[0]
        cumulative = np.concatenate([[0.0], np.cumsum(steps)])
        k = min(int(np.searchsorted(cumulative, total / 2, side="right")) - 1, len(steps) - 1)
        t = (total / 2 - cumulative[k]) / steps[k] if steps[k] > 0 else 0.0
        return lonlat[k] + t * (lonlat[k + 1] - lonlat[k])


def densify(xy: np.ndarray, step: float) -> np.ndarray:
    """The polyline's vertices plus points so that no gap exceeds ``step``."""
    points = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        n = max(1, math.ceil(np.hypot(*(b - a)) / step))
        t = np.arange(1, n + 1)[:, None] / n
        points.append(a + t * (b - a))
    return np.vstack(points)


def polyline_near(xy: np.ndarray, tree: cKDTree, radius: float) -> bool:
    """Does the polyline ``xy`` pass within ``radius`` of any point of ``tree``?"""
    for a, b in zip(xy[:-1], xy[1:], strict=True):
        half = np.hypot(*(b - a)) / 2
        candidates = tree.query_ball_point((a + b) / 2, radius + half)
        if candidates and _segment_distance(tree.data[candidates], a, b).min() <= radius:
            return True
    return False


def _segment_distance(points: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distances from points to the segment a-b."""
    ab = b - a
    denom = float(ab @ ab)
    t = np.zeros(len(points)) if denom == 0 else np.clip((points - a) @ ab / denom, 0.0, 1.0)
    return np.hypot(*(points - (a + t[:, None] * ab)).T)


def points_in_polygons(points: np.ndarray, polygons) -> np.ndarray:
    """For (n, 2) lon/lat points: inside any polygon (even-odd rule over its rings, so holes
    are outside)?"""
    inside_any = np.zeros(len(points), dtype=bool)
    for rings in polygons:
        low, high = rings[0].min(axis=0), rings[0].max(axis=0)
        box = np.flatnonzero(((points >= low) & (points <= high)).all(axis=1))
        if len(box) == 0:
            continue
        x, y = points[box, 0], points[box, 1]
        inside = np.zeros(len(box), dtype=bool)
        for ring in rings:
            for (x1, y1), (x2, y2) in zip(ring[:-1], ring[1:], strict=True):
                crosses = (y1 > y) != (y2 > y)
                with np.errstate(divide="ignore", invalid="ignore"):
                    x_cross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
                inside ^= crosses & (x < x_cross)
        inside_any[box[inside]] = True
    return inside_any


_ACTIONS: dict[str, Callable[[_Edit, np.ndarray, dict, str], None]] = {
    "close_links": _close_links,
    "scale_capacity": _scale_capacity,
    "set_free_flow_time": _set_free_flow_time,
    "set_speed": _set_speed,
    "restrict_area": _close_links,  # resolved and applied by _restrict_area
}
