"""Scenario interventions (format version 1) applied to a :class:`Network`.

Each intervention is a dict as the package's ``scenario.interventions`` holds it
(see ``schema/scenario-v1.schema.json``): a ``type``, the links it addresses
(``link_ids`` or ``node_pairs``) and its parameter. They are applied in list
order to a copy of the network; the input network is never modified.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

import numpy as np

from .network import Network


class InterventionError(ValueError):
    """An intervention cannot be applied; the message names its index and the cause."""


class _LinkIndex:
    """Lookups from link id and from node pair to link positions, built once per network."""

    def __init__(self, network: Network) -> None:
        self.by_id = {int(link_id): i for i, link_id in enumerate(network.link_ids.tolist())}
        self.by_pair: dict[tuple[int, int], list[int]] = {}
        from_ids = network.node_ids[network.from_idx].tolist()
        to_ids = network.node_ids[network.to_idx].tolist()
        for i, pair in enumerate(zip(from_ids, to_ids, strict=True)):
            self.by_pair.setdefault(pair, []).append(i)


class _Edit:
    """The arrays an intervention may change, copied once from the network."""

    def __init__(self, network: Network) -> None:
        self.network = network
        self.index = _LinkIndex(network)
        self.capacity = network.capacity.astype(float, copy=True)
        self.free_flow_time = network.free_flow_time.astype(float, copy=True)
        self.closed = np.array(network.closed, dtype=bool, copy=True)

    def result(self) -> Network:
        return self.network.with_changes(
            capacity=self.capacity, free_flow_time=self.free_flow_time, closed=self.closed
        )


def apply_interventions(network: Network, interventions: Iterable[dict]) -> Network:
    """Return a copy of ``network`` with the interventions applied in order.

    Raises :class:`InterventionError` naming the intervention (``interventions[i]``)
    when its type is unknown, a parameter is invalid or a link id / node pair is
    not in the network. A node pair matching several parallel links applies to all.
    """
    edit = _Edit(network)
    for position, intervention in enumerate(interventions):
        where = f"interventions[{position}]"
        if not isinstance(intervention, dict):
            raise InterventionError(f"{where}: must be an object")
        kind = intervention.get("type")
        action = _ACTIONS.get(kind)
        if action is None:
            raise InterventionError(f"{where}: unknown intervention type {kind!r}")
        where = f"{where} ({kind})"
        action(edit, _select(edit.index, intervention, where), intervention, where)
    return edit.result()


def select_links(
    network: Network, intervention: dict, *, where: str = "intervention"
) -> np.ndarray:
    """Positions of the links an intervention addresses (by ``link_ids`` or ``node_pairs``)."""
    return _select(_LinkIndex(network), intervention, where)


def _select(index: _LinkIndex, intervention: dict, where: str) -> np.ndarray:
    has_ids, has_pairs = "link_ids" in intervention, "node_pairs" in intervention
    if has_ids == has_pairs:
        raise InterventionError(f"{where}: give exactly one of link_ids or node_pairs")
    if has_ids:
        return _links_by_id(index, intervention["link_ids"], where)
    return _links_by_node_pair(index, intervention["node_pairs"], where)


def _links_by_id(index: _LinkIndex, link_ids, where: str) -> np.ndarray:
    found = []
    for link_id in _non_empty_list(link_ids, "link_ids", where):
        if _as_int(link_id) not in index.by_id:
            raise InterventionError(f"{where}: link id {link_id!r} is not in the network")
        found.append(index.by_id[int(link_id)])
    return np.array(found, dtype=np.int64)


def _links_by_node_pair(index: _LinkIndex, node_pairs, where: str) -> np.ndarray:
    found: list[int] = []
    for pair in _non_empty_list(node_pairs, "node_pairs", where):
        key = _as_pair(pair, where)
        if key not in index.by_pair:
            raise InterventionError(
                f"{where}: no link from node {key[0]} to node {key[1]} in the network"
            )
        found.extend(index.by_pair[key])
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
    factor = _number(intervention, "factor", where, minimum=0.0)
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


_ACTIONS: dict[str, Callable[[_Edit, np.ndarray, dict, str], None]] = {
    "close_links": _close_links,
    "scale_capacity": _scale_capacity,
    "set_free_flow_time": _set_free_flow_time,
    "set_speed": _set_speed,
}
