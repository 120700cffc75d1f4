"""The reference table of Spanish municipalities shipped with the product (cities/data/).

Attribution (data/SOURCE.md): "Fuente: INE" for population; names and coordinates
© Instituto Geográfico Nacional (IGN/CNIG), CC BY 4.0.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .text import fold

TABLE = Path(__file__).resolve().parent / "data" / "municipalities.csv"
ATTRIBUTION = (
    "Población: Fuente: INE (Padrón municipal a 1 de enero de 2025). Nombres y coordenadas: "
    "© Instituto Geográfico Nacional (IGN/CNIG), CC BY 4.0."
)


@dataclass(frozen=True)
class Municipality:
    ine_code: str
    name: str
    province: str
    region: str
    population: int
    population_year: int
    lat: float
    lon: float
    area_km2: float | None


def read_table(path: Path = TABLE) -> Iterator[Municipality]:
    """Every row of the reference table, in file order."""
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            yield Municipality(
                ine_code=row["ine_code"],
                name=row["name"],
                province=row["province"],
                region=row["autonomous_community"],
                population=int(row["population"]),
                population_year=int(row["population_year"]),
                lat=float(row["lat"]),
                lon=float(row["lon"]),
                area_km2=float(row["area_km2"]) if row["area_km2"] else None,
            )


def municipality(ine_code: str) -> Municipality:
    """The municipality with this five-digit INE code; KeyError if there is none."""
    for place in read_table():
        if place.ine_code == ine_code:
            return place
    raise KeyError(f"no municipality with INE code {ine_code!r} in {TABLE.name}")


def load_reference_table(model, path: Path = TABLE) -> int:
    """Insert or update every municipality of the table into `model`; returns the row count.

    `model` is cities.Municipality, or its historical version inside a migration.
    """
    rows = [
        model(
            ine_code=place.ine_code,
            name=place.name,
            province=place.province,
            region=place.region,
            population=place.population,
            population_year=place.population_year,
            latitude=place.lat,
            longitude=place.lon,
            area_km2=place.area_km2,
            search_name=fold(place.name),
        )
        for place in read_table(path)
    ]
    model.objects.bulk_create(
        rows,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["ine_code"],
        update_fields=[
            "name",
            "province",
            "region",
            "population",
            "population_year",
            "latitude",
            "longitude",
            "area_km2",
            "search_name",
        ],
    )
    return len(rows)
