"""A map of the member cities, drawn on the server as inline SVG (no tiles, no JavaScript).

Equirectangular projection with longitudes shrunk by cos(40°), the peninsula's middle
latitude, so that shapes look right at Spain's scale. The Canary Islands are drawn at the
same scale in an inset box at the bottom left, as Spanish maps do: the box sits over the
Atlantic west of Cádiz, where no mainland municipality lies (tests check this).

There is no coastline data in the product, so the land is drawn as a dot matrix: one
small square per grid cell that holds a municipality of the INE/IGN reference table.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from .models import SizeBand
from .municipalities import read_table

PX_PER_DEGREE = 44.0  # pixels per degree of latitude
COS_40 = math.cos(math.radians(40))
LAND_CELL_PX = 7
MARGIN_PX = 4.0

# Circle radius (pixels) per size band; a city without population gets the smallest.
RADIUS = {
    SizeBand.TOWN: 3.0,
    SizeBand.SMALL: 4.0,
    SizeBand.MEDIUM: 5.0,
    SizeBand.LARGE: 6.5,
    SizeBand.METROPOLIS: 8.5,
}


@dataclass(frozen=True)
class Frame:
    """A longitude/latitude box and the canvas position (pixels) of its top-left corner."""

    west: float
    east: float
    south: float
    north: float
    left: float = 0.0
    top: float = 0.0

    @property
    def width(self) -> float:
        return (self.east - self.west) * COS_40 * PX_PER_DEGREE

    @property
    def height(self) -> float:
        return (self.north - self.south) * PX_PER_DEGREE

    def contains(self, lat: float, lon: float) -> bool:
        return self.south <= lat <= self.north and self.west <= lon <= self.east

    def project(self, lat: float, lon: float) -> tuple[float, float]:
        """Canvas pixels (x to the right, y down) of a point of this frame."""
        x = self.left + (lon - self.west) * COS_40 * PX_PER_DEGREE
        y = self.top + (self.north - lat) * PX_PER_DEGREE
        return round(x, 1), round(y, 1)


# The peninsula, the Balearic Islands, Ceuta and Melilla. The west edge leaves room for the
# Canaries box below the latitude of Cádiz.
MAINLAND = Frame(west=-11.6, east=4.6, south=34.6, north=44.0)
_CANARIES_BOX = Frame(west=-18.4, east=-13.3, south=27.5, north=29.5)
CANARIES = Frame(
    west=_CANARIES_BOX.west,
    east=_CANARIES_BOX.east,
    south=_CANARIES_BOX.south,
    north=_CANARIES_BOX.north,
    left=MARGIN_PX,
    top=MAINLAND.height - _CANARIES_BOX.height - MARGIN_PX,
)


def project(lat: float | None, lon: float | None) -> tuple[float, float] | None:
    """Canvas pixels of a point in Spain, or None for a point outside both frames."""
    if lat is None or lon is None:
        return None
    for frame in (CANARIES, MAINLAND):
        if frame.contains(lat, lon):
            return frame.project(lat, lon)
    return None


@dataclass(frozen=True)
class Point:
    """A member city to draw: where, how big, what the tooltip says and where it links."""

    latitude: float | None
    longitude: float | None
    size_band: str
    label: str
    url: str


@dataclass(frozen=True)
class Marker:
    x: float
    y: float
    r: float
    size_band: str
    label: str
    url: str


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class MemberMap:
    width: float
    height: float
    land_path: str
    inset: Box
    markers: list[Marker]


def draw(points: Iterable[Point]) -> MemberMap:
    """The map of these cities; cities without coordinates in Spain are left out."""
    markers = []
    for point in points:
        xy = project(point.latitude, point.longitude)
        if xy is None:
            continue
        radius = RADIUS.get(point.size_band, RADIUS[SizeBand.TOWN])
        markers.append(Marker(*xy, radius, point.size_band, point.label, point.url))
    # Big circles first, so that small ones stay on top and can be clicked.
    markers.sort(key=lambda marker: -marker.r)
    return MemberMap(
        width=round(MAINLAND.width, 1),
        height=round(MAINLAND.height, 1),
        land_path=land_path(),
        inset=Box(
            round(CANARIES.left, 1),
            round(CANARIES.top, 1),
            round(CANARIES.width, 1),
            round(CANARIES.height, 1),
        ),
        markers=markers,
    )


def legend() -> list[tuple[str, float]]:
    """(size band label, circle radius) for each size band, smallest first."""
    return [(band.label, RADIUS[band]) for band in SizeBand]


@cache
def land_path() -> str:
    """SVG path data of the land: one square per grid cell holding a municipality."""
    cells = set()
    for place in read_table():
        xy = project(place.lat, place.lon)
        if xy is not None:
            cells.add((int(xy[0] // LAND_CELL_PX), int(xy[1] // LAND_CELL_PX)))
    size = LAND_CELL_PX - 1  # a one-pixel gap between cells
    return "".join(
        f"M{col * LAND_CELL_PX} {row * LAND_CELL_PX}h{size}v{size}h-{size}z"
        for col, row in sorted(cells)
    )
