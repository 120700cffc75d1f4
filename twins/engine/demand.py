"""Zones and synthetic demand for networks that come without a matrix (OSM imports).

Rules (also in docs/osm-import.md):

* **Zones** are the cells of a regular grid of ``zone_size_m`` metres (default 500 m) laid
  over the network in a local equirectangular projection. Only cells that contain network
  nodes become zones. A zone's centroid is a new node at the mean position of the network
  nodes in its cell.
* **Centroid ids** are ``1..Z`` when no network node uses those numbers, otherwise they start
  just above the largest network node id; either way they never collide.
* **Centroid connectors** join each centroid, in both directions, to its ``connectors``
  (default 3) nearest nodes of the *main-road core*: the largest strongly connected part of
  the roads that are neither local streets (residential, living_street, service) nor
  motorway/trunk roads. Access along local streets happens inside the zone, as in most urban
  models, and closing local streets (school streets) can then never cut a zone off. Without
  such roads any non-motorway node will do. A connector's length is the great-circle
  distance, its speed 30 km/h and its capacity 10,000 veh/h so that it is never the
  bottleneck; BPR 0.15 / 4 like the roads. Centroids are not passed through
  (``block_centroid_flows=True``).
* **Zone activity** (the weight of productions and attractions). With a :class:`LandUse`
  that holds building floor area (the OSM import collects it), a zone's *productions* weigh
  its residential floor area (home-based trips start at home) and its *attractions* its
  non-residential floor area plus its points of interest, each in m² of floor-area
  equivalent (:data:`twins.engine.osm.POI_WEIGHTS_M2`). Buildings and POIs belong to the
  zone whose cell holds their point, or, outside every zone cell, to the nearest centroid.
  **Fallback:** when the land use has no building floor area in any zone (no buildings
  mapped, or no land use given), both sides weigh the zone's road length: the directed
  length of every non-motorway, non-trunk link whose start node lies in the cell; and when
  buildings exist but one side is empty everywhere (say no residential building at all),
  that side alone falls back to road length. Both are crude proxies for where people live
  and work; the demand is labelled synthetic for that reason.
* **Demand** is a doubly-constrained gravity model (Furness balancing): productions
  ``P_i`` and attractions ``A_j`` are the zone weights times independent log-normal noise
  (sigma 0.25, from ``seed``), each scaled to ``trips``; deterrence is ``exp(-beta * t_ij)``
  with ``t_ij`` the free-flow shortest-path time in minutes (``beta`` = 0.10 /min, a typical
  urban car value); intrazonal trips are left out because they do not load the network.
  The matrix sums to ``trips`` exactly and is identical for the same network, trips and seed.
* **Total trips**, when not given: the free-flow vehicle-minutes of the demand are set to
  ``utilisation`` (default 0.2) of the main roads' supply, sum of capacity x free-flow
  minutes over main roads (every non-local, non-connector link): a mean main-road v/c of
  about 0.2 over the hour, which puts the busiest links of a town near capacity. Rounded to
  10 trips.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from .network import Demand, Network, NetworkError

EARTH_RADIUS_KM = 6371.0088  # IUGG mean radius

CONNECTOR_SPEED_KMH = 30.0
CONNECTOR_CAPACITY = 10_000.0
CONNECTOR_CLASS = "centroid_connector"
# Roads that carry no local access: no connectors to them and no zone activity from them.
THROUGH_CLASSES = frozenset({"motorway", "motorway_link", "trunk", "trunk_link"})
# Local streets: access to buildings happens on them inside a zone, and interventions such as
# school streets close them; connectors therefore join the main roads (everything else).
LOCAL_CLASSES = frozenset({"residential", "living_street", "service"})

GRAVITY_BETA_PER_MIN = 0.10
NOISE_SIGMA = 0.25
# Without a given total, demand is sized so that its free-flow vehicle-minutes are this share
# of what the main roads carry at capacity in an hour. 0.2 loads the Granada extract to a
# plausible peak (busiest links at v/c ~1-1.3, no gridlock) and transfers across extracts far
# better than trips per km of road did (docs/osm-import.md has the measurements).
DEFAULT_UTILISATION = 0.2
# Share of trip generation from land use where buildings are mapped; the rest follows road
# length (see _blend_with_roads).
LAND_USE_SHARE = 0.5


def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km between points given in degrees (arrays broadcast)."""
    lon1, lat1, lon2, lat2 = (
        np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2)
    )
    a = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def polyline_length_km(coords) -> float:
    """Great-circle length in km along a list of (lon, lat) points."""
    xy = np.asarray(coords, dtype=float)
    if len(xy) < 2:
        return 0.0
    return float(haversine_km(xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]).sum())


@dataclass(frozen=True)
class LocalProjection:
    """Equirectangular projection to metres around a reference latitude.

    Good to well under 1 % over a town-sized extract, which is all zoning and the
    school-streets distance test need.
    """

    lat0: float

    @classmethod
    def around(cls, lat) -> LocalProjection:
        return cls(float(np.mean(lat)))

    def xy(self, lon, lat) -> np.ndarray:
        """(n, 2) array of metres for arrays of lon, lat in degrees."""
        k = EARTH_RADIUS_KM * 1000.0 * math.pi / 180.0
        x = np.asarray(lon, dtype=float) * k * math.cos(math.radians(self.lat0))
        y = np.asarray(lat, dtype=float) * k
        return np.column_stack([x, y])


@dataclass
class LandUse:
    """Buildings and points of interest as points with weights (no geometry kept).

    ``residential_m2`` and ``other_m2`` are per-building floor areas (footprint x levels),
    one of them zero; ``poi_weight_m2`` is each POI's floor-area equivalent.
    """

    building_lon: np.ndarray
    building_lat: np.ndarray
    residential_m2: np.ndarray
    other_m2: np.ndarray
    poi_lon: np.ndarray
    poi_lat: np.ndarray
    poi_weight_m2: np.ndarray

    @classmethod
    def empty(cls) -> LandUse:
        return cls(*(np.zeros(0) for _ in range(7)))

    @property
    def n_buildings(self) -> int:
        return len(self.building_lon)

    @property
    def n_pois(self) -> int:
        return len(self.poi_lon)


@dataclass
class Zones:
    """The zones added to a network: ids, centroid positions, activity and connectors."""

    zone_ids: np.ndarray  # int64 (Z,), centroid node ids
    lon: np.ndarray  # float64 (Z,)
    lat: np.ndarray  # float64 (Z,)
    activity_km: np.ndarray  # float64 (Z,), road length in the cell
    zone_size_m: float
    # Trip-generation weights (see the module docstring); None: road length on both sides.
    production_weight: np.ndarray | None = None
    attraction_weight: np.ndarray | None = None
    production_basis: str = "road length"
    attraction_basis: str = "road length"

    @property
    def n_zones(self) -> int:
        return len(self.zone_ids)

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """Production and attraction weights per zone (road length where not land use)."""
        produce = self.activity_km if self.production_weight is None else self.production_weight
        attract = self.activity_km if self.attraction_weight is None else self.attraction_weight
        return produce, attract


def add_grid_zones(
    network: Network,
    *,
    zone_size_m: float = 500.0,
    connectors: int = 3,
    land_use: LandUse | None = None,
) -> tuple[Network, Zones]:
    """A copy of ``network`` with grid-cell zones, centroids and connectors added.

    ``network`` must have node_x/node_y in degrees (lon, lat) and no zones yet. With
    ``land_use`` the zones' trip generation comes from its buildings and POIs (module
    docstring, including the fallback to road length).
    """
    if network.node_x is None or network.node_y is None:
        raise NetworkError("grid zones need node coordinates (lon, lat)")
    if zone_size_m <= 0 or connectors < 1:
        raise ValueError("zone_size_m must be > 0 and connectors >= 1")
    cells, cell_of_node = _grid_cells(network, zone_size_m)
    zones = _zones_from_cells(network, cells, cell_of_node, zone_size_m)
    if land_use is not None:
        _add_land_use(network, zones, cells, land_use)
    eligible = _access_nodes(network)
    return _with_connectors(network, zones, eligible, connectors), zones


def _grid_cells(network: Network, size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Sorted unique (row, col) cells that hold nodes, and each node's index into them."""
    xy = LocalProjection.around(network.node_y).xy(network.node_x, network.node_y)
    col_row = np.floor((xy - xy.min(axis=0)) / size_m).astype(np.int64)
    # Rows first so zones are numbered south to north, west to east.
    cells, cell_of_node = np.unique(col_row[:, ::-1], axis=0, return_inverse=True)
    return cells, cell_of_node.ravel()


def _zones_from_cells(network, cells, cell_of_node, size_m) -> Zones:
    n_cells = len(cells)
    count = np.bincount(cell_of_node, minlength=n_cells)
    # Rounded to OSM's own precision (1e-7 degrees, about 1 cm).
    lon = np.round(np.bincount(cell_of_node, weights=network.node_x, minlength=n_cells) / count, 7)
    lat = np.round(np.bincount(cell_of_node, weights=network.node_y, minlength=n_cells) / count, 7)
    local = _non_through_links(network)
    activity = np.bincount(
        cell_of_node[network.from_idx[local]],
        weights=np.nan_to_num(network.length_km[local]),
        minlength=n_cells,
    )
    return Zones(_centroid_ids(network.node_ids, n_cells), lon, lat, activity, size_m)


def _add_land_use(network: Network, zones: Zones, cells: np.ndarray, land_use: LandUse) -> None:
    """Set the zones' production and attraction weights from buildings and POIs."""
    if land_use.n_buildings == 0:
        return
    res = _per_zone(network, zones, cells, land_use.building_lon, land_use.building_lat,
                    land_use.residential_m2)  # fmt: skip
    other = _per_zone(network, zones, cells, land_use.building_lon, land_use.building_lat,
                      land_use.other_m2)  # fmt: skip
    other = other + _per_zone(
        network, zones, cells, land_use.poi_lon, land_use.poi_lat, land_use.poi_weight_m2
    )
    if res.sum() + other.sum() <= 0:
        return
    if res.sum() > 0:
        zones.production_weight = _blend_with_roads(res, zones)
        zones.production_basis = f"residential floor area ({LAND_USE_SHARE:.0%}) and road length"
    if other.sum() > 0:
        zones.attraction_weight = _blend_with_roads(other, zones)
        zones.attraction_basis = (
            f"non-residential floor area plus POIs ({LAND_USE_SHARE:.0%}) and road length"
        )


def _blend_with_roads(weight: np.ndarray, zones: Zones) -> np.ndarray:
    """Land-use shares blended with road-length shares.

    Mapped buildings are incomplete (ground-floor shops and many offices are not tagged), so
    land use alone concentrates trips on the few zones with mapped non-residential floor
    area: on Granada it put the busiest link at v/c 2.02 with 60 links at 0.9 or more; the
    blend gives 1.62 and 38, and the school-streets change +1.24 % (docs/osm-import.md).
    """
    road = zones.activity_km / zones.activity_km.sum()
    return LAND_USE_SHARE * weight / weight.sum() + (1.0 - LAND_USE_SHARE) * road


def _per_zone(network, zones: Zones, cells, lon, lat, weight) -> np.ndarray:
    """Sum of ``weight`` over the points in each zone's cell (else the nearest centroid)."""
    out = np.zeros(zones.n_zones)
    if len(lon) == 0:
        return out
    proj = LocalProjection.around(network.node_y)
    origin = proj.xy(network.node_x, network.node_y).min(axis=0)
    row_col = np.floor((proj.xy(lon, lat) - origin) / zones.zone_size_m).astype(np.int64)[:, ::-1]
    index = {(int(r), int(c)): i for i, (r, c) in enumerate(cells)}
    zone = np.array([index.get((int(r), int(c)), -1) for r, c in row_col], dtype=np.int64)
    outside = zone < 0
    if outside.any():
        tree = cKDTree(proj.xy(zones.lon, zones.lat))
        _, zone[outside] = tree.query(proj.xy(lon[outside], lat[outside]))
    np.add.at(out, zone, np.asarray(weight, dtype=float))
    return out


def _non_through_links(network: Network) -> np.ndarray:
    """Mask of the links that are not motorway or trunk roads (they serve no buildings)."""
    classes = network.link_attrs.get("road_class")
    if classes is None:
        return np.ones(network.n_links, dtype=bool)
    return np.array([c not in THROUGH_CLASSES for c in classes], dtype=bool)


def _centroid_ids(node_ids: np.ndarray, n_zones: int) -> np.ndarray:
    """1..Z, unless a network node already uses one of those numbers."""
    start = 1
    if len(node_ids) and np.any((node_ids >= 1) & (node_ids <= n_zones)):
        start = int(node_ids.max()) + 1
    return np.arange(start, start + n_zones, dtype=np.int64)


def _access_nodes(network: Network) -> np.ndarray:
    """Indices of the nodes connectors may join (see the module docstring)."""
    classes = network.link_attrs.get("road_class")
    if classes is None:
        return np.arange(network.n_nodes)
    classes = np.asarray(classes, dtype=object)
    through = np.isin(classes, list(THROUGH_CLASSES))
    main = ~np.isin(classes, list(LOCAL_CLASSES | {CONNECTOR_CLASS}))
    core = _largest_component(network, main)
    for mask in (main & ~through & core, ~through):
        nodes = np.unique(np.concatenate([network.from_idx[mask], network.to_idx[mask]]))
        if len(nodes):
            return nodes
    return np.arange(network.n_nodes)


def _largest_component(network: Network, links: np.ndarray) -> np.ndarray:
    """Mask of ``links`` whose both ends lie in the largest strongly connected component
    of the graph those links form."""
    n = network.n_nodes
    f, t = network.from_idx[links], network.to_idx[links]
    graph = coo_matrix((np.ones(len(f)), (f, t)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    touched = np.unique(np.concatenate([f, t]))
    if len(touched) == 0:
        return np.zeros(network.n_links, dtype=bool)
    biggest = np.bincount(labels[touched]).argmax()
    in_core = labels == biggest
    return links & in_core[network.from_idx] & in_core[network.to_idx]


def _with_connectors(network: Network, zones: Zones, eligible: np.ndarray, k: int) -> Network:
    """Append centroid nodes and two-way connectors to the k nearest eligible nodes."""
    proj = LocalProjection.around(network.node_y)
    tree = cKDTree(proj.xy(network.node_x[eligible], network.node_y[eligible]))
    k = min(k, len(eligible))
    _, nearest = tree.query(proj.xy(zones.lon, zones.lat), k=k)
    target = eligible[np.asarray(nearest).reshape(zones.n_zones, k)].ravel()
    centroid = network.n_nodes + np.repeat(np.arange(zones.n_zones), k)
    length = haversine_km(
        np.repeat(zones.lon, k),
        np.repeat(zones.lat, k),
        network.node_x[target],
        network.node_y[target],
    )
    return _append(network, zones, centroid, target, length)


def _append(network: Network, zones: Zones, centroid, target, length) -> Network:
    n_new = 2 * len(centroid)
    from_idx = np.concatenate([network.from_idx, centroid, target])
    to_idx = np.concatenate([network.to_idx, target, centroid])
    length2 = np.concatenate([length, length])
    start = int(network.link_ids.max()) + 1 if network.n_links else 1
    return network.with_changes(
        node_ids=np.concatenate([network.node_ids, zones.zone_ids]),
        node_x=np.concatenate([network.node_x, zones.lon]),
        node_y=np.concatenate([network.node_y, zones.lat]),
        from_idx=from_idx,
        to_idx=to_idx,
        capacity=np.concatenate([network.capacity, np.full(n_new, CONNECTOR_CAPACITY)]),
        free_flow_time=np.concatenate(
            [network.free_flow_time, length2 / CONNECTOR_SPEED_KMH * 60.0]
        ),
        alpha=np.concatenate([network.alpha, np.full(n_new, 0.15)]),
        beta=np.concatenate([network.beta, np.full(n_new, 4.0)]),
        link_ids=np.concatenate([network.link_ids, np.arange(start, start + n_new)]),
        zone_ids=zones.zone_ids.copy(),
        block_centroid_flows=True,
        length_km=np.concatenate([network.length_km, length2]),
        length_source=np.concatenate([network.length_source, length2]),
        toll=np.concatenate([network.toll, np.zeros(n_new)]),
        closed=np.concatenate([network.closed, np.zeros(n_new, dtype=bool)]),
        link_attrs=_connector_attrs(
            network,
            from_idx[-n_new:],
            to_idx[-n_new:],
            np.concatenate([network.node_x, zones.lon]),
            np.concatenate([network.node_y, zones.lat]),
        ),
    )


def _connector_attrs(network: Network, from_idx, to_idx, x, y) -> dict[str, list]:
    """Extend every per-link attribute list with the connectors' values."""
    new = {
        "name": [""] * len(from_idx),
        "road_class": [CONNECTOR_CLASS] * len(from_idx),
        "lanes": [1] * len(from_idx),
        "geometry": [[(x[a], y[a]), (x[b], y[b])] for a, b in zip(from_idx, to_idx, strict=True)],
    }
    return {
        key: list(values) + new.get(key, [None] * len(from_idx))
        for key, values in network.link_attrs.items()
    }


def gravity_demand(
    network: Network,
    zones: Zones,
    *,
    trips: float | None = None,
    seed: int = 42,
    beta: float = GRAVITY_BETA_PER_MIN,
    noise_sigma: float = NOISE_SIGMA,
    utilisation: float = DEFAULT_UTILISATION,
) -> Demand:
    """A synthetic, seeded, doubly-constrained gravity matrix summing to ``trips``.

    ``network`` is the one returned by :func:`add_grid_zones` with ``zones``. Without
    ``trips``, the total is :func:`default_trips` for ``utilisation``.
    """
    times = zone_times(network, zones.zone_ids)
    shares = gravity_shares(zones, times, seed=seed, beta=beta, noise_sigma=noise_sigma)
    rule = "given"
    if trips is None:
        trips, rule = default_trips(network, shares, times, utilisation), f"u={utilisation:g}"
    if not trips > 0:
        raise ValueError("trips must be positive")
    return Demand(
        zone_ids=zones.zone_ids.copy(),
        matrix=shares * trips,
        synthetic=True,
        description=_recipe(trips, rule, zones, seed, beta, noise_sigma),
    )


def gravity_shares(
    zones: Zones, times: np.ndarray, *, seed: int, beta: float, noise_sigma: float
) -> np.ndarray:
    """The gravity matrix for one trip in total (Furness-balanced, zero diagonal)."""
    rng = np.random.default_rng(seed)
    produce_w, attract_w = zones.weights()
    produce = np.maximum(produce_w, 1e-6) * rng.lognormal(0.0, noise_sigma, zones.n_zones)
    attract = np.maximum(attract_w, 1e-6) * rng.lognormal(0.0, noise_sigma, zones.n_zones)
    deterrence = np.exp(-beta * times)
    np.fill_diagonal(deterrence, 0.0)
    return furness(produce / produce.sum(), attract / attract.sum(), deterrence)


def default_trips(
    network: Network, shares: np.ndarray, times: np.ndarray, utilisation: float
) -> float:
    """Trips/h whose free-flow vehicle-minutes are ``utilisation`` of the main roads' supply.

    Supply is the sum over main roads (not local streets, not connectors) of capacity x
    free-flow minutes: the vehicle-minutes per hour they can carry at capacity. The total
    is rounded to 10 trips.
    """
    classes = network.link_attrs.get("road_class")
    main = (
        np.ones(network.n_links, dtype=bool)
        if classes is None
        else ~np.isin(np.asarray(classes, dtype=object), list(LOCAL_CLASSES | {CONNECTOR_CLASS}))
    )
    supply = float(np.sum(network.capacity[main] * network.free_flow_time[main]))
    minutes_per_trip = float(np.sum(shares * np.where(np.isfinite(times), times, 0.0)))
    if supply <= 0 or minutes_per_trip <= 0:
        raise NetworkError("cannot size the demand: no main roads or no reachable zone pairs")
    return max(10.0, round(utilisation * supply / minutes_per_trip, -1))


def _recipe(trips, rule, zones: Zones, seed, beta, noise_sigma) -> str:
    sizing = (
        "" if rule == "given" else
        f" (sized so free-flow vehicle-minutes are {rule[2:]} of main-road capacity-minutes)"
    )  # fmt: skip
    if zones.production_basis == zones.attraction_basis:
        basis = (
            f"productions and attractions proportional to the {zones.production_basis} in each zone"
        )
    else:
        basis = (
            f"productions proportional to the {zones.production_basis} in each zone and "
            f"attractions to its {zones.attraction_basis} (OpenStreetMap buildings and points "
            f"of interest, as mapped; floor area = footprint x building:levels)"
        )
    return (
        f"Synthetic peak-hour car demand, not observed: {trips:g} trips/h{sizing} among "
        f"{zones.n_zones} grid zones of {zones.zone_size_m:g} m; doubly-constrained gravity "
        f"model (Furness), {basis} times log-normal noise (sigma {noise_sigma:g}, seed {seed}); "
        f"deterrence "
        f"exp(-{beta:g} x free-flow minutes), no intrazonal trips."
    )


def zone_times(network: Network, zone_ids: np.ndarray) -> np.ndarray:
    """Free-flow shortest-path minutes between zones, never passing through a centroid."""
    zone_idx = np.array([network.node_index(z) for z in zone_ids], dtype=np.int64)
    is_zone = np.zeros(network.n_nodes, dtype=bool)
    is_zone[zone_idx] = True
    open_ = ~network.closed
    # Centroids may only be left at the origin: search a graph without the arcs out of
    # centroids, starting from the far ends of the origin's own connectors.
    graph = _csr(network, open_ & ~is_zone[network.from_idx])
    leaving = open_ & is_zone[network.from_idx]
    times = np.full((len(zone_idx), len(zone_idx)), np.inf)
    for row, z in enumerate(zone_idx):
        arcs = np.flatnonzero(leaving & (network.from_idx == z))
        if len(arcs):
            dist = dijkstra(graph, indices=network.to_idx[arcs])
            lead = network.free_flow_time[arcs][:, None]
            times[row] = np.min(dist + lead, axis=0)[zone_idx]
    return times


def _csr(network: Network, mask: np.ndarray):
    """Sparse graph of the masked links; parallel arcs keep their fastest time."""
    f, t = network.from_idx[mask], network.to_idx[mask]
    w = np.maximum(network.free_flow_time[mask], 1e-9)  # csgraph treats 0 as "no edge"
    order = np.lexsort((w, t, f))
    f, t, w = f[order], t[order], w[order]
    first = np.ones(len(f), dtype=bool)
    first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    n = network.n_nodes
    return coo_matrix((w[first], (f[first], t[first])), shape=(n, n)).tocsr()


def furness(produce: np.ndarray, attract: np.ndarray, deterrence: np.ndarray) -> np.ndarray:
    """Balance ``deterrence`` to row sums ``produce`` and column sums ``attract``.

    Zones that can reach nothing keep no trips; the result is rescaled so it sums to
    ``produce.sum()`` exactly.
    """
    a = np.ones(len(produce))
    b = np.ones(len(attract))
    for _ in range(500):
        a = _safe_divide(produce, deterrence @ b)
        b_new = _safe_divide(attract, deterrence.T @ a)
        if np.allclose(b_new, b, rtol=1e-10, atol=0.0):
            b = b_new
            break
        b = b_new
    matrix = a[:, None] * deterrence * b[None, :]
    total = matrix.sum()
    return matrix * (produce.sum() / total) if total > 0 else matrix


def _safe_divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    out = np.zeros_like(num)
    np.divide(num, den, out=out, where=den > 0)
    return out
