"""The command line: pack, run, import; exit codes 0 / 2 (bad input) / 1 (anything else)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from twins.engine.__main__ import main
from twins.engine.package import DEFAULT_RELATIVE_GAP, load_package

from .package_helpers import tiny_package, tntp_folder, with_descriptor, write_zip, zip_members

ROOT = Path(__file__).resolve().parents[2]
REQUIRED_SIDE_KEYS = {
    "tstt", "objective", "relative_gap", "iterations", "total_demand", "unassigned_demand",
    "vehicle_km", "runtime_s",
}  # fmt: skip


def test_pack_tntp_then_run_with_json_writes_the_full_summary(tmp_path, capsys):
    package = tmp_path / "sf.zip"
    folder = str(tntp_folder("SiouxFalls"))
    assert main(["pack-tntp", folder, "-o", str(package), "--close", "10-16", "--gap", "1e-3"]) == 0
    assert "sha256" in capsys.readouterr().out

    assert main(["run", str(package), "--json", str(tmp_path / "summary.json")]) == 0
    out, err = capsys.readouterr()
    assert "TSTT" in out and "baseline" in out and "scenario" in out and "%" in out
    assert "baseline: iteration 1," in err

    summary = json.loads((tmp_path / "summary.json").read_text())
    assert set(summary["package"]) == {"name", "version", "sha256"}
    assert summary["package"]["sha256"] == load_package(package).sha256
    assert set(summary["engine"]) == {"name", "version"}
    assert set(summary["baseline"]).issuperset(REQUIRED_SIDE_KEYS)
    assert set(summary["scenario"]).issuperset(REQUIRED_SIDE_KEYS)
    assert summary["baseline"]["relative_gap"] <= 1e-3
    assert summary["delta"]["tstt"]["percent"] > 0


def test_pack_tntp_options_set_name_title_cost_and_stopping_rule(tmp_path):
    package = tmp_path / "sf"
    args = [
        "pack-tntp", str(tntp_folder("SiouxFalls")), "-o", str(package),
        "--name", "sioux-falls-test", "--title", "Sioux Falls", "--max-iterations", "50",
        "--algorithm", "cfw", "--toll-weight", "0.5", "--distance-weight", "0.1",
        "--distance-unit", "km",
    ]  # fmt: skip
    assert main(args) == 0
    loaded = load_package(package)
    assert (loaded.name, loaded.descriptor["title"]) == ("sioux-falls-test", "Sioux Falls")
    assert loaded.assignment == {
        "algorithm": "cfw",
        "relative_gap": DEFAULT_RELATIVE_GAP,
        "max_iterations": 50,
    }
    assert loaded.cost == {"toll_weight": 0.5, "distance_weight": 0.1, "distance_unit": "km"}


def test_run_overrides_the_stopping_rule_from_the_command_line(tmp_path, capsys):
    package = tiny_package(tmp_path / "tiny.zip")
    summary_path = tmp_path / "s.json"
    assert main(["run", str(package), "--max-iterations", "2", "--json", str(summary_path)]) == 0
    assert json.loads(summary_path.read_text())["baseline"]["iterations"] <= 2


def test_run_writes_per_link_results_on_request(tmp_path):
    package = tiny_package(tmp_path / "tiny.zip", [{"type": "close_links", "link_ids": [10]}])
    args = ["run", str(package), "--quiet", "--csv", str(tmp_path / "l.csv"), "--geojson",
            str(tmp_path / "l.geojson"), "--json", str(tmp_path / "s.json")]  # fmt: skip
    assert main(args) == 0
    header = (tmp_path / "l.csv").read_text().splitlines()[0].split(",")
    collection = json.loads((tmp_path / "l.geojson").read_text())
    assert collection["type"] == "FeatureCollection"
    assert len(collection["features"]) == 7
    assert list(collection["features"][0]["properties"]) == header
    assert {"flow_delta", "flow_noise", "delta_resolved", "closed", "restricted"} <= set(header)
    summary = json.loads((tmp_path / "s.json").read_text())
    assert {"streets", "noise"} <= set(summary)


def test_links_csv_is_the_old_name_of_csv(tmp_path):
    package = tiny_package(tmp_path / "tiny.zip", [{"type": "close_links", "link_ids": [10]}])
    assert main(["run", str(package), "--quiet", "--links-csv", str(tmp_path / "a.csv")]) == 0
    assert main(["run", str(package), "--quiet", "--csv", str(tmp_path / "b.csv")]) == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_run_prints_noise_and_the_streets_that_change(tmp_path, capsys):
    pytest.importorskip("osmium")
    extract = Path(__file__).parent / "fixtures" / "town.osm"
    if not extract.is_file():
        pytest.skip("OSM test fixture town.osm not found")
    output = tmp_path / "town.zip"
    main(["import-osm", str(extract), "-o", str(output), "--template", "school-streets"])
    capsys.readouterr()
    assert main(["run", str(output), "--quiet", "--geojson", str(tmp_path / "t.geojson")]) == 0
    out = capsys.readouterr().out
    assert "Average trip (min)" in out and "±" in out and "Convergence noise:" in out
    features = json.loads((tmp_path / "t.geojson").read_text())["features"]
    assert all(f["geometry"]["type"] == "LineString" for f in features)
    assert any(f["properties"]["name"] for f in features)


def test_a_bad_package_exits_2_with_the_message_and_no_traceback(tmp_path, capsys):
    members = with_descriptor(
        zip_members(tiny_package(tmp_path / "tiny.zip")),
        lambda d: d["scenario"]["assignment"].update(relative_gap="abc"),
    )
    bad = write_zip(tmp_path / "bad.zip", members.items())
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err == (
        "error: datapackage.json: scenario.assignment.relative_gap: 'abc' is not of type 'number'\n"
    )


def test_a_missing_package_exits_2(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nothing.zip")]) == 2
    assert "no such package file or folder" in capsys.readouterr().err


def test_an_invalid_override_exits_2(tmp_path, capsys):
    assert main(["run", str(tiny_package(tmp_path / "t.zip")), "--gap", "2"]) == 2
    assert "overrides.relative_gap: 2.0 is greater than the maximum of 1" in capsys.readouterr().err


def test_closing_a_missing_link_exits_2_and_writes_nothing(tmp_path, capsys):
    output = tmp_path / "sf.zip"
    args = ["pack-tntp", str(tntp_folder("SiouxFalls")), "-o", str(output), "--close", "1-24"]
    assert main(args) == 2
    assert "no link from node 1 to node 24" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_malformed_close_option_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["pack-tntp", str(tmp_path), "-o", str(tmp_path / "p.zip"), "--close", "10to16"])
    assert caught.value.code == 2
    assert "'10to16' is not FROM-TO" in capsys.readouterr().err


def test_pack_tntp_of_a_folder_without_tntp_files_exits_2(tmp_path, capsys):
    assert main(["pack-tntp", str(tmp_path), "-o", str(tmp_path / "p.zip")]) == 2
    assert "expected one *_net.tntp file, found 0" in capsys.readouterr().err


def test_import_osm_passes_its_options_to_the_importer(tmp_path, monkeypatch, capsys):
    osm = pytest.importorskip("twins.engine.osm")
    calls = []

    def fake_import(path, output, **options):
        calls.append((path, output, options))
        return "0" * 64

    monkeypatch.setattr(osm, "import_osm_package", fake_import)
    extract = tmp_path / "town.osm"
    extract.write_text("<osm/>")
    args = ["import-osm", str(extract), "-o", str(tmp_path / "t.zip"), "--template",
            "school-streets", "--radius", "150", "--seed", "7", "--zone-size", "300",
            "--trips", "5000"]  # fmt: skip
    assert main(args) == 0
    options = {"template": "school-streets", "radius_m": 150.0, "seed": 7, "zone_size_m": 300.0,
               "trips": 5000.0, "country": None, "demand_csv": None, "zones_csv": None}  # fmt: skip
    assert calls == [(extract, tmp_path / "t.zip", options)]


@pytest.mark.parametrize("bad", [["--zone-size", "0"], ["--trips", "-5"], ["--zone-size", "x"]])
def test_import_osm_refuses_non_positive_sizes(tmp_path, capsys, bad):
    extract = tmp_path / "town.osm"
    extract.write_text("<osm/>")
    with pytest.raises(SystemExit) as exit_info:
        main(["import-osm", str(extract), "-o", str(tmp_path / "t.zip"), *bad])
    assert exit_info.value.code == 2
    assert bad[0] in capsys.readouterr().err


def test_import_osm_of_a_missing_file_exits_2(tmp_path, capsys):
    assert main(["import-osm", str(tmp_path / "none.osm"), "-o", str(tmp_path / "t.zip")]) == 2
    assert "none.osm: no such file" in capsys.readouterr().err


def test_an_unexpected_failure_exits_1(tmp_path, monkeypatch, capsys):
    import twins.engine.__main__ as cli

    def explode(*args, **kwargs):
        raise RuntimeError("solver blew up")

    monkeypatch.setattr(cli, "run_package", explode)
    assert main(["run", str(tiny_package(tmp_path / "t.zip"))]) == 1
    assert "error: solver blew up" in capsys.readouterr().err


def test_python_dash_m_runs_without_django(tmp_path):
    package = tiny_package(tmp_path / "tiny.zip")
    code = (
        "import runpy, sys; sys.argv = ['twins.engine', 'run', sys.argv[1], '--quiet'];"
        "\ntry:\n    runpy.run_module('twins.engine', run_name='__main__')"
        "\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code"
        "\nassert not any(m.split('.')[0] == 'django' for m in sys.modules), 'django imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(package)], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "TSTT" in result.stdout


def test_import_osm_builds_a_gmns_package_that_runs(tmp_path, capsys):
    pytest.importorskip("osmium")
    extract = Path(__file__).parent / "fixtures" / "town.osm"
    if not extract.is_file():
        pytest.skip("OSM test fixture town.osm not found")
    output = tmp_path / "town.zip"
    assert (
        main(["import-osm", str(extract), "-o", str(output), "--template", "school-streets"]) == 0
    )
    package = load_package(output)
    assert package.scenario["network"]["format"] == "gmns"
    assert package.scenario["demand"]["synthetic"] is True
    assert package.scenario["template"]["name"] == "school-streets"
    assert {"name", "road_class", "osm_way_id", "geometry"} <= set(package.network().link_attrs)
    assert main(["run", str(output), "--quiet"]) == 0


@pytest.mark.parametrize(
    ("name", "content"),
    [("bad.osm", b"<osm><node"), ("empty.osm", b""), ("bad.osm.pbf", b"garbage"), ("x.zip", b"PK")],
)
def test_import_osm_of_unreadable_data_exits_2_with_a_message(tmp_path, capsys, name, content):
    # Regression: osmium's RuntimeError came out as a traceback and exit 1.
    extract = tmp_path / name
    extract.write_bytes(content)
    assert main(["import-osm", str(extract), "-o", str(tmp_path / "t.zip")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert name in err
    assert not (tmp_path / "t.zip").exists()


@pytest.mark.parametrize("bad", [["--radius", "0"], ["--radius", "-5"], ["--seed", "-1"]])
def test_import_osm_refuses_bad_radius_and_seed(tmp_path, capsys, bad):
    extract = tmp_path / "town.osm"
    extract.write_text("<osm/>")
    with pytest.raises(SystemExit) as exit_info:
        main(["import-osm", str(extract), "-o", str(tmp_path / "t.zip"), *bad])
    assert exit_info.value.code == 2
    assert bad[0] in capsys.readouterr().err


# --- import-osm with an office's OD matrix ---------------------------------------------------

TOWN = Path(__file__).parent / "fixtures" / "town.osm"


def town_zones():
    from twins.engine.demand import add_grid_zones
    from twins.engine.osm import read_osm

    return add_grid_zones(read_osm(TOWN).network, zone_size_m=300.0)[1]


def test_import_osm_takes_a_spanish_spreadsheet_od_matrix(tmp_path):
    zones = town_zones()
    first, last = int(zones.zone_ids[0]), int(zones.zone_ids[-1])
    # As an office exports it: Windows-1252, ';' separator, decimal commas, CRLF.
    text = f"Origen;Destino;Viajes (veh/h)\r\n{first};{last};1.234,5\r\n{last};{first};10,5\r\n"
    csv_path = tmp_path / "matriz.csv"
    csv_path.write_bytes(text.encode("cp1252"))
    out = tmp_path / "town.zip"
    args = ["import-osm", str(TOWN), "-o", str(out), "--zone-size", "300",
            "--demand", str(csv_path)]  # fmt: skip
    assert main(args) == 0
    package = load_package(out)
    demand = package.demand(package.network())
    assert not demand.synthetic
    assert demand.total == pytest.approx(1245.0)
    assert package.scenario["import_report"]["demand"]["decimal"] == ","
    assert "matriz.csv" in package.descriptor["description"]


def test_import_osm_maps_the_city_zones_to_the_nearest_grid_zone(tmp_path):
    zones = town_zones()
    rows = [f"Z{i};Zona {i};{lat:.6f};{lon:.6f}".replace(".", ",")
            for i, (lat, lon) in enumerate(zip(zones.lat, zones.lon, strict=True))]  # fmt: skip
    (tmp_path / "zonas.csv").write_text("Código;Nombre;Latitud;Longitud\n" + "\n".join(rows))
    (tmp_path / "od.csv").write_text("origen;destino;viajes\nZ0;Z1;100\nZ1;Z0;50\n")
    out = tmp_path / "town.zip"
    od, zonas = str(tmp_path / "od.csv"), str(tmp_path / "zonas.csv")
    args = ["import-osm", str(TOWN), "-o", str(out), "--zone-size", "300",
            "--demand", od, "--zones", zonas]  # fmt: skip
    assert main(args) == 0
    package = load_package(out)
    demand = package.demand(package.network())
    ids = list(demand.zone_ids)
    i0, i1 = ids.index(zones.zone_ids[0]), ids.index(zones.zone_ids[1])
    assert (demand.matrix[i0, i1], demand.matrix[i1, i0]) == (100.0, 50.0)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--zones", "z.csv"], "--zones needs --demand"),
        (["--demand", "od.csv", "--trips", "100"], "--trips sizes the synthetic demand"),
        (["--country", "XX"], "country"),
    ],
)
def test_import_osm_refuses_inconsistent_demand_options(tmp_path, capsys, extra, message):
    (tmp_path / "od.csv").write_text("origen;destino;viajes\n")
    extra = [str(tmp_path / e) if e.endswith(".csv") else e for e in extra]
    assert main(["import-osm", str(TOWN), "-o", str(tmp_path / "t.zip"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "t.zip").exists()


def test_import_osm_names_the_bad_cell_of_an_od_matrix(tmp_path, capsys):
    zones = town_zones()
    z = int(zones.zone_ids[0])
    (tmp_path / "od.csv").write_text(f"origen;destino;viajes\n{z};{z};-5\n")
    args = ["import-osm", str(TOWN), "-o", str(tmp_path / "t.zip"), "--zone-size", "300",
            "--demand", str(tmp_path / "od.csv")]  # fmt: skip
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "od.csv: line 2" in err and "negative" in err


def test_import_osm_takes_tntp_trips_on_the_grid_zones(tmp_path):
    zones = town_zones()
    n = zones.n_zones
    body = "".join(f"Origin {o}\n    {o % n + 1}: 5.0;\n" for o in range(1, n + 1))
    total = 5.0 * n
    header = f"<NUMBER OF ZONES> {n}\n<TOTAL OD FLOW> {total}\n<END OF METADATA>\n\n"
    (tmp_path / "town_trips.tntp").write_text(header + body)
    out = tmp_path / "town.zip"
    args = ["import-osm", str(TOWN), "-o", str(out), "--zone-size", "300",
            "--demand", str(tmp_path / "town_trips.tntp")]  # fmt: skip
    assert main(args) == 0
    package = load_package(out)
    demand = package.demand(package.network())
    assert demand.total == pytest.approx(total)
    assert not demand.synthetic
    assert package.scenario["import_report"]["demand"]["format"] == "tntp"
