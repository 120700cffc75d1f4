"""The assignment engine on networks small enough to solve by hand.

Most cases use linear link costs (BPR with beta = 1), for which user equilibrium
is a small linear system; the expected numbers are worked out in each docstring.
"""

from __future__ import annotations

import numpy as np
import pytest

from twins.engine import assignment
from twins.engine.assignment import assign, beckmann_objective, relative_gap
from twins.engine.network import Demand, Network, NetworkError

# Linear costs and an exact line search land on the equilibrium of these tiny problems
# up to the line search's root tolerance (1e-13 of the derivative), so flows agree
# with the hand solution to far better than a thousandth of a vehicle.
FLOW_ABS = 1e-3


def make_network(links, zones, *, block=True, closed=(), length_km=None) -> Network:
    """A network from ``(from, to, fft, alpha, capacity, beta)`` tuples on nodes 1..N."""
    rows = np.array(links, dtype=float)
    n_nodes = int(rows[:, :2].max())
    closed_mask = np.zeros(len(rows), dtype=bool)
    closed_mask[list(closed)] = True
    return Network(
        node_ids=np.arange(1, n_nodes + 1),
        from_idx=rows[:, 0].astype(np.int64) - 1,
        to_idx=rows[:, 1].astype(np.int64) - 1,
        free_flow_time=rows[:, 2],
        alpha=rows[:, 3],
        capacity=rows[:, 4],
        beta=rows[:, 5],
        link_ids=np.arange(1, len(rows) + 1),
        zone_ids=np.array(zones),
        block_centroid_flows=block,
        closed=closed_mask,
        length_km=None if length_km is None else np.array(length_km, dtype=float),
    )


def make_demand(zones, trips: dict[tuple[int, int], float]) -> Demand:
    position = {z: i for i, z in enumerate(zones)}
    matrix = np.zeros((len(zones), len(zones)))
    for (origin, dest), value in trips.items():
        matrix[position[origin], position[dest]] = value
    return Demand(zone_ids=np.array(zones), matrix=matrix)


# Two routes from zone 1 to zone 2: A = 1-3-2 with t = 10 + 0.01 x on 1-3 and
# B = 1-4-2 with t = 20 + 0.005 x on 1-4; the links into node 2 cost nothing.
TWO_ROUTES = [
    (1, 3, 10.0, 1.0, 1000.0, 1.0),
    (3, 2, 0.0, 0.0, 1000.0, 1.0),
    (1, 4, 20.0, 0.25, 1000.0, 1.0),
    (4, 2, 0.0, 0.0, 1000.0, 1.0),
]


def test_two_routes_reach_the_hand_solved_equilibrium():
    """3000 trips from 1 to 2 split so that both routes cost the same.

    10 + 0.01 xA = 20 + 0.005 (3000 - xA)  ->  xA = 5000/3, xB = 4000/3,
    route cost 80/3 min, TSTT = 3000 * 80/3 = 80000,
    Beckmann = 10 xA + 0.005 xA^2 + 20 xB + 0.0025 xB^2 = 555000/9.
    """
    network = make_network(TWO_ROUTES, [1, 2])
    result = assign(network, make_demand([1, 2], {(1, 2): 3000}), relative_gap=1e-10)
    assert result.converged
    assert result.flow == pytest.approx([5000 / 3, 5000 / 3, 4000 / 3, 4000 / 3], abs=FLOW_ABS)
    assert result.time[[0, 2]] == pytest.approx([80 / 3, 80 / 3], rel=1e-9)  # same rounding
    assert result.tstt == pytest.approx(80000, rel=1e-9)
    assert result.objective == pytest.approx(555000 / 9, rel=1e-9)


def test_closing_a_route_sends_everyone_down_the_other():
    """Link 1-4 closed: all 3000 trips take route A at 10 + 0.01 * 3000 = 40 min.

    TSTT = 120000; Beckmann = 10 * 3000 + 0.005 * 3000^2 = 75000. The closed link
    and its continuation carry nothing; the closed link has no time, cost or v/c.
    """
    network = make_network(TWO_ROUTES, [1, 2], closed=[2])
    result = assign(network, make_demand([1, 2], {(1, 2): 3000}), relative_gap=1e-10)
    assert result.flow == pytest.approx([3000, 3000, 0, 0], abs=FLOW_ABS)
    assert result.time[0] == pytest.approx(40, rel=1e-12)  # one evaluation of the BPR formula
    assert result.tstt == pytest.approx(120000, rel=1e-12)
    assert result.objective == pytest.approx(75000, rel=1e-12)
    assert np.isnan(result.vc[2]) and np.isnan(result.time[2]) and np.isnan(result.cost[2])
    assert result.unassigned_demand == 0


def test_closed_link_with_zero_capacity_is_never_divided_by():
    network = make_network(TWO_ROUTES, [1, 2], closed=[2])
    network.capacity[2] = 0.0
    with np.errstate(all="raise"):
        result = assign(network, make_demand([1, 2], {(1, 2): 3000}))
    assert result.flow[2] == 0


def test_open_link_with_zero_capacity_is_rejected_with_its_id():
    network = make_network(TWO_ROUTES, [1, 2])
    network.capacity[2] = 0.0
    with pytest.raises(NetworkError, match=r"\[3\].*capacity"):
        assign(network, make_demand([1, 2], {(1, 2): 3000}))


# Zones 1, 2, 3 and a through node 4: 1-4, 4-2, 4-3 (1 min each), nothing leaves 2 or 3.
FORK = [
    (1, 4, 1.0, 0.15, 100.0, 4.0),
    (4, 2, 1.0, 0.15, 100.0, 4.0),
    (4, 3, 1.0, 0.15, 100.0, 4.0),
]


def test_closure_that_disconnects_a_pair_reports_it_and_assigns_the_rest():
    network = make_network(FORK, [1, 2, 3], closed=[2])
    demand = make_demand([1, 2, 3], {(1, 2): 100, (1, 3): 50, (2, 1): 30})
    result = assign(network, demand, relative_gap=1e-8)
    assert result.unassigned_pairs == [(1, 3, 50.0), (2, 1, 30.0)]
    assert result.unassigned_demand == 80
    assert result.total_demand == 180 and result.assigned_demand == 100
    assert result.flow == pytest.approx([100, 100, 0], abs=FLOW_ABS)
    assert result.converged and np.isfinite(result.relative_gap)
    # a single path per pair: the independent gap is 0 up to rounding
    assert relative_gap(network, demand, result.flow) == pytest.approx(0, abs=1e-12)


def test_demand_that_cannot_go_anywhere_is_all_unassigned_and_nothing_crashes():
    network = make_network(FORK, [1, 2, 3])
    demand = make_demand([1, 2, 3], {(2, 1): 30, (3, 2): 20})
    result = assign(network, demand)
    assert result.unassigned_demand == 50
    assert result.flow.sum() == 0 and result.converged and result.iterations == 0


# Zones 1, 2, 3; through node 4. 1-2-3 costs 2 min but passes through centroid 2;
# 1-4-3 costs 10 min.
DETOUR = [
    (1, 2, 1.0, 0.0, 100.0, 4.0),
    (2, 3, 1.0, 0.0, 100.0, 4.0),
    (1, 4, 5.0, 0.0, 100.0, 4.0),
    (4, 3, 5.0, 0.0, 100.0, 4.0),
]


def test_blocked_centroid_is_not_passed_through():
    network = make_network(DETOUR, [1, 2, 3], block=True)
    demand = make_demand([1, 2, 3], {(1, 3): 10, (1, 2): 4})
    result = assign(network, demand)
    # 1-3 detours by 4; 1-2 still ends at centroid 2
    assert result.flow == pytest.approx([4, 0, 10, 10], abs=FLOW_ABS)
    assert result.relative_gap == pytest.approx(0, abs=1e-12)


def test_centroid_may_be_passed_through_when_allowed():
    network = make_network(DETOUR, [1, 2, 3], block=False)
    demand = make_demand([1, 2, 3], {(1, 3): 10, (1, 2): 4})
    result = assign(network, demand)
    assert result.flow == pytest.approx([14, 10, 0, 0], abs=FLOW_ABS)


def test_parallel_links_share_the_flow_at_equilibrium():
    """Two links 1->2, t = 10 + 0.01 x and t = 20 + 0.005 x: the split of the two-route case."""
    links = [(1, 2, 10.0, 1.0, 1000.0, 1.0), (1, 2, 20.0, 0.25, 1000.0, 1.0)]
    network = make_network(links, [1, 2])
    demand = make_demand([1, 2], {(1, 2): 3000})
    result = assign(network, demand, relative_gap=1e-10)
    assert result.flow == pytest.approx([5000 / 3, 4000 / 3], abs=FLOW_ABS)
    assert relative_gap(network, demand, result.flow) < 1e-9  # the solver's own target


def test_toll_weight_moves_traffic_to_the_untolled_parallel_link():
    """Equal constant times; a toll of 10 at 0.5 min per unit makes link 1 cost 5 min more."""
    links = [(1, 2, 3.0, 0.0, 1000.0, 4.0), (1, 2, 3.0, 0.0, 1000.0, 4.0)]
    network = make_network(links, [1, 2])
    network.toll = np.array([10.0, 0.0])
    result = assign(network, make_demand([1, 2], {(1, 2): 100}), toll_weight=0.5)
    assert result.flow == pytest.approx([0, 100], abs=FLOW_ABS)
    assert result.cost == pytest.approx([8.0, 3.0])
    assert result.objective == pytest.approx(300.0)  # 100 trips x 3 min, no toll paid


def test_zero_demand_gives_zero_flows_without_iterating():
    calls = []
    network = make_network(TWO_ROUTES, [1, 2])
    result = assign(network, make_demand([1, 2], {}), progress=lambda *a: calls.append(a))
    assert result.flow.sum() == 0 and result.iterations == 0 and result.converged
    assert result.relative_gap == 0 and result.objective == 0 and calls == []


def test_intrazonal_trips_are_reported_apart_and_not_assigned():
    network = make_network(TWO_ROUTES, [1, 2])
    result = assign(network, make_demand([1, 2], {(1, 1): 70, (2, 2): 5}))
    assert result.intrazonal_demand == 75
    assert result.unassigned_demand == 0 and result.flow.sum() == 0


def grid_network(size=5, zones=(1, 5, 21, 25, 13)) -> tuple[Network, Demand]:
    """A congested two-way grid with BPR beta 4 and trips between its corners and centre."""
    links = []
    for row in range(size):
        for col in range(size):
            node = row * size + col + 1
            for other in (node + 1 if col < size - 1 else None, node + size):
                if other is None or other > size * size:
                    continue
                fft = 1.0 + 0.1 * ((node * 7 + other) % 5)  # uneven, so routes compete
                links += [
                    (node, other, fft, 0.15, 300.0, 4.0),
                    (other, node, fft, 0.15, 300.0, 4.0),
                ]
    trips = {(o, d): 150.0 for o in zones for d in zones if o != d}
    return make_network(links, list(zones), block=False), make_demand(list(zones), trips)


def test_fw_cfw_and_bfw_converge_to_the_same_objective():
    """Z(x) - Z* <= TSTT(x) - SPTT(x) = gap * total cost (convexity), for each algorithm."""
    network, demand = grid_network()
    results = {
        a: assign(network, demand, algorithm=a, relative_gap=1e-5, max_iterations=20000)
        for a in ("fw", "cfw", "bfw")
    }
    best = min(r.objective for r in results.values())
    for result in results.values():
        assert result.converged
        assert result.objective - best <= result.relative_gap * result.total_cost + 1e-9
    assert results["bfw"].iterations < results["fw"].iterations  # what BFW is for


def test_reported_gap_is_the_gap_of_the_returned_flows():
    network, demand = grid_network()
    result = assign(network, demand, relative_gap=1e-5)
    assert relative_gap(network, demand, result.flow) == pytest.approx(
        result.relative_gap, rel=1e-9
    )  # the same shortest paths, summed in the same order up to rounding
    assert beckmann_objective(network, result.flow) == pytest.approx(result.objective, rel=1e-12)


def test_progress_is_called_once_per_iteration_with_the_gap():
    network, demand = grid_network()
    calls = []
    result = assign(network, demand, relative_gap=1e-6, progress=lambda *a: calls.append(a))
    assert [c[0] for c in calls] == list(range(1, result.iterations + 1))
    assert [c[1] for c in calls] == result.gap_history
    assert all(b[2] >= a[2] for a, b in zip(calls, calls[1:], strict=False))


def test_max_iterations_stops_unconverged_and_says_so():
    network, demand = grid_network()
    result = assign(network, demand, relative_gap=1e-12, max_iterations=3)
    assert result.iterations == 3 and not result.converged
    assert result.relative_gap == result.gap_history[-1] > 1e-12


def test_vehicle_km_needs_every_open_length():
    lengths = [2.0, 0.5, 1.0, np.nan]
    network = make_network(TWO_ROUTES, [1, 2], closed=[2], length_km=lengths)
    result = assign(network, make_demand([1, 2], {(1, 2): 100}))
    assert result.vehicle_km is None  # link 4 is open and its length unknown
    network.length_km[3] = 1.5
    result = assign(network, make_demand([1, 2], {(1, 2): 100}))
    assert result.vehicle_km == pytest.approx(100 * 2.5)


def test_unknown_algorithm_is_refused():
    network = make_network(TWO_ROUTES, [1, 2])
    with pytest.raises(ValueError, match="algorithm"):
        assign(network, make_demand([1, 2], {(1, 2): 1}), algorithm="msa")


def test_demand_zone_missing_from_the_network_is_a_network_error():
    network = make_network(TWO_ROUTES, [1, 2])
    with pytest.raises(NetworkError, match="demand zone 9"):
        assign(network, make_demand([1, 9], {(1, 9): 1}))


def test_objective_refuses_flow_on_a_closed_link():
    network = make_network(TWO_ROUTES, [1, 2], closed=[2])
    with pytest.raises(ValueError, match="closed"):
        beckmann_objective(network, np.array([0.0, 0.0, 5.0, 5.0]))


def test_origins_batched_one_per_dijkstra_call_give_the_same_flows(monkeypatch):
    """Batching bounds memory on big graphs; it must not change the loading."""
    network, demand = grid_network()
    whole = assign(network, demand, relative_gap=1e-6)
    monkeypatch.setattr(assignment, "ORIGIN_NODE_ENTRIES", 1)
    batched = assign(network, demand, relative_gap=1e-6)
    assert batched.iterations == whole.iterations
    # the same sums, in the same order, per origin
    assert batched.flow == pytest.approx(whole.flow, rel=1e-12, abs=1e-9)


def test_zero_cost_links_tying_distances_still_load_whole_paths():
    """Free connectors (cost 0) give nodes equal distances; every trip must reach its end."""
    links = [
        (1, 3, 0.0, 0.0, 100.0, 4.0),
        (3, 4, 0.0, 0.0, 100.0, 4.0),
        (4, 2, 2.0, 0.15, 100.0, 4.0),
    ]
    network = make_network(links, [1, 2])
    result = assign(network, make_demand([1, 2], {(1, 2): 40}))
    assert result.flow == pytest.approx([40, 40, 40], abs=FLOW_ABS)


def test_every_link_closed_leaves_all_demand_unassigned():
    network = make_network(TWO_ROUTES, [1, 2], closed=[0, 1, 2, 3])
    result = assign(network, make_demand([1, 2], {(1, 2): 30, (2, 1): 10}))
    assert result.unassigned_demand == 40 and result.unassigned_pairs == [
        (1, 2, 30.0),
        (2, 1, 10.0),
    ]
    assert result.flow.sum() == 0 and np.isnan(result.vc).all()


def test_independent_gap_exposes_flows_that_carry_nothing():
    network = make_network(TWO_ROUTES, [1, 2])
    demand = make_demand([1, 2], {(1, 2): 30})
    assert relative_gap(network, demand, np.zeros(4)) == np.inf
    # half the trips missing: TSTT < SPTT, a negative gap
    assert relative_gap(network, demand, np.array([15.0, 15.0, 0.0, 0.0])) < 0
