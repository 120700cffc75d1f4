"""Scenario packages: hostile zips are refused with a clear message and nothing is written."""

from __future__ import annotations

import hashlib
import json
import stat
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from twins.engine.network import Demand
from twins.engine.package import (
    Limits,
    PackageError,
    build_package,
    load_package,
    pack_tntp,
    package_sha256,
    write_package,
)

from .package_helpers import (
    tiny_package,
    tntp_folder,
    with_descriptor,
    write_zip,
    zip_members,
)
from .test_interventions import FEATURES, SCHOOL_STREETS, street_plan


@pytest.fixture
def good_zip(tmp_path):
    return tiny_package(tmp_path / "good" / "tiny.zip")


@pytest.fixture
def members(good_zip):
    return zip_members(good_zip)


@pytest.fixture
def quarantine(tmp_path, monkeypatch):
    """An empty working folder and temp folder: a refused package must leave both empty."""
    folder = tmp_path / "quarantine"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def refuse(tmp_path, quarantine, members, **limits) -> str:
    """Load a zip of ``members``, expecting refusal and nothing written; return the message."""
    path = write_zip(tmp_path / "hostile.zip", list(members))
    with pytest.raises(PackageError) as caught:
        load_package(path, limits=Limits(**limits))
    assert list(quarantine.iterdir()) == []
    return str(caught.value)


# --- a good package -----------------------------------------------------------------------


def test_built_package_loads_with_its_content_address(good_zip):
    package = load_package(good_zip)
    assert package.name == "tiny"
    assert package.version == "1.0.0"
    assert package.sha256 == package_sha256(package.descriptor)
    assert package.network().n_links == 7
    assert package.demand(package.network()).total == 150.0


def test_package_sha256_is_the_canonical_descriptor_hash(good_zip):
    descriptor = json.loads(zip_members(good_zip)["datapackage.json"])
    canonical = json.dumps(descriptor, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert load_package(good_zip).sha256 == hashlib.sha256(canonical.encode()).hexdigest()


def test_every_resource_carries_its_sha256_and_size(members):
    descriptor = json.loads(members["datapackage.json"])
    for resource in descriptor["resources"]:
        data = members[resource["path"]]
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert resource["bytes"] == len(data)


def test_writing_the_same_package_twice_gives_identical_zip_bytes(tmp_path):
    first = tiny_package(tmp_path / "a.zip").read_bytes()
    assert tiny_package(tmp_path / "b.zip").read_bytes() == first


def test_zip_members_are_sorted_with_the_descriptor_first_and_fixed_timestamps(good_zip):
    with zipfile.ZipFile(good_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == ["datapackage.json", *sorted(names[1:])]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_a_folder_package_has_the_same_address_as_the_zip(tmp_path, good_zip):
    folder = tiny_package(tmp_path / "folder")
    assert (folder / "datapackage.json").is_file()
    assert load_package(folder).sha256 == load_package(good_zip).sha256


def test_read_bytes_returns_a_resource_checked_against_its_hash(good_zip, members):
    assert load_package(good_zip).read_bytes("link") == members["link.csv"]


def test_read_bytes_notices_a_package_changed_after_loading(tmp_path):
    folder = tiny_package(tmp_path / "folder")
    package = load_package(folder)
    (folder / "link.csv").write_bytes(b"link_id\n")
    with pytest.raises(PackageError, match="link.csv"):
        package.read_bytes("link")


# --- hostile zips -------------------------------------------------------------------------


def test_absolute_member_path_is_refused(tmp_path, quarantine, members):
    message = refuse(tmp_path, quarantine, [*members.items(), ("/etc/cron.d/evil", b"x")])
    assert "hostile.zip: member '/etc/cron.d/evil': absolute path" in message


def test_parent_folder_member_path_is_refused(tmp_path, quarantine, members):
    message = refuse(tmp_path, quarantine, [*members.items(), ("data/../../evil.csv", b"x")])
    assert "member 'data/../../evil.csv'" in message
    assert "'..' in path" in message


def test_backslash_member_path_is_refused(tmp_path, quarantine, members):
    message = refuse(tmp_path, quarantine, [*members.items(), ("..\\evil.csv", b"x")])
    assert "member '..\\\\evil.csv': backslash in path" in message


def test_drive_letter_member_path_is_refused(tmp_path, quarantine, members):
    message = refuse(tmp_path, quarantine, [*members.items(), ("C:evil.csv", b"x")])
    assert "member 'C:evil.csv': drive letter" in message


def test_symlink_member_is_refused(tmp_path, quarantine, members):
    link = zipfile.ZipInfo("link.csv")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    others = [(name, data) for name, data in members.items() if name != "link.csv"]
    message = refuse(tmp_path, quarantine, [*others, (link, b"/etc/passwd")])
    assert "member 'link.csv': symbolic link" in message


def test_duplicate_member_names_are_refused(tmp_path, quarantine, members):
    with pytest.warns(UserWarning, match="Duplicate name"):
        message = refuse(tmp_path, quarantine, [*members.items(), ("node.csv", b"node_id\n")])
    assert "member 'node.csv': duplicate name" in message


def test_names_differing_only_in_case_are_refused(tmp_path, quarantine, members):
    message = refuse(tmp_path, quarantine, [*members.items(), ("NODE.csv", b"node_id\n")])
    assert "member 'NODE.csv': duplicate name" in message


def test_names_differing_only_in_unicode_normalisation_are_refused(tmp_path, quarantine, members):
    composed, decomposed = "caf\u00e9.csv", "cafe\u0301.csv"
    message = refuse(tmp_path, quarantine, [*members.items(), (composed, b""), (decomposed, b"")])
    assert f"member {decomposed!r}: duplicate name" in message


def test_too_many_members_are_refused(tmp_path, quarantine, members):
    flood = [(f"junk/{i}.txt", b"") for i in range(1001)]
    message = refuse(tmp_path, quarantine, [*members.items(), *flood])
    assert "hostile.zip: 1005 members, more than the limit of 1000" in message


def test_too_large_unpacked_size_is_refused(tmp_path, quarantine, members):
    zeros = bytes(16 * 2**20)  # a small zip bomb: 16 MiB of zeros
    message = refuse(
        tmp_path, quarantine, [*members.items(), ("zeros.bin", zeros)],
        max_total_bytes=8 * 2**20, max_ratio=1e9,
    )  # fmt: skip
    assert "hostile.zip: unpacked size" in message
    assert "exceeds the limit of 8388608" in message


def test_zip_bomb_is_refused_by_its_compression_ratio(tmp_path, quarantine, members):
    zeros = bytes(64 * 2**20)  # deflates about 1000:1
    message = refuse(tmp_path, quarantine, [*members.items(), ("zeros.bin", zeros)])
    assert "member 'zeros.bin': compression ratio above 100 (possible zip bomb)" in message


def _understate_size(path, member: str, claimed: int) -> None:
    """Rewrite the uncompressed size of ``member`` in both zip headers (a lying zip)."""
    data = bytearray(path.read_bytes())
    name = member.encode()
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_offset = start + (30 if signature == b"PK\x03\x04" else 46)
            if data[name_offset : name_offset + len(name)] == name:
                struct.pack_into("<I", data, start + size_offset, claimed)
            start += 4
    path.write_bytes(bytes(data))


def test_sizes_are_checked_while_reading_not_only_from_headers(tmp_path, quarantine, members):
    descriptor = json.loads(members["datapackage.json"])
    payload = bytes(3 * 2**20)
    descriptor["resources"].append(
        {"name": "blob", "path": "blob.bin", "format": "bin",
         "hash": "sha256:" + hashlib.sha256(payload).hexdigest()}
    )  # fmt: skip
    path = write_zip(
        tmp_path / "hostile.zip",
        [*(members | {"datapackage.json": json.dumps(descriptor).encode()}).items(),
         ("blob.bin", payload)],
    )  # fmt: skip
    _understate_size(path, "blob.bin", 1000)
    with pytest.raises(PackageError, match="member 'blob.bin'"):
        load_package(path)
    assert list(quarantine.iterdir()) == []


def test_a_file_that_is_not_a_zip_is_refused(tmp_path):
    path = tmp_path / "package.zip"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(PackageError, match="package.zip: not a readable zip file"):
        load_package(path)


def test_a_symlinked_folder_package_member_is_refused(tmp_path):
    folder = tiny_package(tmp_path / "folder")
    (folder / "extra.csv").symlink_to("/etc/passwd")
    with pytest.raises(PackageError, match="'extra.csv': symbolic link"):
        load_package(folder)


# --- descriptor and content ---------------------------------------------------------------


def load_members(tmp_path, members) -> str:
    with pytest.raises(PackageError) as caught:
        load_package(write_zip(tmp_path / "bad.zip", members.items()))
    return str(caught.value)


def test_missing_descriptor_is_refused(tmp_path, members):
    del members["datapackage.json"]
    assert load_members(tmp_path, members) == "bad.zip: datapackage.json is missing"


def test_hash_mismatch_is_refused(tmp_path, members):
    members["link.csv"] += b"99,1,2,true,,,,1000,,,1,,,,,\n"
    message = load_members(tmp_path, members)
    assert message.startswith("datapackage.json: resources[1].hash: link.csv has sha256 ")


def test_missing_resource_is_refused(tmp_path, members):
    del members["demand.csv"]
    message = load_members(tmp_path, members)
    assert message == "datapackage.json: resources[2].path: 'demand.csv' is not in the package"


def test_a_file_that_is_not_a_resource_is_refused(tmp_path, members):
    members["notes.txt"] = b"hello"
    assert "'notes.txt' is not a resource of datapackage.json" in load_members(tmp_path, members)


def test_unknown_field_in_scenario_is_refused(tmp_path, members):
    def add_field(descriptor):
        descriptor["scenario"]["assignment"]["relative_gapp"] = 1e-3

    message = load_members(tmp_path, with_descriptor(members, add_field))
    assert message == (
        "datapackage.json: scenario.assignment: Additional properties are not allowed "
        "('relative_gapp' was unexpected)"
    )


def test_mistyped_field_is_refused(tmp_path, members):
    def mistype(descriptor):
        descriptor["scenario"]["assignment"]["relative_gap"] = "abc"

    message = load_members(tmp_path, with_descriptor(members, mistype))
    assert message == (
        "datapackage.json: scenario.assignment.relative_gap: 'abc' is not of type 'number'"
    )


def test_unknown_top_level_field_is_refused(tmp_path, members):
    message = load_members(tmp_path, with_descriptor(members, lambda d: d.update(colour="red")))
    assert message.startswith("datapackage.json: unknown top-level field 'colour'")


def test_frictionless_top_level_fields_are_accepted(tmp_path, members):
    def add(descriptor):
        descriptor.update(keywords=["traffic"], homepage="https://example.org", id="x-1")

    load_package(write_zip(tmp_path / "ok.zip", with_descriptor(members, add).items()))


def test_bad_semver_is_refused(tmp_path, members):
    message = load_members(tmp_path, with_descriptor(members, lambda d: d.update(version="1.0")))
    assert message == (
        "datapackage.json: version: '1.0' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.0.0)"
    )


def test_bad_package_name_is_refused(tmp_path, members):
    message = load_members(tmp_path, with_descriptor(members, lambda d: d.update(name="My Pkg")))
    assert message.startswith("datapackage.json: name: 'My Pkg' must be lower-case letters")


def test_missing_licence_is_refused(tmp_path, members):
    message = load_members(tmp_path, with_descriptor(members, lambda d: d.pop("licenses")))
    assert message == "datapackage.json: (top level): 'licenses' is a required property"


def test_resource_hash_must_be_sha256(tmp_path, members):
    def md5(descriptor):
        descriptor["resources"][0]["hash"] = "d41d8cd98f00b204e9800998ecf8427e"

    message = load_members(tmp_path, with_descriptor(members, md5))
    assert message.startswith("datapackage.json: resources[0].hash: 'd41d8cd98f00b204")
    assert "is not 'sha256:' followed by 64 lower-case hex digits" in message


def test_resource_path_outside_the_package_is_refused(tmp_path, members):
    def escape(descriptor):
        descriptor["resources"][0]["path"] = "../node.csv"

    message = load_members(tmp_path, with_descriptor(members, escape))
    assert (
        message
        == "datapackage.json: resources[0].path: '../node.csv': '..' in path (escapes the package)"
    )


def test_scenario_reference_to_a_missing_resource_is_refused(tmp_path, members):
    def rename(descriptor):
        descriptor["scenario"]["demand"]["resource"] = "trips"

    message = load_members(tmp_path, with_descriptor(members, rename))
    assert message == "datapackage.json: scenario.demand.resource: no resource named 'trips'"


def test_unknown_intervention_link_id_is_refused(tmp_path, members):
    def close_missing_link(descriptor):
        descriptor["scenario"]["interventions"] = [{"type": "close_links", "link_ids": [10, 999]}]

    message = load_members(tmp_path, with_descriptor(members, close_missing_link))
    assert message == (
        "datapackage.json: scenario.interventions[0] (close_links): "
        "link id 999 is not in the network"
    )


def test_intervention_with_unknown_parameter_is_refused(tmp_path, members):
    def typo(descriptor):
        descriptor["scenario"]["interventions"] = [
            {"type": "scale_capacity", "link_ids": [10], "factor": 0.5, "facter": 2}
        ]

    message = load_members(tmp_path, with_descriptor(members, typo))
    assert message == (
        "datapackage.json: scenario.interventions[0]: Additional properties are not allowed "
        "('facter' was unexpected)"
    )


def test_intervention_needs_exactly_one_link_selector(tmp_path, members):
    def both(descriptor):
        descriptor["scenario"]["interventions"] = [
            {"type": "close_links", "link_ids": [10], "node_pairs": [[1, 3]]}
        ]

    message = load_members(tmp_path, with_descriptor(members, both))
    assert message == (
        "datapackage.json: scenario.interventions[0]: give exactly one of link_ids, node_pairs, "
        "street_names or osm_way_ids"
    )


def test_negative_capacity_factor_is_refused(tmp_path, members):
    def negative(descriptor):
        descriptor["scenario"]["interventions"] = [
            {"type": "scale_capacity", "link_ids": [10], "factor": -1}
        ]

    message = load_members(tmp_path, with_descriptor(members, negative))
    assert message == (
        "datapackage.json: scenario.interventions[0].factor: -1 is less than the minimum of 0"
    )


def test_duplicate_json_keys_are_refused(tmp_path, members):
    text = members["datapackage.json"].decode()
    members["datapackage.json"] = text.replace(
        '"name": "tiny"', '"name": "tiny", "name": "x"', 1
    ).encode()
    assert "key 'name' appears twice" in load_members(tmp_path, members)


def test_malformed_csv_content_names_the_file_and_line(tmp_path, members):
    members["link.csv"] = members["link.csv"].replace(b"\n10,1,3,", b"\nten,1,3,", 1)

    def rehash(descriptor):
        descriptor["resources"][1]["hash"] = (
            "sha256:" + hashlib.sha256(members["link.csv"]).hexdigest()
        )
        descriptor["resources"][1]["bytes"] = len(members["link.csv"])

    message = load_members(tmp_path, with_descriptor(members, rehash))
    assert message == "link.csv: line 2: column link_id: 'ten' is not an integer"


# --- writing ------------------------------------------------------------------------------


def test_write_package_refuses_an_invalid_package_and_leaves_nothing(tmp_path, members):
    descriptor = json.loads(members["datapackage.json"])
    descriptor["scenario"]["interventions"] = [{"type": "close_links", "link_ids": [999]}]
    files = {name: data for name, data in members.items() if name != "datapackage.json"}
    output = tmp_path / "out"
    output.mkdir()
    with pytest.raises(PackageError, match="link id 999"):
        write_package(output / "p.zip", descriptor=descriptor, files=files)
    assert list(output.iterdir()) == []


def test_write_package_refuses_files_that_are_not_resources(tmp_path, members):
    descriptor = json.loads(members["datapackage.json"])
    files = {name: data for name, data in members.items() if name != "datapackage.json"}
    with pytest.raises(PackageError, match="file 'extra.txt' is not listed in resources"):
        write_package(tmp_path / "p.zip", descriptor=descriptor, files=files | {"extra.txt": b""})


def test_build_package_refuses_unknown_meta(tmp_path):
    with pytest.raises(PackageError, match="unknown meta field 'colour'"):
        tiny_package(tmp_path / "p.zip", colour="red")


# --- TNTP packages ------------------------------------------------------------------------


def test_pack_tntp_keeps_the_tntp_files_byte_for_byte(tmp_path):
    folder = tntp_folder("SiouxFalls")
    pack_tntp(folder, tmp_path / "sf.zip", close=[(10, 16)])
    package = load_package(tmp_path / "sf.zip")
    assert package.read_bytes("net") == (folder / "SiouxFalls_net.tntp").read_bytes()
    assert package.read_bytes("trips") == (folder / "SiouxFalls_trips.tntp").read_bytes()
    assert package.scenario["network"] == {
        "format": "tntp",
        "resources": {"net": "net", "nodes": "nodes"},
    }
    assert package.scenario["interventions"] == [
        {"type": "close_links", "node_pairs": [[10, 16]], "label": "Close 10-16"}
    ]
    assert package.descriptor["licenses"][0]["title"] == (
        "Transportation Networks for Research, academic research use only"
    )


def test_pack_tntp_takes_cost_weights_and_length_unit_from_the_readme(tmp_path):
    pack_tntp(tntp_folder("ChicagoSketch"), tmp_path / "chicago.zip")
    package = load_package(tmp_path / "chicago.zip", check_content=False)
    assert package.cost == {"toll_weight": 0.02, "distance_weight": 0.04, "distance_unit": "mi"}


def test_pack_tntp_refuses_a_closure_of_a_link_that_does_not_exist(tmp_path):
    with pytest.raises(PackageError, match="no link from node 1 to node 24"):
        pack_tntp(tntp_folder("SiouxFalls"), tmp_path / "sf.zip", close=[(1, 24)])
    assert not (tmp_path / "sf.zip").exists()


# --- the published schemas ----------------------------------------------------------------


def test_the_published_schemas_are_valid_draft_2020_12():
    from jsonschema import Draft202012Validator

    from twins.engine.package import SCHEMA_DIR

    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_the_documented_example_descriptor_is_valid():
    from twins.engine.package import validate_descriptor

    docs = Path(__file__).resolve().parents[2] / "docs" / "package-format.md"
    example = docs.read_text().split("```json\n", 1)[1].split("```", 1)[0]
    validate_descriptor(json.loads(example))


def test_a_huge_offending_value_is_cut_short_in_the_message(tmp_path, members):
    def too_many(descriptor):
        descriptor["scenario"]["interventions"] = [
            {"type": "close_links", "link_ids": list(range(100_001))}
        ]

    message = load_members(tmp_path, with_descriptor(members, too_many))
    assert message.startswith("datapackage.json: scenario.interventions[0].link_ids: [0, 1, 2")
    assert message.endswith("… (100001 items) is too long")


# --- map features and portable interventions --------------------------------------------------


def street_plan_package(output: Path, interventions, features=FEATURES) -> Path:
    network = street_plan()
    network.zone_ids = np.array([1, 3])
    demand = Demand(zone_ids=np.array([1, 3]), matrix=np.array([[0.0, 10.0], [10.0, 0.0]]))
    meta = {"name": "plan", "title": "Street plan", "licenses": [{"name": "CC0-1.0"}]}
    build_package(
        output,
        network=network,
        demand=demand,
        interventions=list(interventions),
        meta=meta,
        features=features,
    )
    return output


def test_a_package_keeps_its_map_features_and_resolves_near_rules_against_them(tmp_path):
    package = load_package(street_plan_package(tmp_path / "plan.zip", [SCHOOL_STREETS]))
    assert package.scenario["features"] == {"format": "geojson", "resource": "features"}
    assert package.resource("features")["path"] == "features.geojson"
    assert json.loads(package.read_bytes("features")) == FEATURES
    # The runner's call: the package's own features are found through its network.
    scenario = package.scenario_network()[0]
    assert scenario.link_ids[scenario.closed].tolist() == [1, 2]


def test_a_package_without_features_cannot_hold_a_near_rule(tmp_path):
    with pytest.raises(PackageError) as caught:
        street_plan_package(tmp_path / "plan.zip", [SCHOOL_STREETS], features=None)
    assert str(caught.value).startswith(
        "datapackage.json: scenario.interventions[0] (restrict_area): 'near' needs the package's "
        "map features, the resource features.geojson"
    )
    assert not (tmp_path / "plan.zip").exists()


def test_a_package_with_a_polygon_rule_needs_no_features(tmp_path):
    area = {"type": "Polygon", "coordinates": [[[-0.0005, 0.0012], [0.0025, 0.0012],
            [0.0025, 0.003], [-0.0005, 0.003], [-0.0005, 0.0012]]]}  # fmt: skip
    rule = {"type": "restrict_area", "polygon": area, "road_classes": ["living_street"],
            "action": {"scale_capacity": 0.3}}  # fmt: skip
    package = load_package(street_plan_package(tmp_path / "plan.zip", [rule], features=None))
    scenario = package.scenario_network()[0]
    assert scenario.capacity.tolist() == [600.0, 600.0, 600.0, 600.0, 180.0, 600.0]


def test_malformed_features_are_refused_naming_the_file(tmp_path):
    bad = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {},
           "geometry": {"type": "Circle", "coordinates": [0, 0]}}]}  # fmt: skip
    with pytest.raises(PackageError) as caught:
        street_plan_package(tmp_path / "plan.zip", [], features=bad)
    assert str(caught.value) == (
        "features.geojson: features[0].geometry: type must be one of Point, MultiPoint, "
        "LineString, MultiLineString, Polygon, MultiPolygon"
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"polygon": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}},
         "scenario.interventions[0]: give exactly one of near (with radius_m) or polygon"),
        ({"action": "open"},
         """scenario.interventions[0].action: 'open' must be "close" or {"scale_capacity\""""),
        ({"near": {}}, "scenario.interventions[0].near: {} should be non-empty"),
        ({"road_classes": []}, "scenario.interventions[0].road_classes: [] should be non-empty"),
        ({"link_ids": [1]}, "scenario.interventions[0]: Additional properties are not allowed"),
    ],
)  # fmt: skip
def test_the_schema_checks_restrict_area(tmp_path, members, change, message):
    def edit(descriptor):
        descriptor["scenario"]["interventions"] = [SCHOOL_STREETS | change]

    assert message in load_members(tmp_path, with_descriptor(members, edit))


def test_the_schema_refuses_a_near_rule_without_radius(tmp_path, members):
    rule = {k: v for k, v in SCHOOL_STREETS.items() if k != "radius_m"}

    def edit(descriptor):
        descriptor["scenario"]["interventions"] = [rule]

    assert load_members(tmp_path, with_descriptor(members, edit)) == (
        "datapackage.json: scenario.interventions[0]: give exactly one of near (with radius_m) "
        "or polygon"
    )


def test_street_names_and_osm_way_ids_are_valid_selectors_in_the_schema(tmp_path):
    rules = [
        {"type": "close_links", "street_names": ["calle nunez"]},
        {"type": "set_speed", "osm_way_ids": [300], "speed_kmh": 20},
    ]
    with pytest.raises(PackageError, match="link id 4 has no known length"):
        # The schema accepts both; the second fails only because the plan has no lengths.
        street_plan_package(tmp_path / "plan.zip", rules)
    package = load_package(street_plan_package(tmp_path / "plan2.zip", rules[:1]))
    scenario = package.scenario_network()[0]
    assert scenario.link_ids[scenario.closed].tolist() == [1, 2]
