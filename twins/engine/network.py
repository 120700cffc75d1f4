"""The network model and the demand: arrays in, arrays out.

A :class:`Network` is a directed graph stored as flat per-link arrays (the
solver builds its CSR form from them). Node ids and link ids are the ones the
source data uses (TNTP node numbers, GMNS ids, OSM-derived ids); internally
links refer to nodes by *index* into ``node_ids``.

Units: times in minutes, capacity in vehicles per hour (or the source's flow
unit), ``length_km`` in kilometres (NaN where unknown). ``toll`` is in the
source's cost unit; the generalised cost of a link is
``time + toll_weight * toll + distance_weight * length`` where the weights and
the distance unit they apply to come from the package (ChicagoSketch's README:
0.02 min/cent and 0.04 min/mile); ``length_source`` keeps the length in the
unit the distance weight refers to.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np


class NetworkError(ValueError):
    """The network or demand data is inconsistent; the message says what and where."""


@dataclass
class Network:
    node_ids: np.ndarray  # int64 (N,), external node ids, unique
    from_idx: np.ndarray  # int64 (L,), index into node_ids
    to_idx: np.ndarray  # int64 (L,)
    capacity: np.ndarray  # float64 (L,), > 0 for open links
    free_flow_time: np.ndarray  # float64 (L,), minutes, >= 0
    alpha: np.ndarray  # float64 (L,), BPR "b"
    beta: np.ndarray  # float64 (L,), BPR power
    link_ids: np.ndarray  # int64 (L,), external link ids, unique
    zone_ids: np.ndarray  # int64 (Z,), node ids that are zone centroids
    # Centroids may not be passed through (TNTP: nodes below "first thru node").
    block_centroid_flows: bool = True
    length_km: np.ndarray | None = None  # float64 (L,), NaN where unknown
    length_source: np.ndarray | None = None  # float64 (L,), length in the source's unit
    toll: np.ndarray | None = None  # float64 (L,)
    closed: np.ndarray | None = None  # bool (L,), links removed from the choice set
    node_x: np.ndarray | None = None  # float64 (N,), lon or projected x
    node_y: np.ndarray | None = None  # float64 (N,), lat or projected y
    # Optional per-link attributes for maps and results: "name", "road_class",
    # "osm_way_id", "geometry" (list of [(lon, lat), ...]) ...; each a sequence of length L.
    link_attrs: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n_links = len(self.from_idx)
        if self.closed is None:
            self.closed = np.zeros(n_links, dtype=bool)
        if self.toll is None:
            self.toll = np.zeros(n_links)
        if self.length_km is None:
            self.length_km = np.full(n_links, np.nan)
        if self.length_source is None:
            self.length_source = np.zeros(n_links)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_links(self) -> int:
        return len(self.from_idx)

    def node_index(self, node_id: int) -> int:
        """The internal index of an external node id; NetworkError if absent."""
        hits = np.flatnonzero(self.node_ids == node_id)
        if len(hits) == 0:
            raise NetworkError(f"node {node_id} is not in the network")
        return int(hits[0])

    def with_changes(self, **arrays) -> Network:
        """A copy with some arrays replaced (interventions never mutate the input)."""
        return replace(self, **arrays)


@dataclass
class Demand:
    zone_ids: np.ndarray  # int64 (Z,), node ids of the zones, same order as matrix rows
    matrix: np.ndarray  # float64 (Z, Z), trips from row zone to column zone, >= 0
    synthetic: bool = False  # True when estimated by a recipe, not observed
    description: str = ""

    @property
    def total(self) -> float:
        return float(self.matrix.sum())
