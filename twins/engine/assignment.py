"""Static user-equilibrium traffic assignment: Frank-Wolfe, conjugate and bi-conjugate FW.

Link performance is BPR, ``t = fft * (1 + alpha * (x / capacity) ** beta)``; the
generalised cost adds a fixed part, ``toll_weight * toll + distance_weight *
length_source``. The solver minimises the Beckmann objective (the sum over links of
the integral of ``t`` from 0 to the flow, plus the fixed cost times the flow).

Conventions (docs/engine-api.md, DESIGN.md "The assignment engine"):

- relative gap = (TSTT - SPTT) / TSTT over the generalised cost and the assignable
  demand, both at the same flows, so the gap reported is the gap of the flows returned;
- closed links are left out of the graph (never divided by zero); OD pairs that no
  open path joins are reported as unassigned, never dropped silently; intrazonal trips
  are not assigned and are reported apart;
- zone centroids are not passed through when ``network.block_centroid_flows``: each
  centroid is split into an origin copy (its outgoing links) and a destination copy
  (its incoming links), so no shortest path can leave a centroid it entered.

Shortest paths come from ``scipy.sparse.csgraph.dijkstra``, run on a CSR graph built
once per call whose ``data`` array is overwritten with the costs of each iteration; the
all-or-nothing loading and the line search are numba kernels.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numba
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from .network import Demand, Network, NetworkError

ALGORITHMS = ("fw", "cfw", "bfw")
# The CFW weight of the previous direction is capped at 1 - delta (Mitradjieva &
# Lindberg 2013). With a tiny delta the direction collapses onto the previous one when
# the conjugate weight would exceed 1, and steps shrink to ~1e-7: CFW stalled for
# 50000 iterations on a 5x5 grid (tests/engine/test_assignment.py); delta = 0.01 fixes it.
MAX_CONJUGATE_WEIGHT = 0.99
# A step this close to 1 replaces the solution by the direction point: the conjugate
# history then carries no information and the method restarts with a FW step.
FULL_STEP = 1.0 - 1e-12
# Origins x graph nodes per Dijkstra call (float64 distances + int32 predecessors:
# ~50 MB): a city-sized OSM graph with many zones would otherwise need gigabytes.
ORIGIN_NODE_ENTRIES = 1 << 22

Progress = Callable[[int, float, float], None]


@dataclass
class AssignmentResult:
    """The equilibrium flows and their measures; per-link arrays are in network link order.

    ``time`` and ``cost`` are NaN on closed links, as is ``vc``; their ``flow`` is 0.
    ``tstt`` is the total travel time (sum of flow x time); ``total_cost`` the same with
    the generalised cost, which is what ``relative_gap`` and ``objective`` use.
    """

    flow: np.ndarray
    time: np.ndarray
    cost: np.ndarray
    vc: np.ndarray
    tstt: float
    total_cost: float
    objective: float
    relative_gap: float
    iterations: int
    gap_history: list[float]
    converged: bool
    total_demand: float
    assigned_demand: float
    unassigned_demand: float
    unassigned_pairs: list[tuple[int, int, float]]
    intrazonal_demand: float
    vehicle_km: float | None
    runtime_s: float
    algorithm: str = "bfw"
    toll_weight: float = 0.0
    distance_weight: float = 0.0
    stop_reason: str = ""


# ---------------------------------------------------------------------------------
# Link performance (numba kernels over the open links)
# ---------------------------------------------------------------------------------


@numba.njit(cache=True)
def _bpr_time(flow, fft, alpha, beta, capacity, out):
    for a in range(flow.shape[0]):
        if alpha[a] == 0.0 or beta[a] == 0.0:
            out[a] = fft[a] * (1.0 + alpha[a])
        else:
            out[a] = fft[a] * (1.0 + alpha[a] * (flow[a] / capacity[a]) ** beta[a])
    return out


@numba.njit(cache=True)
def _bpr_slope(flow, fft, alpha, beta, capacity, out):
    """d t / d x; a floor on the flow keeps it finite when beta < 1 and x = 0."""
    for a in range(flow.shape[0]):
        if alpha[a] == 0.0 or beta[a] == 0.0 or fft[a] == 0.0:
            out[a] = 0.0
        else:
            ratio = max(flow[a], 1e-9 * capacity[a]) / capacity[a]
            out[a] = fft[a] * alpha[a] * beta[a] / capacity[a] * ratio ** (beta[a] - 1.0)
    return out


@numba.njit(cache=True)
def _bpr_integral(flow, fft, alpha, beta, capacity):
    total = 0.0
    for a in range(flow.shape[0]):
        x = flow[a]
        if alpha[a] == 0.0 or beta[a] == 0.0:
            total += fft[a] * (1.0 + alpha[a]) * x
        else:
            ratio = x / capacity[a]
            total += fft[a] * (
                x + alpha[a] * capacity[a] * ratio ** (beta[a] + 1.0) / (beta[a] + 1.0)
            )
    return total


@numba.njit(cache=True)
def _directional_derivative(step, flow, direction, fft, alpha, beta, capacity, fixed):
    """g(step) = sum (t(x + step d) + fixed) d and its slope g'(step) = sum t'(.) d^2."""
    g = 0.0
    slope = 0.0
    for a in range(flow.shape[0]):
        d = direction[a]
        if d == 0.0:
            continue
        x = max(flow[a] + step * d, 0.0)
        if alpha[a] == 0.0 or beta[a] == 0.0 or fft[a] == 0.0:
            g += (fft[a] * (1.0 + alpha[a]) + fixed[a]) * d
            continue
        ratio = x / capacity[a]
        power = ratio ** (beta[a] - 1.0) if ratio > 0.0 else (0.0 if beta[a] > 1.0 else 1e300)
        g += (fft[a] * (1.0 + alpha[a] * power * ratio) + fixed[a]) * d
        slope += fft[a] * alpha[a] * beta[a] / capacity[a] * power * d * d
    return g, slope


@numba.njit(cache=True)
def _line_search(flow, direction, fft, alpha, beta, capacity, fixed):
    """The step in [0, 1] minimising the Beckmann objective along ``direction``.

    The objective is convex along the line, so its derivative g is increasing: Newton
    steps on g, kept inside a shrinking bracket by bisection, find its root.
    """
    g0, _ = _directional_derivative(0.0, flow, direction, fft, alpha, beta, capacity, fixed)
    if g0 >= 0.0:
        return 0.0
    g1, _ = _directional_derivative(1.0, flow, direction, fft, alpha, beta, capacity, fixed)
    if g1 <= 0.0:
        return 1.0
    lo, hi = 0.0, 1.0
    step = g0 / (g0 - g1)  # secant start: exact when the costs are linear
    for _ in range(100):
        g, slope = _directional_derivative(step, flow, direction, fft, alpha, beta, capacity, fixed)
        if g > 0.0:
            hi = step
        else:
            lo = step
        if abs(g) <= 1e-13 * -g0 or hi - lo <= 1e-15:
            break
        newton = step - g / slope if slope > 0.0 else -1.0
        step = newton if lo < newton < hi else 0.5 * (lo + hi)
    return step


# ---------------------------------------------------------------------------------
# All-or-nothing loading
# ---------------------------------------------------------------------------------


@numba.njit(cache=True)
def _edge_between(indptr, indices, u, v):
    for e in range(indptr[u], indptr[u + 1]):
        if indices[e] == v:
            return e
    return -1


@numba.njit(cache=True)
def _load_all_or_nothing(pred, dist, od, dest_nodes, origin_nodes, indptr, indices, edge_flow):
    """Add each origin's trips on its shortest-path tree to ``edge_flow``; return SPTT.

    Nodes are visited leaves first (a node once all its tree children are done), which
    is a valid order even when zero-cost links tie distances.
    """
    n_nodes = pred.shape[1]
    node_flow = np.zeros(n_nodes)
    children = np.zeros(n_nodes, np.int64)
    stack = np.empty(n_nodes, np.int64)
    sptt = 0.0
    for i in range(pred.shape[0]):
        tree = pred[i]
        for j in range(dest_nodes.shape[0]):
            if od[i, j] > 0.0:
                node_flow[dest_nodes[j]] += od[i, j]
                sptt += od[i, j] * dist[i, dest_nodes[j]]
        for v in range(n_nodes):
            if tree[v] >= 0:
                children[tree[v]] += 1
        top = 0
        for v in range(n_nodes):
            if tree[v] >= 0 and children[v] == 0:
                stack[top] = v
                top += 1
        while top > 0:
            top -= 1
            v = stack[top]
            u = tree[v]
            if node_flow[v] != 0.0:
                edge_flow[_edge_between(indptr, indices, u, v)] += node_flow[v]
                node_flow[u] += node_flow[v]
                node_flow[v] = 0.0
            children[u] -= 1
            if children[u] == 0 and tree[u] >= 0:
                stack[top] = u
                top += 1
        node_flow[origin_nodes[i]] = 0.0
    return sptt


@numba.njit(cache=True)
def _cheapest_parallel(cost, edge_ptr, edge_links, edge_cost, chosen):
    """Per graph edge, the cheapest of its parallel links (ties: the first in link order)."""
    for e in range(edge_ptr.shape[0] - 1):
        best = edge_links[edge_ptr[e]]
        for k in range(edge_ptr[e] + 1, edge_ptr[e + 1]):
            if cost[edge_links[k]] < cost[best]:
                best = edge_links[k]
        chosen[e] = best
        edge_cost[e] = cost[best]


# ---------------------------------------------------------------------------------
# The problem: graph and demand prepared once per call
# ---------------------------------------------------------------------------------


@dataclass
class _Links:
    """BPR parameters and fixed costs of the open links (the solver's working set)."""

    index: np.ndarray  # positions of the open links in the network's link order
    fft: np.ndarray
    alpha: np.ndarray
    beta: np.ndarray
    capacity: np.ndarray
    fixed: np.ndarray

    def time(self, flow: np.ndarray) -> np.ndarray:
        return _bpr_time(flow, self.fft, self.alpha, self.beta, self.capacity, np.empty_like(flow))

    def cost(self, flow: np.ndarray) -> np.ndarray:
        return self.time(flow) + self.fixed

    def slope(self, flow: np.ndarray) -> np.ndarray:
        return _bpr_slope(flow, self.fft, self.alpha, self.beta, self.capacity, np.empty_like(flow))

    def objective(self, flow: np.ndarray) -> float:
        integral = _bpr_integral(flow, self.fft, self.alpha, self.beta, self.capacity)
        return float(integral + self.fixed @ flow)

    def line_search(self, flow: np.ndarray, direction: np.ndarray) -> float:
        return _line_search(
            flow, direction, self.fft, self.alpha, self.beta, self.capacity, self.fixed
        )


@dataclass
class _Graph:
    """The CSR shortest-path graph over the open links, centroids split when blocked.

    Parallel links share one CSR edge; each iteration the edge takes the cost of the
    cheapest of them and carries its flow.
    """

    csr: sp.csr_matrix
    edge_ptr: np.ndarray  # (E + 1,) open links of edge e: edge_links[edge_ptr[e]:edge_ptr[e+1]]
    edge_links: np.ndarray  # positions in the open-link arrays
    chosen: np.ndarray  # (E,) open link carrying each edge's flow this iteration
    arrival: np.ndarray  # (N,) graph node that trips to each node arrive at

    @property
    def has_parallel_links(self) -> bool:
        return len(self.edge_ptr) - 1 < len(self.edge_links)

    def set_costs(self, link_cost: np.ndarray) -> None:
        """Overwrite the CSR data in place (the structure is built once per call)."""
        if self.has_parallel_links:
            _cheapest_parallel(
                link_cost, self.edge_ptr, self.edge_links, self.csr.data, self.chosen
            )
        else:
            self.csr.data[:] = link_cost[self.edge_links]

    def link_flow(self, edge_flow: np.ndarray, n_links: int) -> np.ndarray:
        flow = np.zeros(n_links)
        flow[self.chosen] = edge_flow
        return flow


def _build_graph(network: Network, links: _Links, blocked: np.ndarray) -> _Graph:
    n = network.n_nodes
    arrival = np.arange(n, dtype=np.int64)
    arrival[blocked] = n + np.arange(len(blocked))  # the destination copies
    n_graph = n + len(blocked)
    tail = network.from_idx[links.index].astype(np.int64)
    head = arrival[network.to_idx[links.index]]
    key = tail * n_graph + head
    order = np.argsort(key, kind="stable")
    unique_keys, edge_start = np.unique(key[order], return_index=True)
    edge_tail = unique_keys // n_graph
    indptr = np.concatenate(([0], np.cumsum(np.bincount(edge_tail, minlength=n_graph))))
    data = np.zeros(len(unique_keys))
    csr = sp.csr_matrix((data, unique_keys % n_graph, indptr), shape=(n_graph, n_graph))
    csr.has_sorted_indices = True
    return _Graph(
        csr=csr,
        edge_ptr=np.append(edge_start, len(order)).astype(np.int64),
        edge_links=order.astype(np.int64),
        chosen=order[edge_start].astype(np.int64),
        arrival=arrival,
    )


@dataclass
class _Trips:
    """The demand as graph nodes: one row per origin with assignable trips."""

    origin_nodes: np.ndarray  # (O,) graph node of each origin row
    dest_nodes: np.ndarray  # (D,) graph node of each demand column
    od: np.ndarray  # (O, D) assignable trips
    origin_rows: np.ndarray  # (O,) row of each origin in the demand matrix


@dataclass
class _Problem:
    network: Network
    demand: Demand
    links: _Links
    graph: _Graph
    trips: _Trips
    unassigned_pairs: list[tuple[int, int, float]] = field(default_factory=list)
    unassigned_demand: float = 0.0
    intrazonal_demand: float = 0.0

    def origin_batches(self) -> list[slice]:
        """Origin rows per Dijkstra call, so distance and predecessor matrices stay small."""
        per_call = max(1, ORIGIN_NODE_ENTRIES // self.graph.csr.shape[0])
        n_origins = len(self.trips.origin_nodes)
        return [slice(i, min(i + per_call, n_origins)) for i in range(0, n_origins, per_call)]

    def shortest_paths(self, rows: slice, predecessors: bool = True):
        """Dijkstra from the origins of ``rows`` at the costs last given to the graph."""
        return dijkstra(
            self.graph.csr,
            directed=True,
            indices=self.trips.origin_nodes[rows],
            return_predecessors=predecessors,
        )

    def all_or_nothing(self, link_cost: np.ndarray) -> tuple[np.ndarray, float]:
        """Link flows of all-or-nothing loading at ``link_cost``, and SPTT."""
        self.graph.set_costs(link_cost)
        csr, trips = self.graph.csr, self.trips
        edge_flow = np.zeros(csr.nnz)
        sptt = 0.0
        for rows in self.origin_batches():
            dist, pred = self.shortest_paths(rows)
            sptt += _load_all_or_nothing(
                pred,
                dist,
                trips.od[rows],
                trips.dest_nodes,
                trips.origin_nodes[rows],
                csr.indptr,
                csr.indices,
                edge_flow,
            )
        return self.graph.link_flow(edge_flow, len(link_cost)), float(sptt)


def _fixed_cost(network: Network, toll_weight: float, distance_weight: float) -> np.ndarray:
    fixed = np.zeros(network.n_links)
    if toll_weight:
        fixed += toll_weight * np.asarray(network.toll, dtype=float)
    if distance_weight:
        fixed += distance_weight * np.asarray(network.length_source, dtype=float)
    return fixed


def _open_links(network: Network, toll_weight: float, distance_weight: float) -> _Links:
    open_index = np.flatnonzero(~np.asarray(network.closed, dtype=bool))
    fixed = _fixed_cost(network, toll_weight, distance_weight)[open_index]
    links = _Links(
        index=open_index,
        fft=np.asarray(network.free_flow_time, dtype=float)[open_index],
        alpha=np.asarray(network.alpha, dtype=float)[open_index],
        beta=np.asarray(network.beta, dtype=float)[open_index],
        capacity=np.asarray(network.capacity, dtype=float)[open_index],
        fixed=fixed,
    )
    _check_links(network, links)
    return links


def _check_links(network: Network, links: _Links) -> None:
    """Reject open links whose cost would be negative, NaN or a division by zero."""
    problems = {
        "free_flow_time is negative or not finite": ~(np.isfinite(links.fft) & (links.fft >= 0)),
        "alpha is negative or not finite": ~(np.isfinite(links.alpha) & (links.alpha >= 0)),
        "beta is negative or not finite": ~(np.isfinite(links.beta) & (links.beta >= 0)),
        "capacity is not positive (close the link instead)": (links.alpha * links.beta > 0)
        & ~(links.capacity > 0),
        "fixed cost (toll, distance) is negative or not finite": ~(
            np.isfinite(links.fixed) & (links.fixed >= 0)
        ),
    }
    for what, bad in problems.items():
        if bad.any():
            ids = network.link_ids[links.index[bad]][:5].tolist()
            raise NetworkError(f"open link(s) {ids}: {what}")


def _blocked_centroids(network: Network) -> np.ndarray:
    """Node indices of the centroids that may not be passed through."""
    if not network.block_centroid_flows:
        return np.zeros(0, dtype=np.int64)
    return np.unique(_node_indices(network, network.zone_ids, "zone"))


def _node_indices(network: Network, node_ids, what: str) -> np.ndarray:
    """Indices into ``network.node_ids`` of external ``node_ids``; NetworkError if absent."""
    node_ids = np.asarray(node_ids, dtype=np.int64)
    order = np.argsort(network.node_ids, kind="stable")
    sorted_ids = network.node_ids[order]
    found = np.minimum(np.searchsorted(sorted_ids, node_ids), len(sorted_ids) - 1)
    missing = sorted_ids[found] != node_ids
    if missing.any():
        raise NetworkError(f"{what} {int(node_ids[missing][0])} is not a node of the network")
    return order[found].astype(np.int64)


def _demand_nodes(network: Network, demand: Demand) -> np.ndarray:
    matrix = np.asarray(demand.matrix, dtype=float)
    if matrix.shape != (len(demand.zone_ids),) * 2:
        raise NetworkError(
            f"demand matrix is {matrix.shape}, expected {len(demand.zone_ids)} zones square"
        )
    if not np.all(np.isfinite(matrix) & (matrix >= 0)):
        raise NetworkError("demand has negative or non-finite trips")
    return _node_indices(network, demand.zone_ids, "demand zone")


def _prepare(
    network: Network, demand: Demand, toll_weight: float, distance_weight: float
) -> _Problem:
    """Graph and demand for the solver, with unreachable and intrazonal trips set apart."""
    links = _open_links(network, toll_weight, distance_weight)
    graph = _build_graph(network, links, _blocked_centroids(network))
    zone_nodes = _demand_nodes(network, demand)
    matrix = np.array(demand.matrix, dtype=float)
    intrazonal = float(np.trace(matrix))
    np.fill_diagonal(matrix, 0.0)
    rows = np.flatnonzero(matrix.sum(axis=1) > 0)
    trips = _Trips(
        origin_nodes=zone_nodes[rows],
        dest_nodes=graph.arrival[zone_nodes],
        od=matrix[rows],
        origin_rows=rows,
    )
    problem = _Problem(network, demand, links, graph, trips, intrazonal_demand=intrazonal)
    _set_aside_unreachable(problem)
    return problem


def _set_aside_unreachable(problem: _Problem) -> None:
    """Move OD pairs with no open path out of the assignable demand, and record them.

    Costs are finite, so reachability does not depend on flows: one search suffices.
    """
    trips = problem.trips
    if len(trips.origin_nodes) == 0:
        return
    problem.graph.set_costs(problem.links.cost(np.zeros(len(problem.links.index))))
    stuck = np.zeros(trips.od.shape, dtype=bool)
    for rows in problem.origin_batches():
        dist = problem.shortest_paths(rows, predecessors=False)
        stuck[rows] = (trips.od[rows] > 0) & ~np.isfinite(dist[:, trips.dest_nodes])
    zones = problem.demand.zone_ids
    for i, j in zip(*np.nonzero(stuck), strict=True):
        problem.unassigned_pairs.append(
            (int(zones[trips.origin_rows[i]]), int(zones[j]), float(trips.od[i, j]))
        )
    problem.unassigned_demand = float(trips.od[stuck].sum())
    trips.od[stuck] = 0.0


# ---------------------------------------------------------------------------------
# Directions: FW, conjugate FW, bi-conjugate FW
# ---------------------------------------------------------------------------------


@dataclass
class _Directions:
    """The conjugate history: the last two direction points and the last step.

    Mitradjieva & Lindberg (2013): the new direction point is a combination of the
    all-or-nothing flow and the previous direction points, made conjugate to them with
    respect to the Hessian of the objective (diagonal: the cost slopes at the flows).
    """

    algorithm: str
    previous: np.ndarray | None = None  # s_{k-1}
    before: np.ndarray | None = None  # s_{k-2}
    step: float = 0.0  # the step taken towards s_{k-1}

    def next_point(self, links: _Links, flow, aon, cost) -> np.ndarray:
        """The direction point for this iteration (a descent direction, or FW's)."""
        point = aon
        if self.algorithm != "fw" and self.previous is not None and self.step < FULL_STEP:
            slope = links.slope(flow)
            if self.algorithm == "bfw" and self.before is not None:
                point = self._biconjugate(slope, flow, aon)
            else:
                point = self._conjugate(slope, flow, aon)
            if cost @ (point - flow) >= 0.0:  # not a descent direction: fall back to FW
                point = aon
        if point is aon:
            self.previous = self.before = None  # a FW step restarts the history
        return point

    def record(self, point: np.ndarray, step: float) -> None:
        self.before, self.previous, self.step = self.previous, point, step

    def _conjugate(self, slope, flow, aon) -> np.ndarray:
        towards_previous = self.previous - flow
        numerator = towards_previous @ (slope * (aon - flow))
        denominator = towards_previous @ (slope * (aon - self.previous))
        weight = numerator / denominator if denominator != 0.0 else 0.0
        weight = min(max(weight, 0.0), MAX_CONJUGATE_WEIGHT)
        return weight * self.previous + (1.0 - weight) * aon

    def _biconjugate(self, slope, flow, aon) -> np.ndarray:
        step = self.step
        to_last_flow = step * self.previous + (1.0 - step) * self.before - flow
        to_aon = aon - flow
        to_previous = self.previous - flow
        between = self.before - self.previous
        mu_den = to_last_flow @ (slope * between)
        mu = max(0.0, -(to_last_flow @ (slope * to_aon)) / mu_den) if mu_den != 0.0 else 0.0
        nu_den = to_previous @ (slope * to_previous)
        nu = -(to_previous @ (slope * to_aon)) / nu_den if nu_den != 0.0 else 0.0
        nu = max(0.0, nu + mu * step / (1.0 - step))
        b0 = 1.0 / (1.0 + mu + nu)
        return b0 * aon + nu * b0 * self.previous + mu * b0 * self.before


# ---------------------------------------------------------------------------------
# The solver
# ---------------------------------------------------------------------------------


@dataclass
class _Run:
    flow: np.ndarray
    gap: float
    iterations: int
    history: list[float]
    converged: bool
    stop_reason: str


def _equilibrate(problem, algorithm, target_gap, max_iterations, progress, started) -> _Run:
    links = problem.links
    flow, _ = problem.all_or_nothing(links.cost(np.zeros(len(links.index))))
    directions = _Directions(algorithm)
    history: list[float] = []
    for iteration in range(1, max_iterations + 1):
        cost = links.cost(flow)
        aon, sptt = problem.all_or_nothing(cost)
        gap = _gap(float(cost @ flow), sptt)
        history.append(gap)
        if progress is not None:
            progress(iteration, gap, time.perf_counter() - started)
        if gap <= target_gap:
            return _Run(flow, gap, iteration, history, True, "relative gap reached")
        if iteration == max_iterations:
            break
        point = directions.next_point(links, flow, aon, cost)
        step = links.line_search(flow, point - flow)
        flow = flow + step * (point - flow)
        directions.record(point, step)
    return _Run(flow, history[-1], max_iterations, history, False, "maximum iterations reached")


def _gap(total_cost: float, sptt: float) -> float:
    """(TSTT - SPTT) / TSTT; 0 when every path is free, inf when no flow carries the trips.

    Not clipped at 0: a negative value beyond rounding means the flows carry less than
    the demand, which an independent check must show.
    """
    if total_cost <= 0.0:
        return 0.0 if sptt <= 0.0 else np.inf
    return (total_cost - sptt) / total_cost


def assign(
    network: Network,
    demand: Demand,
    *,
    algorithm: str = "bfw",
    relative_gap: float = 1e-4,
    max_iterations: int = 1000,
    toll_weight: float = 0.0,
    distance_weight: float = 0.0,
    progress: Progress | None = None,
) -> AssignmentResult:
    """Solve static user equilibrium for ``demand`` on ``network``.

    ``algorithm`` is "fw" (Frank-Wolfe), "cfw" (conjugate) or "bfw" (bi-conjugate,
    the default), all with an exact line search. Stops when the relative gap of the
    current flows is at most ``relative_gap``, or after ``max_iterations``. Iteration k
    evaluates the k-th flows (the first are all-or-nothing at free-flow costs);
    ``progress(k, gap, elapsed_s)`` is called once per iteration and may raise to abort.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")
    if max_iterations < 1:
        raise ValueError("max_iterations must be at least 1")
    started = time.perf_counter()
    problem = _prepare(network, demand, toll_weight, distance_weight)
    if problem.trips.od.sum() > 0:
        run = _equilibrate(problem, algorithm, relative_gap, max_iterations, progress, started)
    else:
        run = _Run(np.zeros(len(problem.links.index)), 0.0, 0, [], True, "no assignable demand")
    result = _result(problem, run, time.perf_counter() - started)
    result.algorithm, result.toll_weight, result.distance_weight = (
        algorithm,
        toll_weight,
        distance_weight,
    )
    return result


def _result(problem: _Problem, run: _Run, runtime_s: float) -> AssignmentResult:
    network, links = problem.network, problem.links
    flow = np.zeros(network.n_links)
    flow[links.index] = run.flow
    time_ = np.full(network.n_links, np.nan)
    time_[links.index] = links.time(run.flow)
    cost = np.full(network.n_links, np.nan)
    cost[links.index] = time_[links.index] + links.fixed
    vc = np.full(network.n_links, np.nan)
    vc[links.index] = run.flow / np.where(links.capacity > 0, links.capacity, np.nan)
    return AssignmentResult(
        flow=flow,
        time=time_,
        cost=cost,
        vc=vc,
        tstt=float(time_[links.index] @ run.flow),
        total_cost=float(cost[links.index] @ run.flow),
        objective=links.objective(run.flow),
        relative_gap=run.gap,
        iterations=run.iterations,
        gap_history=run.history,
        converged=run.converged,
        total_demand=float(np.asarray(problem.demand.matrix).sum()),
        assigned_demand=float(problem.trips.od.sum()),
        unassigned_demand=problem.unassigned_demand,
        unassigned_pairs=problem.unassigned_pairs,
        intrazonal_demand=problem.intrazonal_demand,
        vehicle_km=_vehicle_km(network, flow),
        runtime_s=runtime_s,
        stop_reason=run.stop_reason,
    )


def _vehicle_km(network: Network, flow: np.ndarray) -> float | None:
    open_links = ~np.asarray(network.closed, dtype=bool)
    length = np.asarray(network.length_km, dtype=float)[open_links]
    if np.isnan(length).any():
        return None
    return float(flow[open_links] @ length)


# ---------------------------------------------------------------------------------
# Independent checks
# ---------------------------------------------------------------------------------


def _open_flow(network: Network, links: _Links, flow) -> np.ndarray:
    flow = np.asarray(flow, dtype=float)
    if flow.shape != (network.n_links,):
        raise ValueError(f"flow has shape {flow.shape}, expected ({network.n_links},)")
    closed = np.asarray(network.closed, dtype=bool)
    if np.any(flow[closed] != 0):
        raise ValueError("flow on a closed link")
    return flow[links.index]


def beckmann_objective(
    network: Network, flow, toll_weight: float = 0, distance_weight: float = 0
) -> float:
    """The Beckmann objective of link ``flow`` (network link order), fixed costs included."""
    links = _open_links(network, toll_weight, distance_weight)
    return links.objective(_open_flow(network, links, flow))


def relative_gap(
    network: Network, demand: Demand, flow, toll_weight: float = 0, distance_weight: float = 0
) -> float:
    """(TSTT - SPTT) / TSTT of ``flow``, from fresh shortest paths at its costs.

    Independent of any solver state, so it checks any engine's flows the same way.
    Over the assignable demand only (unreachable and intrazonal trips left out).
    """
    problem = _prepare(network, demand, toll_weight, distance_weight)
    open_flow = _open_flow(network, problem.links, flow)
    if problem.trips.od.sum() == 0:
        return 0.0
    cost = problem.links.cost(open_flow)
    _, sptt = problem.all_or_nothing(cost)
    return _gap(float(cost @ open_flow), sptt)
