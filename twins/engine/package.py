"""Scenario packages: load (never trusting the input), validate, write and build.

A package is a zip or a folder holding ``datapackage.json`` (a Frictionless Data
Package descriptor with a ``scenario`` section, docs/package-format.md) and the
files its resources name. Loading reads members straight from the zip into
memory, checking names, counts, sizes and compression ratios as it reads;
nothing is ever extracted to disk.

The package's content address is the sha256 of the canonical JSON of its
descriptor; since every resource carries its own sha256 there, the address
covers all content, and a package may hold no file that is not a resource.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath

import jsonschema

from . import gmns, tntp
from .interventions import (
    InterventionError,
    MapFeature,
    apply_interventions_report,
    parse_features,
)
from .network import Demand, Network, NetworkError

# The default stopping rule resolves per-link differences between baseline and scenario:
# measured on Granada's school streets, 1e-4 left links off by up to 42 veh/h and 1e-6 by
# 3.5 veh/h, at 0.22 s a run (docs/results.md).
DEFAULT_RELATIVE_GAP = 1e-6
DESCRIPTOR = "datapackage.json"
SCHEMA_DIR = Path(__file__).resolve().parent / "schema"
FRICTIONLESS_FIELDS = (
    "name", "title", "version", "description", "licenses", "contributors", "sources",
    "resources", "keywords", "homepage", "created", "image", "id", "profile",
)  # fmt: skip
TOP_LEVEL_FIELDS = frozenset(FRICTIONLESS_FIELDS) | {"scenario"}
# The resource format each scenario reference must point at.
RESOURCE_FORMATS = {
    ("tntp", "net"): "tntp",
    ("tntp", "nodes"): "tntp",
    ("gmns", "node"): "csv",
    ("gmns", "link"): "csv",
    ("tntp", "demand"): "tntp",
    ("od-csv", "demand"): "csv",
    ("geojson", "features"): "geojson",
}
FEATURES_PATH = "features.geojson"
_CHUNK = 1 << 16


class PackageError(ValueError):
    """The package is unsafe or invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Limits:
    """Caps that protect the loader from hostile zips (bombs, floods of members)."""

    max_total_bytes: int = 512 * 2**20  # unpacked size of all members together
    max_members: int = 1000
    max_ratio: float = 100.0  # uncompressed / compressed, per member
    # Small members may legitimately compress very well (a file of spaces); the
    # ratio only matters once a member is big enough to hurt.
    ratio_floor_bytes: int = 2**20
    max_descriptor_bytes: int = 16 * 2**20


DEFAULT_LIMITS = Limits()


# --- member names -------------------------------------------------------------------------

_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_member_name(name: str, where: str) -> None:
    """Reject any path that could escape the package or mean different files on other systems."""
    problem = _member_name_problem(name)
    if problem:
        raise PackageError(f"{where}: member {name!r}: {problem}")


def _member_name_problem(name: str) -> str | None:
    if not name or len(name) > 1024:
        return "empty or too long path"
    if "\\" in name:
        return "backslash in path (only '/' separates folders)"
    if name.startswith("/"):
        return "absolute path"
    if _DRIVE.match(name):
        return "drive letter in path"
    if _CONTROL.search(name):
        return "control character in path"
    parts = name.rstrip("/").split("/")
    if ".." in parts:
        return "'..' in path (escapes the package)"
    if any(part in ("", ".") for part in parts):
        return "path is not normalised ('.' or empty folder name)"
    return None


# --- sources: a zip or a folder, read with caps -------------------------------------------


class _ZipSource:
    """Members of a zip, checked up front and again while reading."""

    def __init__(self, path: Path, limits: Limits) -> None:
        self.label, self.limits = path.name, limits
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageError(f"{self.label}: not a readable zip file ({exc})") from None
        try:
            self.members = self._check_members(self.zip.infolist())
        except BaseException:
            self.zip.close()
            raise

    def close(self) -> None:
        self.zip.close()

    def _check_members(self, infos: list[zipfile.ZipInfo]) -> dict[str, zipfile.ZipInfo]:
        if len(infos) > self.limits.max_members:
            raise PackageError(
                f"{self.label}: {len(infos)} members, more than the limit of "
                f"{self.limits.max_members}"
            )
        members: dict[str, zipfile.ZipInfo] = {}
        seen: set[str] = set()
        for info in infos:
            self._check_member(info)
            # Case-insensitive or normalising file systems would merge these when other
            # tools extract the package.
            folded = unicodedata.normalize("NFC", info.filename).casefold()
            if folded in seen:
                raise PackageError(f"{self.label}: member {info.filename!r}: duplicate name")
            seen.add(folded)
            if not info.is_dir():
                members[info.filename] = info
        total = sum(info.file_size for info in members.values())
        if total > self.limits.max_total_bytes:
            raise PackageError(
                f"{self.label}: unpacked size {total} bytes exceeds the limit of "
                f"{self.limits.max_total_bytes}"
            )
        return members

    def _check_member(self, info: zipfile.ZipInfo) -> None:
        check_member_name(info.filename, self.label)
        mode = info.external_attr >> 16
        kind = stat.S_IFMT(mode)
        if kind == stat.S_IFLNK:
            raise PackageError(f"{self.label}: member {info.filename!r}: symbolic link")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise PackageError(f"{self.label}: member {info.filename!r}: not a regular file")
        if info.flag_bits & 0x1:
            raise PackageError(f"{self.label}: member {info.filename!r}: encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise PackageError(
                f"{self.label}: member {info.filename!r}: unsupported compression "
                f"method {info.compress_type} (use stored or deflate)"
            )
        self._check_ratio(info.filename, info.file_size, info.compress_size)

    def _check_ratio(self, name: str, size: int, compressed: int) -> None:
        big_enough = size > self.limits.ratio_floor_bytes
        if big_enough and size / max(compressed, 1) > self.limits.max_ratio:
            raise PackageError(
                f"{self.label}: member {name!r}: compression ratio above "
                f"{self.limits.max_ratio:g} (possible zip bomb)"
            )

    def names(self) -> set[str]:
        return set(self.members)

    def chunks(self, name: str) -> Iterator[bytes]:
        """The member's bytes in chunks, stopping as soon as a cap is crossed."""
        info = self.members[name]
        read = 0
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    read += len(chunk)
                    # Headers may lie: count what actually comes out.
                    if read > info.file_size:
                        raise PackageError(
                            f"{self.label}: member {name!r}: larger than its header says"
                        )
                    self._check_ratio(name, read, info.compress_size)
                    yield chunk
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            if isinstance(exc, PackageError):
                raise
            raise PackageError(f"{self.label}: member {name!r}: corrupt ({exc})") from None


class _FolderSource:
    """Files under a folder; symbolic links and special files are refused."""

    def __init__(self, root: Path, limits: Limits) -> None:
        self.root, self.label, self.limits = root, root.name, limits
        self.members = self._scan()

    def close(self) -> None:
        pass

    def _scan(self) -> dict[str, int]:
        members: dict[str, int] = {}
        for dirpath, dirnames, filenames in os.walk(self.root, followlinks=False):
            for entry in dirnames + filenames:
                full = Path(dirpath, entry)
                name = full.relative_to(self.root).as_posix()
                check_member_name(name, self.label)
                self._check_entry(full, name, is_dir=entry in dirnames)
                if entry in filenames:
                    members[name] = full.lstat().st_size
            if len(members) > self.limits.max_members:
                raise PackageError(
                    f"{self.label}: more than the limit of {self.limits.max_members} files"
                )
        if sum(members.values()) > self.limits.max_total_bytes:
            raise PackageError(
                f"{self.label}: total size exceeds the limit of {self.limits.max_total_bytes}"
            )
        return members

    def _check_entry(self, full: Path, name: str, *, is_dir: bool) -> None:
        mode = full.lstat().st_mode
        if stat.S_ISLNK(mode):
            raise PackageError(f"{self.label}: {name!r}: symbolic link")
        if not (stat.S_ISDIR(mode) if is_dir else stat.S_ISREG(mode)):
            raise PackageError(f"{self.label}: {name!r}: not a regular file")

    def names(self) -> set[str]:
        return set(self.members)

    def chunks(self, name: str) -> Iterator[bytes]:
        """The file's bytes in chunks; O_NOFOLLOW so a swapped-in symlink is not followed."""
        read, limit = 0, self.members[name]
        try:
            fd = os.open(self.root / name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise PackageError(f"{self.label}: {name!r}: cannot be read ({exc.strerror})") from None
        with os.fdopen(fd, "rb") as stream:
            while chunk := stream.read(_CHUNK):
                read += len(chunk)
                if read > limit:
                    raise PackageError(f"{self.label}: {name!r}: grew while being read")
                yield chunk


def _open_source(path: Path, limits: Limits) -> _ZipSource | _FolderSource:
    if path.is_dir():
        return _FolderSource(path, limits)
    if path.is_file():
        return _ZipSource(path, limits)
    raise PackageError(f"{path}: no such package file or folder")


def _read_all(source, name: str, max_bytes: int | None = None) -> bytes:
    parts, size = [], 0
    for chunk in source.chunks(name):
        size += len(chunk)
        if max_bytes is not None and size > max_bytes:
            raise PackageError(f"{source.label}: {name}: larger than {max_bytes} bytes")
        parts.append(chunk)
    return b"".join(parts)


def _sha256(source, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in source.chunks(name):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


# --- descriptor validation ----------------------------------------------------------------


@cache
def _validator(schema_file: str, definition: str | None = None) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMA_DIR / schema_file).read_text(encoding="utf-8"))
    if definition is not None:
        # Validate against one $defs entry, keeping the other definitions it refers to.
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema)


def scenario_schema() -> dict:
    """The JSON Schema of the ``scenario`` section (format version 1), as published."""
    return copy.deepcopy(_validator("scenario-v1.schema.json").schema)


def _json_path(prefix: str, path) -> str:
    text = prefix
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def schema_error(
    instance, schema_file: str, prefix: str, *, definition: str | None = None
) -> str | None:
    """The most relevant schema violation as 'path: message', or None when valid.

    ``definition`` validates against one ``$defs`` entry of the schema instead
    (e.g. "assignment" for run overrides).
    """
    errors = _validator(schema_file, definition).iter_errors(instance)
    error = jsonschema.exceptions.best_match(errors)
    if error is None:
        return None
    where = _json_path(prefix, error.absolute_path) or "(top level)"
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if custom is None:
        message = _short_value(error.instance, error.message)
    elif isinstance(error.instance, dict | list):
        message = custom
    else:
        message = f"{error.instance!r} {custom}"
    # jsonschema quotes the offending value; a list of 100,000 ids must not become the message.
    return f"{where}: {_shorten(message)}"


def _short_value(instance, message: str) -> str:
    """The message with a long quoted value cut down (jsonschema messages start with it)."""
    quoted = repr(instance)
    if len(quoted) <= 80 or not message.startswith(quoted):
        return message
    size = f" ({len(instance)} items)" if isinstance(instance, list | dict) else ""
    return f"{quoted[:60]}…{size}{message[len(quoted) :]}"


def _shorten(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse_descriptor(data: bytes, label: str) -> dict:
    def no_duplicates(pairs):
        keys = [key for key, _ in pairs]
        for key in keys:
            if keys.count(key) > 1:
                raise PackageError(f"{label}: {DESCRIPTOR}: key {key!r} appears twice")
        return dict(pairs)

    def no_constants(token):
        raise PackageError(f"{label}: {DESCRIPTOR}: {token} is not valid JSON")

    try:
        descriptor = json.loads(
            data.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants
        )
    except UnicodeDecodeError:
        raise PackageError(f"{DESCRIPTOR}: not UTF-8 text") from None
    except RecursionError:
        raise PackageError(f"{DESCRIPTOR}: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise PackageError(f"{DESCRIPTOR}: invalid JSON ({exc})") from None
    if not isinstance(descriptor, dict):
        raise PackageError(f"{DESCRIPTOR}: must be a JSON object")
    return descriptor


def validate_descriptor(descriptor: dict) -> None:
    """Check the descriptor and its scenario section; PackageError naming the field."""
    unknown = sorted(set(descriptor) - TOP_LEVEL_FIELDS)
    if unknown:
        raise PackageError(
            f"{DESCRIPTOR}: unknown top-level field {unknown[0]!r} (allowed: the Frictionless "
            "Data Package fields and 'scenario')"
        )
    for schema_file, instance, prefix in (
        ("datapackage-v1.schema.json", descriptor, ""),
        ("scenario-v1.schema.json", descriptor.get("scenario"), "scenario"),
    ):
        problem = schema_error(instance, schema_file, prefix)
        if problem:
            raise PackageError(f"{DESCRIPTOR}: {problem}")
    _check_resources(descriptor["resources"])
    _check_references(descriptor)


def _check_resources(resources: list[dict]) -> None:
    names, paths = set(), set()
    for i, resource in enumerate(resources):
        where = f"{DESCRIPTOR}: resources[{i}]"
        problem = _member_name_problem(resource["path"])
        if problem or resource["path"] == DESCRIPTOR or resource["path"].endswith("/"):
            reason = problem or "not a data file of the package"
            raise PackageError(f"{where}.path: {resource['path']!r}: {reason}")
        if resource["name"] in names:
            raise PackageError(f"{where}.name: duplicate resource name {resource['name']!r}")
        if resource["path"].casefold() in paths:
            raise PackageError(f"{where}.path: duplicate path {resource['path']!r}")
        names.add(resource["name"])
        paths.add(resource["path"].casefold())


def scenario_references(scenario: dict) -> dict[str, tuple[str, str]]:
    """Resource names the scenario uses: {json path: (resource name, expected format)}."""
    network, demand = scenario["network"], scenario["demand"]
    refs = {}
    for role, name in network["resources"].items():
        refs[f"scenario.network.resources.{role}"] = (
            name,
            RESOURCE_FORMATS[network["format"], role],
        )
    refs["scenario.demand.resource"] = (
        demand["resource"],
        RESOURCE_FORMATS[demand["format"], "demand"],
    )
    if "features" in scenario:
        features = scenario["features"]
        refs["scenario.features.resource"] = (
            features["resource"],
            RESOURCE_FORMATS[features["format"], "features"],
        )
    return refs


def _check_references(descriptor: dict) -> None:
    formats = {r["name"]: r["format"] for r in descriptor["resources"]}
    for where, (name, expected) in scenario_references(descriptor["scenario"]).items():
        if name not in formats:
            raise PackageError(f"{DESCRIPTOR}: {where}: no resource named {name!r}")
        if formats[name] != expected:
            raise PackageError(
                f"{DESCRIPTOR}: {where}: resource {name!r} has format {formats[name]!r}, "
                f"expected {expected!r}"
            )


def package_sha256(descriptor: dict) -> str:
    """The package's content address: sha256 of the descriptor's canonical JSON.

    Canonical = keys sorted, no whitespace, UTF-8, non-ASCII kept, numbers as
    Python's json writes them. Resource hashes are inside, so it covers all content.
    """
    canonical = json.dumps(descriptor, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# --- loading ------------------------------------------------------------------------------


class LoadedPackage:
    """A validated package: its descriptor, scenario and content, read on demand."""

    def __init__(self, path: Path, descriptor: dict, limits: Limits) -> None:
        self.path = path
        self.descriptor = descriptor
        self.scenario: dict = descriptor["scenario"]
        self.sha256 = package_sha256(descriptor)
        self._limits = limits
        self._resources = {r["name"]: r for r in descriptor["resources"]}
        self._network: Network | None = None
        self._demand: Demand | None = None
        self._features: list[MapFeature] | None = None

    @property
    def name(self) -> str:
        return self.descriptor["name"]

    @property
    def version(self) -> str:
        return self.descriptor["version"]

    @property
    def interventions(self) -> list[dict]:
        return list(self.scenario.get("interventions", []))

    @property
    def cost(self) -> dict:
        """Cost weights with defaults filled in (toll_weight, distance_weight, distance_unit)."""
        cost = {"toll_weight": 0.0, "distance_weight": 0.0, "distance_unit": None}
        return cost | self.scenario.get("cost", {})

    @property
    def assignment(self) -> dict:
        """The stopping rule with defaults filled in (algorithm, relative_gap, max_iterations)."""
        rule = {"algorithm": "bfw", "relative_gap": DEFAULT_RELATIVE_GAP, "max_iterations": 1000}
        return rule | self.scenario.get("assignment", {})

    def resource(self, name: str) -> dict:
        """The descriptor entry of a resource; PackageError if there is none."""
        if name not in self._resources:
            raise PackageError(f"{self.path.name}: no resource named {name!r}")
        return self._resources[name]

    def read_bytes(self, resource_name: str) -> bytes:
        """A resource's bytes, re-read and re-checked against its sha256."""
        resource = self.resource(resource_name)
        with _opened(self.path, self._limits) as source:
            data = _read_all(source, resource["path"])
        if "sha256:" + hashlib.sha256(data).hexdigest() != resource["hash"]:
            raise PackageError(f"{self.path.name}: {resource['path']}: changed since it was loaded")
        return data

    def network(self) -> Network:
        """The package's network (parsed once; treat it as read-only)."""
        if self._network is None:
            self._network = self._read_network()
        return self._network

    def scenario_network(self, network: Network | None = None):
        """The interventions applied to ``network`` (default: the package's own) with the
        package's map features; returns (network, what each intervention resolved to)."""
        network = self.network() if network is None else network
        return apply_interventions_report(network, self.interventions, features=self.features())

    @property
    def has_features(self) -> bool:
        """Does the package hold map features (scenario.features)?"""
        return "features" in self.scenario

    def features(self) -> list[MapFeature] | None:
        """The package's map features (scenario.features), None when it has none."""
        if not self.has_features:
            return None
        if self._features is None:
            resource = self.resource(self.scenario["features"]["resource"])
            where = resource["path"]
            try:
                collection = _parse_json(self.read_bytes(resource["name"]), where)
                self._features = parse_features(collection, f"{where}: features")
            except ValueError as exc:
                raise PackageError(str(exc)) from None
        return self._features

    def demand(self, network: Network) -> Demand:
        """The package's demand over ``network``'s zones."""
        if self._demand is not None and network is self._network:
            return self._demand
        demand = self._read_demand(network)
        if network is self._network:
            self._demand = demand
        return demand

    def _read_network(self) -> Network:
        spec = self.scenario["network"]
        if spec["format"] == "gmns":
            node, link = (self.resource(spec["resources"][k]) for k in ("node", "link"))
            with _content_errors(link["path"]):
                return gmns.read_network(
                    self.read_bytes(node["name"]),
                    self.read_bytes(link["name"]),
                    distance_unit=self.cost["distance_unit"] or "km",
                    block_centroid_flows=spec.get("block_centroid_flows", True),
                    node_name=node["path"],
                    link_name=link["path"],
                )
        return self._read_tntp_network(spec["resources"])

    def _read_tntp_network(self, roles: dict) -> Network:
        net = self.resource(roles["net"])
        with self._as_files(roles) as paths, _content_errors(net["path"]):
            network, _meta = tntp.read_network(
                paths["net"], paths.get("nodes"), length_unit=self.cost["distance_unit"]
            )
        return network

    def _read_demand(self, network: Network) -> Demand:
        spec = self.scenario["demand"]
        resource = self.resource(spec["resource"])
        with _content_errors(resource["path"]):
            if spec["format"] == "od-csv":
                demand = gmns.read_od_csv(
                    self.read_bytes(resource["name"]), network, name=resource["path"]
                )
            else:
                with self._as_files({"demand": resource["name"]}) as paths:
                    demand = tntp.read_demand(paths["demand"], network)
        demand.synthetic = spec.get("synthetic", False)
        demand.description = spec.get("description", demand.description)
        return demand

    @contextmanager
    def _as_files(self, roles: dict[str, str]) -> Iterator[dict[str, Path]]:
        """Verified resources as files in a private temporary folder.

        The TNTP readers take paths. Each file keeps its base name (checked when
        the package was loaded) so reader errors name it, in a folder per role so
        names cannot collide; the folder is removed on exit.
        """
        with tempfile.TemporaryDirectory(prefix="reci-package-") as folder:
            paths = {}
            for role, name in roles.items():
                base = PurePosixPath(self.resource(name)["path"]).name
                paths[role] = Path(folder, role, base)
                paths[role].parent.mkdir()
                paths[role].write_bytes(self.read_bytes(name))
            yield paths

    def check_content(self) -> None:
        """Parse network and demand and apply the interventions; PackageError on failure."""
        self._check_table_headers()
        network = self.network()
        self.demand(network)
        try:
            self.scenario_network(network)
        except InterventionError as exc:
            raise PackageError(f"{DESCRIPTOR}: scenario.{exc}") from None

    def _check_table_headers(self) -> None:
        # A declared Table Schema that disagrees with the file would mislead other tools.
        for i, resource in enumerate(self.descriptor["resources"]):
            if resource["format"] != "csv" or "schema" not in resource:
                continue
            declared = [field["name"] for field in resource["schema"]["fields"]]
            if gmns.header_of(self.read_bytes(resource["name"])) != declared:
                raise PackageError(
                    f"{DESCRIPTOR}: resources[{i}].schema.fields: do not match the columns "
                    f"of {resource['path']}"
                )


def _parse_json(data: bytes, where: str):
    """Strict JSON (UTF-8, no NaN or Infinity) of a resource; ValueError naming it."""

    def no_constants(token):
        raise ValueError(f"{where}: {token} is not valid JSON")

    try:
        return json.loads(data.decode("utf-8-sig"), parse_constant=no_constants)
    except UnicodeDecodeError:
        raise ValueError(f"{where}: not UTF-8 text") from None
    except RecursionError:
        raise ValueError(f"{where}: nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: invalid JSON ({exc})") from None


@contextmanager
def _content_errors(file_name: str) -> Iterator[None]:
    """Report reader errors as PackageError naming the file (readers usually do already)."""
    try:
        yield
    except NetworkError as exc:
        message = str(exc)
        if file_name not in message:
            message = f"{file_name}: {message}"
        raise PackageError(message) from None


@contextmanager
def _opened(path: Path, limits: Limits) -> Iterator[_ZipSource | _FolderSource]:
    source = _open_source(path, limits)
    try:
        yield source
    finally:
        source.close()


def load_package(
    path: str | Path, *, limits: Limits = DEFAULT_LIMITS, check_content: bool = True
) -> LoadedPackage:
    """Open, check and validate a package (a .zip or a folder) without extracting anything.

    Checks member names and types, counts, sizes and compression ratios, the
    descriptor and its scenario section against the JSON Schemas, that every
    resource exists with its sha256 and that no other file is present. With
    ``check_content`` the network and demand are parsed and the interventions
    applied, so a package that loads will run. Every failure is a PackageError.
    """
    path = Path(path)
    with _opened(path, limits) as source:
        if DESCRIPTOR not in source.names():
            raise PackageError(f"{path.name}: {DESCRIPTOR} is missing")
        descriptor = _parse_descriptor(
            _read_all(source, DESCRIPTOR, limits.max_descriptor_bytes), path.name
        )
        validate_descriptor(descriptor)
        _check_files(source, descriptor["resources"])
    package = LoadedPackage(path, descriptor, limits)
    if check_content:
        package.check_content()
    return package


def _check_files(source, resources: list[dict]) -> None:
    names = source.names()
    for i, resource in enumerate(resources):
        where = f"{DESCRIPTOR}: resources[{i}]"
        if resource["path"] not in names:
            raise PackageError(f"{where}.path: {resource['path']!r} is not in the package")
        digest, size = _sha256(source, resource["path"])
        if f"sha256:{digest}" != resource["hash"]:
            raise PackageError(
                f"{where}.hash: {resource['path']} has sha256 {digest}, not the declared one"
            )
        if "bytes" in resource and resource["bytes"] != size:
            raise PackageError(f"{where}.bytes: {resource['path']} has {size} bytes")
    extra = sorted(names - {DESCRIPTOR} - {r["path"] for r in resources})
    if extra:
        raise PackageError(
            f"{source.label}: {extra[0]!r} is not a resource of {DESCRIPTOR} "
            "(every file must be listed, so the package hash covers it)"
        )


# --- writing ------------------------------------------------------------------------------

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so equal content gives byte-equal zips


def write_package(
    output: str | Path,
    *,
    descriptor: dict,
    files: dict[str, bytes],
    limits: Limits = DEFAULT_LIMITS,
) -> str:
    """Write a package (a zip if ``output`` ends in .zip, else a new folder); return its sha256.

    ``files`` maps each resource path to its bytes; each resource's ``hash`` and
    ``bytes`` are filled in. What is written is loaded back and fully validated
    before it replaces ``output``; on failure nothing is left behind.
    """
    output = Path(output)
    descriptor = _with_hashes(descriptor, files)
    validate_descriptor(descriptor)
    contents = {DESCRIPTOR: _descriptor_bytes(descriptor)} | dict(files)
    writer = _write_zip if output.suffix.lower() == ".zip" else _write_folder
    return writer(output, contents, limits)


def _with_hashes(descriptor: dict, files: dict[str, bytes]) -> dict:
    descriptor = copy.deepcopy(descriptor)
    resources = descriptor.get("resources")
    if not isinstance(resources, list):
        raise PackageError(f"{DESCRIPTOR}: resources: must be a list")
    for i, resource in enumerate(resources):
        path = resource.get("path") if isinstance(resource, dict) else None
        if path not in files:
            raise PackageError(f"{DESCRIPTOR}: resources[{i}].path: no file given for {path!r}")
        resource["hash"] = "sha256:" + hashlib.sha256(files[path]).hexdigest()
        resource["bytes"] = len(files[path])
    unlisted = sorted(set(files) - {r["path"] for r in resources})
    if unlisted:
        raise PackageError(f"{DESCRIPTOR}: file {unlisted[0]!r} is not listed in resources")
    return descriptor


def _descriptor_bytes(descriptor: dict) -> bytes:
    return (json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _write_zip(output: Path, contents: dict[str, bytes], limits: Limits) -> str:
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in [DESCRIPTOR, *sorted(set(contents) - {DESCRIPTOR})]:
                archive.writestr(_zip_info(name), contents[name], compresslevel=9)
        sha256 = load_package(Path(temporary), limits=limits).sha256
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a package is meant to be shared
        os.replace(temporary, output)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return sha256


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so the mode below means what it says
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


def _write_folder(output: Path, contents: dict[str, bytes], limits: Limits) -> str:
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise PackageError(f"{output}: exists and is not an empty folder")
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        for name, data in contents.items():
            check_member_name(name, output.name)
            (temporary / name).parent.mkdir(parents=True, exist_ok=True)
            (temporary / name).write_bytes(data)
        sha256 = load_package(temporary, limits=limits).sha256
        os.replace(temporary, output)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return sha256


# --- building -----------------------------------------------------------------------------

SCENARIO_META_FIELDS = ("cost", "assignment", "template", "import_report")
TNTP_LICENCE = {
    "title": "Transportation Networks for Research, academic research use only",
    "path": "https://github.com/bstabler/TransportationNetworks",
}
TNTP_SOURCE = {
    "title": "Transportation Networks for Research Core Team, Transportation Networks for Research",
    "path": "https://github.com/bstabler/TransportationNetworks",
}


def build_package(
    output: str | Path,
    *,
    network: Network,
    demand: Demand,
    interventions: list[dict],
    meta: dict,
    features: dict | None = None,
) -> str:
    """Write a GMNS package (node.csv, link.csv, demand.csv) for a network and demand.

    ``meta`` holds the Frictionless fields (name, title, version (default
    1.0.0), licenses, ...) and optionally the scenario's ``cost``,
    ``assignment`` and ``template``. ``features`` (a GeoJSON FeatureCollection in
    WGS84, tags as properties) becomes ``features.geojson``, which
    ``restrict_area`` interventions with ``near`` match. Returns the package sha256.
    """
    descriptor = _descriptor_from_meta(meta)
    node_csv, link_csv = gmns.write_network(network)
    files = {"node.csv": node_csv, "link.csv": link_csv, "demand.csv": gmns.write_od_csv(demand)}
    descriptor["resources"] = [
        _csv_resource("node", "node.csv", "GMNS nodes", "node"),
        _csv_resource("link", "link.csv", "GMNS links", "link"),
        _csv_resource("demand", "demand.csv", "Trips between zones", "od"),
    ]
    descriptor["scenario"] = {
        "format_version": 1,
        "network": {
            "format": "gmns",
            "resources": {"node": "node", "link": "link"},
            "block_centroid_flows": bool(network.block_centroid_flows),
        },
        "demand": {
            "format": "od-csv",
            "resource": "demand",
            "synthetic": bool(demand.synthetic),
            "description": demand.description,
        },
        **{key: meta[key] for key in SCENARIO_META_FIELDS if key in meta},
        "interventions": list(interventions),
    }
    if features is not None:
        files[FEATURES_PATH] = _geojson_bytes(features)
        descriptor["resources"].append(
            {"name": "features", "path": FEATURES_PATH, "format": "geojson",
             "mediatype": "application/geo+json",
             "title": "Map features that interventions select by tag (WGS84)"}
        )  # fmt: skip
        descriptor["scenario"]["features"] = {"format": "geojson", "resource": "features"}
    return write_package(output, descriptor=descriptor, files=files)


def _geojson_bytes(collection: dict) -> bytes:
    """Compact, deterministic GeoJSON text (one feature per line, for readable diffs)."""
    features = collection.get("features", [])
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    body = ",\n".join(lines)
    return ('{"type":"FeatureCollection","features":[\n' + body + "\n]}\n").encode("utf-8")


def _descriptor_from_meta(meta: dict) -> dict:
    unknown = sorted(set(meta) - set(FRICTIONLESS_FIELDS) - set(SCENARIO_META_FIELDS))
    if unknown or "resources" in meta:
        raise PackageError(f"build_package: unknown meta field {(unknown or ['resources'])[0]!r}")
    descriptor = {"version": "1.0.0"} | {
        key: copy.deepcopy(value) for key, value in meta.items() if key in FRICTIONLESS_FIELDS
    }
    # Frictionless readers expect name first; keep a readable order.
    order = ["name", "title", "version", "description"]
    return {key: descriptor[key] for key in order if key in descriptor} | descriptor


def _csv_resource(name: str, path: str, title: str, table: str) -> dict:
    return {
        "name": name,
        "path": path,
        "title": title,
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": gmns.table_schema(table),
    }


@dataclass(frozen=True)
class TntpFiles:
    """The files of a TNTP network folder (``*_net``, ``*_trips``, optional ``*_node``, README)."""

    net: Path
    trips: Path
    nodes: Path | None
    readme: Path | None

    @classmethod
    def find(cls, folder: str | Path) -> TntpFiles:
        """Find the files in ``folder``; PackageError unless exactly one net and one trips file."""
        folder = Path(folder)
        if not folder.is_dir():
            raise PackageError(f"{folder}: not a folder")
        readme = folder / "README.md"
        return cls(
            net=_one(folder, "*_net.tntp"),
            trips=_one(folder, "*_trips.tntp"),
            nodes=_one(folder, "*_node.tntp", required=False),
            readme=readme if readme.is_file() else None,
        )


def _one(folder: Path, pattern: str, *, required: bool = True) -> Path | None:
    found = sorted(folder.glob(pattern))
    if len(found) > 1 or (required and not found):
        raise PackageError(f"{folder}: expected one {pattern} file, found {len(found)}")
    return found[0] if found else None


def pack_tntp(
    folder: str | Path,
    output: str | Path,
    *,
    close: list[tuple[int, int]] = (),
    assignment: dict | None = None,
    cost: dict | None = None,
    name: str | None = None,
    title: str | None = None,
    version: str = "1.0.0",
) -> str:
    """Package a TNTP folder as it is (format "tntp"); return the package sha256.

    ``close`` lists (from, to) node pairs to close, one intervention each.
    ``assignment`` (algorithm, relative_gap, max_iterations) and ``cost``
    (toll_weight, distance_weight, distance_unit) override the defaults; cost
    weights and the length unit default to what the folder's README states.
    """
    found = TntpFiles.find(folder)
    with _content_errors(found.net.name):
        _network, tntp_meta = tntp.read_network(found.net, found.nodes)
    stem = found.net.name.removesuffix("_net.tntp")
    descriptor = {
        "name": name or _slug(stem),
        "title": title or f"{stem} (TNTP)" + "".join(f", close {a}-{b}" for a, b in close),
        "version": version,
        "licenses": [dict(TNTP_LICENCE)],
        "sources": [dict(TNTP_SOURCE)],
        "resources": _tntp_resources(found),
        "scenario": {
            "format_version": 1,
            "network": {
                "format": "tntp",
                "resources": {"net": "net"} | _if(found.nodes, nodes="nodes"),
            },
            "demand": {"format": "tntp", "resource": "trips", "synthetic": False},
            "cost": _tntp_cost(tntp_meta, cost or {}),
            "assignment": {
                "algorithm": "bfw",
                "relative_gap": DEFAULT_RELATIVE_GAP,
                "max_iterations": 1000,
            }
            | (assignment or {}),
            "interventions": [
                {"type": "close_links", "node_pairs": [[a, b]], "label": f"Close {a}-{b}"}
                for a, b in close
            ],
        },
    }
    files = {path.name: path.read_bytes() for path in _present(found)}
    return write_package(output, descriptor=descriptor, files=files)


def _if(value, **entry) -> dict:
    return entry if value else {}


def _present(found: TntpFiles) -> list[Path]:
    return [p for p in (found.net, found.trips, found.nodes, found.readme) if p is not None]


def _tntp_resources(found: TntpFiles) -> list[dict]:
    roles = [
        ("net", found.net, "tntp", "text/plain", "TNTP network"),
        ("trips", found.trips, "tntp", "text/plain", "TNTP trip table"),
        ("nodes", found.nodes, "tntp", "text/plain", "TNTP node coordinates"),
        ("readme", found.readme, "md", "text/markdown", "README of the source network"),
    ]
    return [
        {"name": role, "path": path.name, "title": title, "format": fmt, "mediatype": media}
        for role, path, fmt, media, title in roles
        if path is not None
    ]


def _tntp_cost(tntp_meta: dict, given: dict) -> dict:
    cost = {
        "toll_weight": tntp_meta.get("toll_weight", 0.0),
        "distance_weight": tntp_meta.get("distance_weight", 0.0),
    }
    if tntp_meta.get("length_unit"):
        cost["distance_unit"] = tntp_meta["length_unit"]
    return cost | {key: value for key, value in given.items() if value is not None}


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    return slug or "package"
