"""The reference table of Spanish municipalities shipped with the product (cities/data/).

Attribution (data/SOURCE.md): "Fuente: INE" for population; names and coordinates
© Instituto Geográfico Nacional (IGN/CNIG), CC BY 4.0.
"""

import csv
from dataclasses import dataclass
from pathlib import Path

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
    lat: float
    lon: float


def municipality(ine_code: str) -> Municipality:
    """The municipality with this five-digit INE code; KeyError if there is none."""
    with TABLE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["ine_code"] == ine_code:
                return Municipality(
                    ine_code=row["ine_code"],
                    name=row["name"],
                    province=row["province"],
                    region=row["autonomous_community"],
                    population=int(row["population"]),
                    lat=float(row["lat"]),
                    lon=float(row["lon"]),
                )
    raise KeyError(f"no municipality with INE code {ine_code!r} in {TABLE.name}")
