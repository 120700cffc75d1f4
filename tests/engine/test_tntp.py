"""TNTP readers: small hand-written files, malformed ones, and the real networks."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from twins.engine.network import NetworkError
from twins.engine.tntp import (
    flow_array,
    read_demand,
    read_flow,
    read_network,
    read_node_coordinates,
    read_readme_meta,
)

TNTP = (
    Path(
        os.environ.get(
            "RECI_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared/data"
        )
    )
    / "tntp"
)

NET = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 4
<FIRST THRU NODE> 3
<NUMBER OF LINKS> 4
<END OF METADATA>


~\tinit_node\tterm_node\tcapacity\tlength\tfree_flow_time\tb\tpower\tspeed\ttoll\tlink_type\t;
\t1\t3\t1000\t2.5\t10\t0.15\t4\t0\t0\t1\t;
\t3\t2\t1000\t1\t5\t0.15\t4\t0\t7\t1\t;
\t1\t4\t500\t3\t12\t0.15\t4\t0\t0\t2\t;
\t4\t2\t500\t3\t12\t0.15\t4\t0\t0\t2\t;
"""

TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 150.0
<END OF METADATA>


Origin \t1
    1 :      0.0;     2 :    100.0;

Origin \t2
    1 :     50.0;
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def net_file(tmp_path) -> Path:
    return write(tmp_path, "toy_net.tntp", NET)


def test_network_links_zones_and_ids_come_from_the_file(net_file):
    network, meta = read_network(net_file)
    assert meta == {"zones": 2, "first_thru_node": 3, "nodes": 4, "links": 4, "length_unit": None}
    assert network.node_ids.tolist() == [1, 2, 3, 4]
    assert network.link_ids.tolist() == [1, 2, 3, 4]
    assert network.zone_ids.tolist() == [1, 2]
    assert network.from_idx.tolist() == [0, 2, 0, 3] and network.to_idx.tolist() == [2, 1, 3, 1]
    assert network.capacity.tolist() == [1000, 1000, 500, 500]
    assert network.free_flow_time.tolist() == [10, 5, 12, 12]
    assert network.alpha.tolist() == [0.15] * 4 and network.beta.tolist() == [4] * 4
    assert network.toll.tolist() == [0, 7, 0, 0]
    assert network.length_source.tolist() == [2.5, 1, 3, 3]


def test_first_thru_node_above_one_blocks_centroids(net_file):
    assert read_network(net_file)[0].block_centroid_flows is True


def test_first_thru_node_one_lets_centroids_be_passed_through(tmp_path):
    path = write(tmp_path, "a_net.tntp", NET.replace("<FIRST THRU NODE> 3", "<FIRST THRU NODE> 1"))
    assert read_network(path)[0].block_centroid_flows is False


def test_length_in_km_only_when_the_unit_is_known(net_file):
    assert np.isnan(read_network(net_file)[0].length_km).all()
    network, meta = read_network(net_file, length_unit="mi")
    assert network.length_km == pytest.approx(np.array([2.5, 1, 3, 3]) * 1.609344)
    assert meta["length_unit"] == "mi"
    with pytest.raises(NetworkError, match="unknown length unit"):
        read_network(net_file, length_unit="furlong")


def test_readme_beside_the_net_file_gives_unit_and_cost_weights(net_file):
    write(
        net_file.parent,
        "README.md",
        "## Units\nTime: minutes\nDistance: feet\n\n## Generalized Cost Weights\n"
        "Toll: 0.02 minutes/cent\nDistance: 0.04 minutes/mile\n",
    )
    network, meta = read_network(net_file)
    assert meta["length_unit"] == "ft"
    assert (meta["toll_weight"], meta["distance_weight"]) == (0.02, 0.04)
    assert network.length_km[0] == pytest.approx(2.5 * 0.0003048)


def test_readme_without_a_distance_unit_leaves_it_unknown(tmp_path):
    path = write(tmp_path, "README.md", "## Units\nTime:\nDistance: \nSpeed:\n")
    assert read_readme_meta(path) == {"length_unit": None}


def test_demand_fills_the_zone_matrix(net_file, tmp_path):
    network, _ = read_network(net_file)
    demand = read_demand(write(tmp_path, "toy_trips.tntp", TRIPS), network)
    assert demand.zone_ids.tolist() == [1, 2]
    assert demand.matrix.tolist() == [[0, 100], [50, 0]]


def test_node_coordinates_by_node_id(net_file, tmp_path):
    network, _ = read_network(net_file)
    path = write(tmp_path, "toy_node.tntp", "Node\tX\tY\t;\n3\t1.5\t-2\t;\n1\t0\t0\t;\n")
    x, y = read_node_coordinates(path, network)
    assert x[[0, 2]].tolist() == [0, 1.5] and y[2] == -2 and np.isnan(x[1])


def test_flows_by_link_in_network_order(net_file, tmp_path):
    network, _ = read_network(net_file)
    text = "From \tTo \tVolume \tCost \n1\t3\t10\t1\n3\t2\t20\t2\n1\t4\t30\t3\n4\t2\t40\t4\n"
    flows = read_flow(write(tmp_path, "toy_flow.tntp", text))
    assert flows[(1, 4)] == (30.0, 3.0)
    assert flow_array(flows, network).tolist() == [10, 20, 30, 40]
    del flows[(4, 2)]
    with pytest.raises(NetworkError, match="1 links without flow"):
        flow_array(flows, network)


# --- malformed input: the error names the file and the line ---------------------------


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "\t3\t2\t1000\t1\t5",
            "\t3\t2\tlots\t1\t5",
            r"toy_net.tntp, line 10: capacity is not a number",
        ),
        (
            "\t1\t4\t500\t3\t12\t0.15\t4\t0\t0\t2\t;",
            "\t1\t4\t500\t;",
            r"toy_net.tntp, line 11: expected at least 7",
        ),
        ("\t4\t2\t500", "\t9\t2\t500", r"toy_net.tntp, line 12: init_node 9 is not a node"),
        (
            "\t1\t3\t1000\t2.5\t10",
            "\t1\t3\t1000\t2.5\t-10",
            r"toy_net.tntp, line 9: negative or NaN free_flow_time",
        ),
        (
            "<NUMBER OF LINKS> 4",
            "<NUMBER OF LINKS> 5",
            r"toy_net.tntp: <NUMBER OF LINKS> is 5 but 4",
        ),
        ("<NUMBER OF ZONES> 2\n", "", r"toy_net.tntp: metadata <NUMBER OF ZONES> is missing"),
        (
            "<END OF METADATA>",
            "",
            r"toy_net.tntp, line 9: expected a <KEY> value metadata line or <END OF",
        ),
    ],
)
def test_malformed_network_names_file_and_line(tmp_path, old, new, message):
    assert old in NET
    path = write(tmp_path, "toy_net.tntp", NET.replace(old, new))
    with pytest.raises(NetworkError, match=message):
        read_network(path)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("2 :    100.0;", "7 :    100.0;", r"toy_trips.tntp, line 7: zone 7 is not a zone"),
        ("2 :    100.0;", "2 :    many;", r"toy_trips.tntp, line 7: trips to 2 is not a number"),
        ("2 :    100.0;", "1 :    100.0;", r"toy_trips.tntp, line 7: a destination is given twice"),
        ("2 :    100.0;", "2 :    -100.0;", r"toy_trips.tntp, line 7: negative or NaN trips"),
        (
            "2 :    100.0;",
            "2     100.0;",
            r"toy_trips.tntp, line 7: expected 'destination : trips;' pairs",
        ),
        (
            "Origin \t1\n",
            "",
            r"toy_trips.tntp, line 6: destination values before any 'Origin' line",
        ),
        ("<TOTAL OD FLOW> 150.0", "<TOTAL OD FLOW> 151.0", r"trips sum to 150.000000 but"),
        (
            "<NUMBER OF ZONES> 2",
            "<NUMBER OF ZONES> 3",
            r"toy_trips.tntp: 3 zones but the network has 2",
        ),
    ],
)
def test_malformed_trips_name_file_and_line(net_file, tmp_path, old, new, message):
    assert old in TRIPS
    network, _ = read_network(net_file)
    path = write(tmp_path, "toy_trips.tntp", TRIPS.replace(old, new))
    with pytest.raises(NetworkError, match=message):
        read_demand(path, network)


def test_malformed_flow_and_node_files_name_file_and_line(net_file, tmp_path):
    network, _ = read_network(net_file)
    flow = write(tmp_path, "toy_flow.tntp", "From To Volume Cost\n1 3 10 1\n1 3 12 1\n")
    with pytest.raises(NetworkError, match=r"toy_flow.tntp, line 3: link 1-3 given twice"):
        read_flow(flow)
    node = write(tmp_path, "toy_node.tntp", "Node X Y ;\n1 0 0 ;\n8 1 1 ;\n")
    with pytest.raises(NetworkError, match=r"toy_node.tntp, line 3: node 8 is not in the network"):
        read_node_coordinates(node, network)


def test_missing_file_is_a_network_error(tmp_path):
    with pytest.raises(NetworkError, match="cannot read"):
        read_network(tmp_path / "absent_net.tntp")


# --- the real networks ----------------------------------------------------------------

REAL = {
    # name: (nodes, links, zones, blocks centroids, length unit, toll w, distance w, trips)
    "SiouxFalls": (24, 76, 24, False, None, 0.0, 0.0, 360600.0),
    "Anaheim": (416, 914, 38, True, "ft", 0.0, 0.0, 104694.4),
    "ChicagoSketch": (933, 2950, 387, False, "mi", 0.02, 0.04, 1260907.44),
    "Winnipeg": (1052, 2836, 147, True, None, 0.0, 0.0, 64784.0),
}


@pytest.mark.parametrize("name", REAL)
def test_real_network_dimensions_and_metadata(name):
    folder = TNTP / name
    if not folder.is_dir():
        pytest.skip(f"TNTP data not found under {TNTP} (set RECI_SHARED_DATA)")
    nodes, links, zones, blocks, unit, toll_w, dist_w, trips = REAL[name]
    network, meta = read_network(folder / f"{name}_net.tntp")
    assert (network.n_nodes, network.n_links, len(network.zone_ids)) == (nodes, links, zones)
    assert network.block_centroid_flows is blocks
    assert meta["length_unit"] == unit
    assert (meta["toll_weight"], meta["distance_weight"]) == (toll_w, dist_w)
    assert np.isnan(network.length_km).all() == (unit is None)
    demand = read_demand(folder / f"{name}_trips.tntp", network)
    assert demand.total == pytest.approx(trips, rel=1e-12)  # the README's "Trips", summed in float
    flows = flow_array(read_flow(folder / f"{name}_flow.tntp"), network)
    assert flows.shape == (links,) and (flows >= 0).all()


def test_file_that_stops_inside_its_metadata_says_so(tmp_path):
    path = write(tmp_path, "cut_net.tntp", "<NUMBER OF ZONES> 2\n<NUMBER OF NODES> 4\n")
    with pytest.raises(NetworkError, match=r"cut_net.tntp: no <END OF METADATA>"):
        read_network(path)
