"""Spreadsheet OD CSVs: every export variant gives the same matrix; errors say where."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import numpy as np
import pytest

from twins.engine import gmns, odcsv, tntp
from twins.engine.network import NetworkError
from twins.engine.odcsv import (
    ODImportError,
    nearest_zone_labels,
    parse_number,
    read_spreadsheet_od,
    read_spreadsheet_zones,
)

from .package_helpers import tiny_network
from .test_tntp import NET, TRIPS

FIXTURES = Path(__file__).parent / "fixtures"

# The matrix every fixture holds, over zones 1, 2, 3 (names: Zona Almería, Centro, Realejo).
EXPECTED = np.array([[0, 1234.5, 10], [0.25, 0, 0], [2000, 7, 0]])
NAMES = {"Zona Almería": 1, "centro": 2, "REALEJO": 3}  # labels compare case-insensitively

# fixture, extra arguments, (encoding, separator, decimal, layout)
VARIANTS = [
    ("od_long_es.csv", {}, ("cp1252", "semicolon", ",", "long")),
    ("od_long_en.csv", {}, ("utf-8", "comma", ".", "long")),
    ("od_long_tab.csv", {}, ("utf-8", "tab", ",", "long")),
    ("od_wide_es.csv", {}, ("utf-8-sig", "semicolon", ",", "wide")),
    ("od_wide_en.csv", {}, ("utf-8", "comma", ".", "wide")),
    ("od_names_cp1252.csv", {"labels": NAMES}, ("cp1252", "semicolon", ",", "long")),
    ("od_names_wide.csv", {"labels": NAMES}, ("utf-8", "semicolon", ",", "wide")),
]


@pytest.mark.parametrize(("fixture", "kwargs", "found"), VARIANTS, ids=[v[0] for v in VARIANTS])
def test_every_export_variant_gives_the_same_matrix(fixture, kwargs, found):
    od = read_spreadsheet_od(FIXTURES / fixture, **kwargs)
    assert od.demand.zone_ids.dtype == np.int64
    assert od.demand.zone_ids.tolist() == [1, 2, 3]
    np.testing.assert_array_equal(od.demand.matrix, EXPECTED)
    report = od.report
    assert (report.encoding, report.separator, report.decimal, report.layout) == found
    assert report.source == fixture
    assert report.total_trips == pytest.approx(3251.75) and report.pairs == 5
    assert report.zones == 3 and not report.warnings


def test_fixtures_are_the_bytes_they_claim_to_be():
    assert (FIXTURES / "od_wide_es.csv").read_bytes().startswith(codecs.BOM_UTF8)
    assert b"\r\n" in (FIXTURES / "od_long_es.csv").read_bytes()
    assert b"Almer\xeda" in (FIXTURES / "od_names_cp1252.csv").read_bytes()  # cp1252 í
    assert "Almería".encode() in (FIXTURES / "od_names_wide.csv").read_bytes()


def test_names_come_out_right_and_get_ids_in_sorted_order_without_a_mapping():
    od = read_spreadsheet_od(FIXTURES / "od_names_cp1252.csv")
    assert od.labels == ["Zona Almería", "Centro", "Realejo"]
    assert od.label_to_id == {"Centro": 1, "Realejo": 2, "Zona Almería": 3}
    order = [1, 2, 0]  # new ids 1, 2, 3 = Centro, Realejo, Zona Almería
    np.testing.assert_array_equal(od.demand.matrix, EXPECTED[np.ix_(order, order)])
    assert od.report.notes[0].startswith("line 1 skipped (title or note")
    assert od.report.header == ["ORIGEN", "DESTINO", "VIAJES"]


def test_wide_totals_are_left_out_and_checked():
    od = read_spreadsheet_od(FIXTURES / "od_wide_es.csv")
    assert any("totals row" in note for note in od.report.notes)
    assert any("totals column" in note for note in od.report.notes)
    assert not od.report.warnings
    bad = b";1;2;Total\n1;0;5;5\n2;1;0;9\nTotal;1;5;15\n"
    report = read_spreadsheet_od(bad, name="od.csv").report
    assert report.warnings == ["line 3, column 4: total 9 but the cells sum to 1"]


VARIANT_BYTES = [  # inline variants of the 2-zone matrix [[0, 1500.5], [3, 0]]
    ("crlf", b"origen;destino;viajes\r\n1;2;1.500,5\r\n2;1;3\r\n"),
    ("cr-only", b"origen;destino;viajes\r1;2;1.500,5\r2;1;3\r"),
    ("accents-and-case", "ORÍGEN;destino;Nº VIAJES\n1;2;1500,5\n2;1;3\n".encode("cp1252")),
    ("english-words", b"From zone;To zone;Flow (veh/h)\n1;2;1500,5\n2;1;3\n"),
    ("third-column-by-elimination", b"origen;destino;hora_punta\n1;2;1500,5\n2;1;3\n"),
    ("extra-columns", b"id;origen;nombre;destino;viajes\n7;1;x;2;1500,5\n8;2;y;1;3\n"),
    (
        "utf-16-unicode-text",
        "origen\tdestino\tviajes\r\n1\t2\t1500,5\r\n2\t1\t3\r\n".encode("utf-16"),
    ),
    ("bom-and-semicolon", codecs.BOM_UTF8 + b"Origen;Destino;Viajes\n1;2;1500,50\n2;1;3,00\n"),
    ("quoted-decimal-comma", b'origen,destino,viajes\n1,2,"1500,5"\n2,1,3\n'),
    ("quoted-thousands-comma", b'origin,destination,trips\n1,2,"1,500.5"\n2,1,3\n'),
    ("space-thousands", "origen;destino;viajes\n1;2;1\u00a0500,5\n2;1;3\n".encode()),
    ("exponent", b"origen;destino;viajes\n1;2;1,5005E+03\n2;1;3\n"),
    ("blank-is-zero", b"origen;destino;viajes\n1;2;1500,5\n2;1;3\n1;1;\n"),
    ("leading-zeros-and-decimals", b"origen;destino;viajes\n001;2,00;1500,5\n2;01;3\n"),
    ("totals-row-in-long", b"origen;destino;viajes\n1;2;1500,5\n2;1;3\nTotal;;1503,5\n"),
    ("headerless", b"1;2;1500,5\n2;1;3\n"),
    ("wide-corner-empty", b";1;2\n1;;1.500,5\n2;3;\n"),
    ("wide-trailing-columns-and-rows", b"O/D;1;2;;\r\n1;0;1500,5;;\r\n2;3;0;;\r\n;;;;\r\n;;;;\r\n"),
    ("wide-tab", b"\t1\t2\n1\t0\t1500.5\n2\t3\t0\n"),
]


@pytest.mark.parametrize(("label", "data"), VARIANT_BYTES, ids=[v[0] for v in VARIANT_BYTES])
def test_inline_variants_give_the_same_matrix(label, data):
    od = read_spreadsheet_od(data, name=f"{label}.csv")
    assert od.demand.zone_ids.tolist() == [1, 2]
    np.testing.assert_array_equal(od.demand.matrix, [[0, 1500.5], [3, 0]])


def test_ambiguous_numbers_follow_the_separator_and_warn():
    od = read_spreadsheet_od(b"origen;destino;viajes\n1;2;1.500\n", name="od.csv")
    assert od.demand.matrix[0, 1] == 1500 and od.report.decimal == ","
    assert "could use either decimal mark; read as thousands" in od.report.warnings[0]
    od = read_spreadsheet_od(b"origin,destination,trips\n1,2,1.500\n", name="od.csv")
    assert od.demand.matrix[0, 1] == 1.5 and "read as decimals" in od.report.warnings[0]
    od = read_spreadsheet_od(b"origen;destino;viajes\n1;2;1.500\n2;1;2,5\n")
    assert od.demand.matrix.tolist() == [[0, 1500], [2.5, 0]] and not od.report.warnings


def test_overrides_skip_the_detection():
    data = "origen|destino|viajes\n1|2|1.500\n".encode("latin-1")
    od = read_spreadsheet_od(data, separator="|", decimal=".", encoding="latin-1")
    assert od.demand.matrix[0, 1] == 1.5 and not od.report.warnings


def test_zone_ids_fix_the_zones_and_their_order():
    od = read_spreadsheet_od(FIXTURES / "od_long_es.csv", zone_ids=np.array([3, 2, 1, 4]))
    assert od.demand.zone_ids.tolist() == [3, 2, 1, 4]
    order = [2, 1, 0]
    np.testing.assert_array_equal(od.demand.matrix[:3, :3], EXPECTED[np.ix_(order, order)])
    assert not od.demand.matrix[3].any() and not od.demand.matrix[:, 3].any()


def test_labels_map_codes_and_aggregate_zones_that_share_an_id():
    data = b"origen;destino;viajes\n01001;01002;5\n01002;01001;1\n01003;01001;2\n"
    od = read_spreadsheet_od(data, labels={"1001": 10, "1002": 20, 1003: 20}, zone_ids=[10, 20])
    assert od.demand.matrix.tolist() == [[0, 5], [3, 0]]
    assert od.label_to_id == {"01001": 10, "01002": 20, "01003": 20}


def test_canonical_csv_reads_back_through_the_package_reader():
    network = tiny_network()  # zones 1 and 2
    od = read_spreadsheet_od(b"origen;destino;viajes\r\n1;2;1.234,5\r\n2;1;0,1\r\n")
    assert od.to_od_csv() == b"origin,destination,trips\n1,2,1234.5\n2,1,0.1\n"
    assert odcsv.to_od_csv(od.demand) == od.to_od_csv()
    demand = gmns.read_od_csv(od.to_od_csv(), network)
    np.testing.assert_array_equal(demand.matrix, od.demand.matrix)


def test_same_matrix_as_the_tntp_reader(tmp_path):
    (tmp_path / "toy_net.tntp").write_text(NET)
    (tmp_path / "toy_trips.tntp").write_text(TRIPS)
    network, _ = tntp.read_network(tmp_path / "toy_net.tntp")
    reference = tntp.read_demand(tmp_path / "toy_trips.tntp", network)
    for data in (b"Origen;Destino;Viajes\r\n1;2;100\r\n2;1;50\r\n", b";1;2\n1;0;100\n2;50;0\n"):
        od = read_spreadsheet_od(data, zone_ids=network.zone_ids)
        np.testing.assert_array_equal(od.demand.matrix, reference.matrix)
        np.testing.assert_array_equal(od.demand.zone_ids, reference.zone_ids)


ERRORS = [  # (data, kwargs, message regex); files are named od.csv
    (b"", {}, r"^od\.csv: empty file$"),
    (codecs.BOM_UTF8 + b"\r\n;;\r\n", {}, r"^od\.csv: empty file$"),
    (b"origen;destino;viajes\n", {}, r"no OD data below the header \(line 1\)"),
    (
        b"origen;destino;viajes\n1;2;5\n2;1;-12\n",
        {},
        r"^od\.csv: line 3, column 3 'viajes' \(cell C3\): '-12' is negative: trips must be >= 0$",
    ),
    (
        b"origen;destino;viajes\n1;2;muchos\n",
        {},
        r"^od\.csv: line 2, column 3 'viajes' \(cell C2\): 'muchos' is not a number \(trips\)$",
    ),
    (b"origen;destino;viajes\n1;2;1.23,4\n", {}, r"line 2, column 3 .*'1\.23,4' is not a number"),
    (
        b";1;2\n1;0;5\n2;x;0\n",
        {},
        r"^od\.csv: line 3, column 2 '1' \(cell B3\): 'x' is not a number \(trips\)$",
    ),
    (
        b"origen;destino;viajes\n1;2;5\n1;3;5\n",
        {"zone_ids": [1, 2]},
        r"^od\.csv: line 3, column 2 'destino' \(cell B3\): zone '3' is not a zone id of the "
        r"network$",
    ),
    (
        b";1;2;9\n1;0;5;1\n2;1;0;0\n",
        {"zone_ids": [1, 2]},
        r"^od\.csv: line 1, column 4 '9' \(cell D1\): zone '9' is not a zone id",
    ),
    (
        "origen;destino;viajes\nZona Almería;Centro;5\n".encode("cp1252"),
        {"zone_ids": [1, 2]},
        r"line 2, column 1 'origen' \(cell A2\): zone 'Zona Almería' is not a zone id of the "
        r"network; pass labels= to map codes or names to zone ids",
    ),
    (
        b"origen;destino;viajes\nCentro;Norte;5\n",
        {"labels": {"Centro": 1}},
        r"line 2, column 2 'destino' \(cell B2\): zone 'Norte' is not in the zone list",
    ),
    (
        b"origen;destino;viajes\n1;2;5\n2;1;5\n01;2,0;6\n",
        {},
        r"^od\.csv: line 4: OD pair 01 -> 2,0 repeated \(first on line 2\)$",
    ),
    (
        b";1;2\n1;0;5\n2;1;0\n1;3;0\n",
        {},
        r"^od\.csv: line 4, column 1 \(cell A4\): origin '1' is already on line 2: duplicate OD "
        r"pairs \(read as a matrix because",
    ),
    (
        b"zona_a;zona_b;cantidad\n1;2;5\n1;3;4\n",
        {},
        r"line 3, column 1 'zona_a' \(cell A3\): origin '1' is already on line 2: .*needs a "
        r"header such as 'origen;destino;viajes'",
    ),
    (b";1;2;1\n1;0;5;1\n", {}, r"line 1, column 4 '1' \(cell D1\): destination '1' is already"),
    (b";1;2\n1;0;5;7\n", {}, r"line 2, column 4 \(cell D2\): '7' is beyond the last destination"),
    (
        b"origin,destination,trips\n1,2,1,5\n",
        {},
        r"line 2, column 4 \(cell D2\): 4 cells but the header has 3 columns \(decimal commas",
    ),
    (b"origen;destino;viajes\n1;2;1,5\n2;1;2.5\n", {}, r"line 3, column 3.*'2\.5' has a decimal"),
    (b"origen;destino;viajes\n1;;5\n", {}, r"line 2, column 2 'destino' \(cell B2\): zone missing"),
    (b"PK\x03\x04\x14\x00", {}, r"^od\.csv: this is a spreadsheet workbook \(\.xlsx/\.xls\)"),
    (b"origen;destino;viajes\n1;2;5\n\x81;1;2\n", {}, r"^od\.csv: line 3: byte 0x81 is not valid"),
    (b"a\nb\n", {}, r"no ';', tab or ',' separates the lines"),
]


@pytest.mark.parametrize(("data", "kwargs", "message"), ERRORS)
def test_errors_name_file_line_and_column(data, kwargs, message):
    with pytest.raises(ODImportError, match=message) as caught:
        read_spreadsheet_od(data, name="od.csv", **kwargs)
    assert isinstance(caught.value, NetworkError)  # the CLI reports these with exit status 2


def test_missing_file_is_an_import_error(tmp_path):
    with pytest.raises(ODImportError, match=r"^nope\.csv: cannot be read"):
        read_spreadsheet_od(tmp_path / "nope.csv")


@pytest.mark.parametrize(
    ("cell", "decimal", "value"),
    [
        ("1.234,5", ",", 1234.5),
        ("1.234.567", ",", 1234567),
        ("0,25", ",", 0.25),
        (",5", ",", 0.5),
        ("1 234,5", ",", 1234.5),
        ("\u22125", ",", -5),
        ("+7", ",", 7),
        ("1,234.5", ".", 1234.5),
        ("1234.5", ".", 1234.5),
        ("2.5e3", ".", 2500),
        ("1,5E-01", ",", 0.15),
    ],
)
def test_parse_number(cell, decimal, value):
    assert parse_number(cell, decimal) == pytest.approx(value)


@pytest.mark.parametrize(
    ("cell", "decimal"), [("1.23,4", ","), ("12.34", ","), ("1,2,3", "."), ("", ","), ("-", ",")]
)
def test_parse_number_refuses(cell, decimal):
    with pytest.raises(ValueError, match=re.escape(repr(cell))):
        parse_number(cell, decimal)


def test_zones_file_with_decimal_commas_in_cp1252():
    zones = read_spreadsheet_zones(FIXTURES / "od_zones_cp1252.csv")
    assert zones == [
        ("1", 37.176, -3.597),
        ("2", 37.1773, -3.5986),
        ("3", 37.173, -3.592),
    ]
    named = read_spreadsheet_zones("Nombre;Lat;Lon\nZona Almería;37.176;-3.597\n".encode())
    assert named == [("Zona Almería", 37.176, -3.597)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"id;lat;lon\n1;37,1;-3,5\n1;37,2;-3,6\n", r"line 3, column 1 'id' .*'1' repeated"),
        (b"id;lat;lon\n1;437000;-3,5\n", r"line 2, column 2 'lat' .*not a WGS84 coordinate"),
        (b"id;lat;lon\n1;norte;-3,5\n", r"line 2, column 2 'lat' \(cell B2\): 'norte' is not"),
        (b"id;x\n1;2\n", r"no latitude"),
    ],
)
def test_zones_file_errors(data, message):
    with pytest.raises(ODImportError, match=message):
        read_spreadsheet_zones(data, name="zonas.csv")


def test_city_zones_map_to_the_nearest_generated_zone_and_their_trips_add_up():
    zones = read_spreadsheet_zones(FIXTURES / "od_zones_cp1252.csv")
    # Two generated zones: 101 near Zona Almería and Centro, 102 near Realejo.
    labels = nearest_zone_labels(zones, [101, 102], [-3.5975, -3.5920], [37.1765, 37.1730])
    assert labels == {"1": 101, "2": 101, "3": 102}
    od = read_spreadsheet_od(FIXTURES / "od_long_es.csv", labels=labels, zone_ids=[101, 102])
    assert od.demand.matrix.tolist() == [[1234.75, 10], [2007, 0]]
