"""GMNS node/link tables and OD CSV: round trips and error messages that say where."""

from __future__ import annotations

import math

import numpy as np
import pytest

from twins.engine import gmns, tntp
from twins.engine.gmns import GmnsError, read_network, read_od_csv, write_network, write_od_csv
from twins.engine.network import NetworkError

from .package_helpers import tiny_demand, tiny_network, tntp_folder

ARRAYS = (
    "node_ids", "from_idx", "to_idx", "capacity", "free_flow_time", "alpha", "beta",
    "link_ids", "zone_ids", "length_km", "toll", "node_x", "node_y",
)  # fmt: skip


def assert_same_network(actual, expected, *, exact=True):
    for name in ARRAYS:
        got, want = getattr(actual, name), getattr(expected, name)
        if exact:
            np.testing.assert_array_equal(got, want, err_msg=name)
        else:
            # capacity goes through capacity / lanes * lanes: one rounding each way.
            np.testing.assert_allclose(got, want, rtol=1e-15, err_msg=name)
    assert actual.block_centroid_flows == expected.block_centroid_flows


def osm_like_network():
    network = tiny_network()
    network.toll = np.array([0.0, 1.5, 0, 0, 0, 0, 0.25])
    network.capacity = network.capacity * np.array([1, 1, 3, 1, 1, 1, 2])
    network.link_attrs = {
        "name": ["Calle Real", "", "Gran Vía, 2", "Gran Vía", "", "", 'Calle "Nueva"'],
        "road_class": ["residential", "primary", "primary", "primary", "", "", "service"],
        "osm_way_id": [101, 102, 103, None, None, None, 107],
        "lanes": [1, 1, 3, 1, None, None, 2],
        "geometry": [
            [(-3.6, 37.17), (-3.595, 37.175), (-3.59, 37.18)],
            *([None] * 5),
            [(-3.6, 37.17), (-3.59, 37.18)],
        ],
    }
    return network


def test_round_trip_preserves_the_network_arrays_exactly():
    network = tiny_network()
    node_csv, link_csv = write_network(network)
    assert_same_network(read_network(node_csv, link_csv), network)


def test_round_trip_preserves_osm_attributes_and_per_lane_capacity():
    network = osm_like_network()
    back = read_network(*write_network(network))
    assert_same_network(back, network, exact=False)
    assert back.link_attrs == network.link_attrs


def test_capacity_is_written_per_lane_as_gmns_defines_it():
    _node_csv, link_csv = write_network(osm_like_network())
    rows = [line.split(",") for line in link_csv.decode().splitlines()]
    header = rows[0]
    third = dict(zip(header, rows[3], strict=False))  # link 12: 1500 veh/h on 3 lanes
    assert (third["lanes"], third["capacity"]) == ("3", "500.0")


def test_lengths_are_metres_and_free_speed_km_per_hour():
    _node_csv, link_csv = write_network(tiny_network())
    header, first = (line.split(",") for line in link_csv.decode().splitlines()[:2])
    row = dict(zip(header, first, strict=True))
    assert (row["length"], row["vdf_fftt"], row["free_speed"]) == ("2000.0", "2.0", "60.0")


def test_network_without_coordinates_or_lengths_round_trips():
    network = tiny_network()
    network.node_x = network.node_y = None
    network.length_km = np.full(network.n_links, np.nan)
    back = read_network(*write_network(network))
    assert back.node_x is None and back.node_y is None
    assert np.isnan(back.length_km).all()
    np.testing.assert_array_equal(back.free_flow_time, network.free_flow_time)


def test_zones_are_the_centroid_nodes():
    node_csv, _link_csv = write_network(tiny_network())
    assert node_csv.decode().splitlines()[:3] == [
        "node_id,x_coord,y_coord,zone_id,node_type",
        "1,-3.6,37.17,1,centroid",
        "2,-3.58,37.17,2,centroid",
    ]


def test_length_source_is_in_the_package_distance_unit():
    network = read_network(*write_network(tiny_network()), distance_unit="mi")
    assert network.length_source[0] == pytest.approx(2.0 / 1.609344, rel=1e-12)


def test_tntp_network_round_trips_through_gmns():
    folder = tntp_folder("SiouxFalls")
    network, _meta = tntp.read_network(
        folder / "SiouxFalls_net.tntp", folder / "SiouxFalls_node.tntp"
    )
    back = read_network(*write_network(network), block_centroid_flows=network.block_centroid_flows)
    assert_same_network(back, network)


def test_free_flow_time_is_derived_from_length_and_speed_when_missing():
    node_csv, _ = write_network(tiny_network())
    link_csv = b"link_id,from_node_id,to_node_id,length,free_speed,capacity\n1,1,3,1500,45,900\n"
    network = read_network(node_csv, link_csv)
    assert network.free_flow_time[0] == pytest.approx(2.0)
    assert (network.alpha[0], network.beta[0]) == (0.15, 4.0)


def test_unused_gmns_and_user_defined_columns_are_ignored():
    node_csv, _ = write_network(tiny_network())
    link_csv = (
        b"link_id,from_node_id,to_node_id,vdf_fftt,capacity,grade,my_note\n1,1,3,2,900,1.5,x\n"
    )
    assert read_network(node_csv, link_csv).n_links == 1


# --- errors name file, line and column ----------------------------------------------------

NODES = b"node_id,x_coord,y_coord,zone_id,node_type\n1,0,0,1,centroid\n2,0,1,2,centroid\n3,1,1,,\n"


@pytest.mark.parametrize(
    ("link_csv", "message"),
    [
        (b"link_id,from_node_id,to_node_id\n1,1,3\n", "link.csv: missing column 'capacity'"),
        (
            b"link_id,from_node_id,to_node_id,vdf_fftt,capacity\n1,1,3,2,lots\n",
            "link.csv: line 2: column capacity: 'lots' is not a number",
        ),
        (
            b"link_id,from_node_id,to_node_id,vdf_fftt,capacity\n1,1,3,2,900\n2,1,9,2,900\n",
            "link.csv: line 3: column to_node_id: node 9 is not in the node table",
        ),
        (
            b"link_id,from_node_id,to_node_id,vdf_fftt,capacity\n1,1,3,2,900\n1,3,2,2,900\n",
            "link.csv: line 3: column link_id: duplicate id 1 (first on line 2)",
        ),
        (
            b"link_id,from_node_id,to_node_id,vdf_fftt,capacity\n1,1,3,2,0\n",
            "link.csv: line 2: column capacity: '0' must be > 0",
        ),
        (
            b"link_id,from_node_id,to_node_id,capacity\n1,1,3,900\n",
            "link.csv: line 2: column vdf_fftt: value missing (give vdf_fftt, or length and "
            "free_speed)",
        ),
        (
            b"link_id,from_node_id,to_node_id,directed,vdf_fftt,capacity\n1,1,3,false,2,900\n",
            "link.csv: line 2: column directed: undirected links are not supported",
        ),
        (
            b"link_id,from_node_id,to_node_id,vdf_fftt,capacity,geometry\n"
            b"1,1,3,2,900,POINT (0 0)\n",
            "link.csv: line 2: column geometry: 'POINT (0 0)' is not a WKT LINESTRING",
        ),
        (
            b"link_id,from_node_id,to_node_id,vdf_fftt,capacity\n1,1,3,2\n",
            "link.csv: line 2: 4 values for 5 columns",
        ),
        (b"", "link.csv: empty file (no header line)"),
        (b"link_id,link_id\n", "link.csv: duplicate column 'link_id'"),
        (b"\xff\xfe", "link.csv: not UTF-8 text"),
    ],
)
def test_link_table_errors_name_file_line_and_column(link_csv, message):
    with pytest.raises(GmnsError) as caught:
        read_network(NODES, link_csv)
    assert str(caught.value).startswith(message)


def test_a_centroid_zone_id_must_be_its_node_id():
    nodes = b"node_id,zone_id,node_type\n1,7,centroid\n"
    with pytest.raises(GmnsError, match=r"node.csv: line 2: column zone_id: a centroid's zone_id"):
        read_network(nodes, b"link_id,from_node_id,to_node_id,vdf_fftt,capacity\n")


def test_gmns_errors_are_network_errors():
    assert issubclass(GmnsError, NetworkError)


def test_file_names_in_messages_can_be_given():
    with pytest.raises(GmnsError, match=r"^data/link\.csv: missing column"):
        read_network(NODES, b"link_id\n", link_name="data/link.csv")


# --- OD CSV -------------------------------------------------------------------------------


def test_od_csv_round_trip_preserves_the_matrix():
    network = tiny_network()
    demand = read_od_csv(write_od_csv(tiny_demand()), network)
    np.testing.assert_array_equal(demand.matrix, tiny_demand().matrix)
    np.testing.assert_array_equal(demand.zone_ids, network.zone_ids)


def test_od_csv_lists_only_the_pairs_with_trips():
    assert write_od_csv(tiny_demand()).decode().splitlines() == [
        "origin,destination,trips",
        "1,2,100.0",
        "2,1,50.0",
    ]


def test_od_csv_reads_from_a_path(tmp_path):
    path = tmp_path / "od.csv"
    path.write_bytes(b"origin,destination,trips\n2,1,7.5\n")
    demand = read_od_csv(path, tiny_network(), synthetic=True, description="guess")
    assert (demand.matrix[1, 0], demand.total, demand.synthetic) == (7.5, 7.5, True)


@pytest.mark.parametrize(
    ("od_csv", "message"),
    [
        (b"origin,destination\n1,2\n", "od.csv: missing column 'trips'"),
        (b"origin,destination,trips,when\n1,2,3,am\n", "od.csv: unexpected column 'when'"),
        (
            b"origin,destination,trips\n1,2,3\n1,3,4\n",
            "od.csv: line 3: column destination: 3 is not a zone of the network",
        ),
        (
            b"origin,destination,trips\n1,2,3\n1,2,4\n",
            "od.csv: line 3: OD pair repeated (first on line 2)",
        ),
        (b"origin,destination,trips\n1,2,-3\n", "od.csv: line 2: column trips: '-3' is negative"),
        (
            b"origin,destination,trips\n1,2,inf\n",
            "od.csv: line 2: column trips: 'inf' is not a finite",
        ),
        (
            b"origin,destination,trips\nA,2,3\n",
            "od.csv: line 2: column origin: 'A' is not an integer",
        ),
    ],
)
def test_od_csv_errors_name_file_line_and_column(od_csv, message):
    with pytest.raises(GmnsError) as caught:
        read_od_csv(od_csv, tiny_network())
    assert str(caught.value).startswith(message)


def test_table_schema_lists_the_written_columns():
    node_csv, link_csv = write_network(tiny_network())
    for table, data in (
        ("node", node_csv),
        ("link", link_csv),
        ("od", write_od_csv(tiny_demand())),
    ):
        names = [field["name"] for field in gmns.table_schema(table)["fields"]]
        assert names == gmns.header_of(data)


def test_wkt_linestring_parser_reads_lon_lat_pairs():
    assert gmns.parse_wkt_linestring("LINESTRING (-3.6 37.1, -3.5 37.2)") == [
        (-3.6, 37.1),
        (-3.5, 37.2),
    ]
    assert not math.isnan(gmns.parse_wkt_linestring("linestring(1 2,3 4)")[1][0])
