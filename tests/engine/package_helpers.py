"""Small networks, packages and hand-made zips for the engine's package, runner and CLI tests."""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pytest

from twins.engine.network import Demand, Network
from twins.engine.package import build_package

SHARED_DATA = Path(
    os.environ.get("RECI_SHARED_DATA", Path(__file__).resolve().parents[2].parent / "shared/data")
)
TNTP = SHARED_DATA / "tntp"


def tntp_folder(name: str) -> Path:
    """A shared TNTP network folder; skips the test when the data is not there."""
    folder = TNTP / name
    if not (folder / f"{name}_net.tntp").is_file():
        pytest.skip(f"TNTP network {name} not found under {TNTP} (set RECI_SHARED_DATA)")
    return folder


# Links: (id, from, to, capacity, free-flow minutes, length km). 16 runs parallel to 10.
TINY_LINKS = [
    (10, 1, 3, 1000.0, 2.0, 2.0),
    (11, 3, 2, 1000.0, 2.0, 2.0),
    (12, 1, 4, 500.0, 3.0, 3.0),
    (13, 4, 2, 500.0, 3.0, 3.0),
    (14, 2, 3, 1000.0, 2.0, 2.0),
    (15, 3, 1, 1000.0, 2.0, 2.0),
    (16, 1, 3, 300.0, 2.5, 2.0),
]


def tiny_network() -> Network:
    """Two zones (nodes 1, 2) joined through nodes 3 and 4, with one pair of parallel links."""
    node_ids = np.array([1, 2, 3, 4])
    index = {node: i for i, node in enumerate(node_ids)}
    links = np.array(TINY_LINKS)
    return Network(
        node_ids=node_ids,
        from_idx=np.array([index[n] for n in links[:, 1].astype(int)]),
        to_idx=np.array([index[n] for n in links[:, 2].astype(int)]),
        capacity=links[:, 3].copy(),
        free_flow_time=links[:, 4].copy(),
        alpha=np.full(len(links), 0.15),
        beta=np.full(len(links), 4.0),
        link_ids=links[:, 0].astype(np.int64),
        zone_ids=np.array([1, 2]),
        length_km=links[:, 5].copy(),
        length_source=links[:, 5].copy(),
        node_x=np.array([-3.60, -3.58, -3.59, -3.59]),
        node_y=np.array([37.17, 37.17, 37.18, 37.16]),
    )


def tiny_demand() -> Demand:
    return Demand(zone_ids=np.array([1, 2]), matrix=np.array([[0.0, 100.0], [50.0, 0.0]]))


TINY_META = {
    "name": "tiny",
    "title": "Tiny test network",
    "licenses": [{"name": "CC0-1.0", "path": "https://creativecommons.org/publicdomain/zero/1.0/"}],
    "assignment": {"algorithm": "bfw", "relative_gap": 1e-6, "max_iterations": 200},
}


def tiny_package(output: Path, interventions: Iterable[dict] = (), **meta) -> Path:
    """Write the tiny network as a GMNS package (zip or folder) and return its path."""
    build_package(
        output,
        network=tiny_network(),
        demand=tiny_demand(),
        interventions=list(interventions),
        meta=TINY_META | meta,
    )
    return output


def zip_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_zip(path: Path, members: Iterable[tuple[str | zipfile.ZipInfo, bytes]]) -> Path:
    """Write members exactly as given (names are not cleaned, unlike ZipFile.write)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def with_descriptor(members: dict[str, bytes], change: Callable[[dict], None]) -> dict[str, bytes]:
    """A copy of the members with datapackage.json edited by ``change`` (in place)."""
    descriptor = json.loads(members["datapackage.json"])
    change(descriptor)
    return members | {"datapackage.json": json.dumps(descriptor).encode()}
