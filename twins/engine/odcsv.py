"""OD matrices and zone lists as offices export them from a spreadsheet.

The package's own OD CSV (``gmns.read_od_csv``) is strict: UTF-8, commas, decimal points,
``origin,destination,trips``. What a Spanish mobility office sends is usually a spreadsheet
saved as CSV: Windows-1252 or UTF-8 with a byte-order mark, ``;`` between cells, decimal
commas and thousands dots, CRLF line endings, trailing empty columns, a Spanish header, and
often the matrix itself (origins down, destinations across) rather than a list of pairs.
:func:`read_spreadsheet_od` reads all of that and says what it found; :func:`to_od_csv`
turns the result into the package's canonical OD CSV. Rules (docs/demand-import.md):

* **Encoding**: a UTF-8 byte-order mark means UTF-8; a UTF-16 one (Excel's "Unicode text")
  UTF-16; otherwise the bytes are UTF-8 if they decode as UTF-8, else Windows-1252.
  Workbooks (``.xlsx``, ``.xls``) are refused with a hint to save as CSV.
* **Separator**: ``;``, tab or ``,``: the one that splits the lines into the same number of
  cells (>= 2) most consistently, with ties going to ``;``, then tab, then ``,``. Quotes are
  honoured, so ``"1,5"`` in a comma-separated file is one cell.
* **Numbers**: decimal comma or point, decided from the file: a cell with both marks
  (``1.234,5``), a comma or point not followed by exactly three digits (``1,5``, ``2.25``) or
  a repeated mark (``1.234.567``) settles it; a file whose numbers could be read either way
  (only ``1.234``-like cells) follows its separator: ``;`` means Spanish (comma decimal, dot
  thousands), anything else decimal point; the report then carries a warning. Thousands
  marks must group by three; spaces (also non-breaking) between digit groups are allowed.
  An empty cell is 0 trips. Negative, non-numeric and non-finite values are errors.
* **Header**: in Spanish or English, any case, accents optional: a column whose name has the
  word ``origen``/``origin``/``o``/``from``/``desde`` is the origin, ``destino``/
  ``destination``/``d``/``to``/``hasta`` the destination, ``viajes``/``trips``/``demanda``/
  ``demand``/``flujo``/``flow``/``volumen``/``veh``/``total``... the trips (with origin and
  destination found, a single remaining column is taken as the trips). Words like ``zona``,
  ``id`` or ``código`` around them do not matter (``Zona origen``, ``id_destino``).
  Leading title lines with fewer than two filled cells are skipped.
* **Layout**: LONG when the header names origin, destination and trips (other columns are
  ignored); a header-less long file of three numeric columns is accepted with a warning.
  Otherwise WIDE: the first column holds the origin zones, the header row (after its corner
  cell) the destination zones. A last row or column called ``Total`` (``Totales``, ``Suma``)
  is left out of the matrix and compared with the sums (a mismatch is a warning).
* **Zones**: labels are integers (``007`` = ``7``; ``101,00`` = 101) or codes/names
  (compared case-insensitively, spaces collapsed). See :func:`read_spreadsheet_od` for how
  they become zone ids.

Every error is an :class:`ODImportError` naming the file, the line, the column and the
spreadsheet cell, e.g. ``od.csv: line 5, column 3 'viajes' (cell C5): '-12' is negative``.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .gmns import read_source, write_od_csv
from .network import Demand, NetworkError

SEPARATORS = (";", "\t", ",")  # in order of preference on ties
SEPARATOR_NAMES = {";": "semicolon", "\t": "tab", ",": "comma"}
_SNIFF_LINES = 500
_SPACES = " \u00a0\u202f\u2007"  # space, no-break, narrow no-break, figure space
_MINUS = "-\u2212"

ORIGIN_WORDS = frozenset({"origen", "origin", "orig", "o", "from", "desde", "procedencia"})
DESTINATION_WORDS = frozenset({"destino", "destination", "dest", "d", "to", "hasta"})
TRIPS_WORDS = frozenset(
    {"viajes", "viaje", "trips", "trip", "demanda", "demand", "flujo", "flow", "flows",
     "volumen", "volume", "vehiculos", "veh", "valor", "value", "total", "count", "n"}
)  # fmt: skip
TOTAL_WORDS = frozenset({"total", "totales", "suma", "sum", "totals", "total general"})
ID_WORDS = frozenset({"id", "zona", "zone", "codigo", "code", "cod", "taz", "num", "numero"})
NAME_WORDS = frozenset({"nombre", "name", "denominacion", "descripcion"})
LAT_WORDS = frozenset({"lat", "latitud", "latitude", "y"})
LON_WORDS = frozenset({"lon", "lng", "long", "longitud", "longitude", "x"})


LIST_HINT = (
    " (read as a matrix because the header does not name origin, destination and trips;"
    " a list of pairs needs a header such as 'origen;destino;viajes')"
)


class ODImportError(NetworkError):
    """A spreadsheet OD or zones CSV cannot be read; the message names file, line and column."""


@dataclass
class ODReport:
    """What :func:`read_spreadsheet_od` found: JSON-friendly via :meth:`as_dict`."""

    source: str
    encoding: str  # "utf-8", "utf-8-sig", "utf-16" or "cp1252"
    separator: str  # "semicolon", "tab" or "comma"
    decimal: str  # "," or "."
    thousands: str  # "." or "," (also spaces are accepted between digit groups)
    layout: str  # "long" or "wide"
    header: list[str]  # long: the origin, destination and trips column names as spelled
    rows: int  # data rows read (long: pairs listed; wide: origin rows)
    pairs: int  # non-zero cells of the resulting matrix
    zones: int  # zones seen in the file
    total_trips: float
    notes: list[str] = field(default_factory=list)  # lines skipped, totals checked...
    warnings: list[str] = field(default_factory=list)  # guesses a person should confirm

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SpreadsheetOD:
    """A spreadsheet OD matrix read into a :class:`Demand`, with its zone labels and report."""

    demand: Demand
    labels: list[str]  # zone labels as first spelled in the file, in order of appearance
    label_to_id: dict[str, int]  # each of those labels -> its zone id in ``demand.zone_ids``
    report: ODReport

    def to_od_csv(self) -> bytes:
        """The package's canonical OD CSV (``origin,destination,trips``, UTF-8)."""
        return to_od_csv(self)


def to_od_csv(od: SpreadsheetOD | Demand) -> bytes:
    """Canonical OD CSV bytes (what ``gmns.read_od_csv`` and packages read)."""
    return write_od_csv(od.demand if isinstance(od, SpreadsheetOD) else od)


# --- decoding and splitting ---------------------------------------------------------------


def _read_source(data: bytes | str | Path, name: str | None) -> tuple[bytes, str]:
    return read_source(data, name, ODImportError)


def _decode(raw: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    """Text and the encoding used: BOM, else UTF-8 if valid, else Windows-1252."""
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise ODImportError(
            f"{name}: this is a spreadsheet workbook (.xlsx/.xls), not CSV text: save it as "
            "'CSV (delimitado por puntos y coma)' / 'CSV (comma delimited)' first"
        )
    if encoding is None:
        if raw.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            encoding = "utf-16"
        elif b"\x00" in raw:
            raise ODImportError(f"{name}: contains NUL bytes: not a text CSV file")
        else:
            try:
                return raw.decode("utf-8"), "utf-8"
            except UnicodeDecodeError:
                encoding = "cp1252"
    try:
        return raw.decode(encoding), encoding
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ODImportError(
            f"{name}: line {line}: byte 0x{raw[exc.start]:02x} is not valid {encoding} text"
        ) from None
    except LookupError:
        raise ODImportError(f"{name}: unknown encoding {encoding!r}") from None


def _split(text: str, separator: str, limit: int | None = None) -> list[tuple[int, list[str]]]:
    """(line number, raw cells) of each row; line numbers count physical lines from 1."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    rows, previous = [], 0
    try:
        for cells in reader:
            rows.append((previous + 1, cells))
            previous = reader.line_num
            if limit is not None and len(rows) >= limit:
                break
    except csv.Error as exc:
        raise ODImportError(f"line {reader.line_num}: {exc}") from None
    return rows


def _trim(cells: list[str]) -> list[str]:
    cells = [cell.strip(_SPACES + "\t") for cell in cells]
    while cells and not cells[-1]:
        cells.pop()
    return cells


def _sniff_separator(text: str) -> str:
    """The separator that splits the lines most consistently into >= 2 cells."""
    best, best_score = None, None
    for rank, separator in enumerate(SEPARATORS):
        try:
            rows = [cells for _, cells in _split(text, separator, _SNIFF_LINES)]
        except ODImportError:
            continue
        rows = [cells for cells in rows if _trim(cells)]
        if not rows:
            continue
        consistency, width = 0.0, 0
        for counts in ([len(c) for c in rows], [len(_trim(c)) for c in rows]):
            mode = max(set(counts), key=lambda n: (counts.count(n), n))
            share = counts.count(mode) / len(counts)
            if mode >= 2 and share > consistency:
                consistency, width = share, mode
        if width < 2:
            continue
        score = (consistency, -rank)
        if best_score is None or score > best_score:
            best, best_score = separator, score
    if best is None:
        raise ODImportError("no ';', tab or ',' separates the lines into two or more columns")
    return best


@dataclass
class _Sheet:
    """A decoded, split CSV: rows of stripped cells (trailing empty cells dropped)."""

    name: str
    encoding: str
    separator: str
    rows: list[tuple[int, list[str]]]  # non-blank rows only
    notes: list[str]
    # wide layout: (Total column cells, (line, Total row) or None, number of destinations)
    totals: tuple = ((), None, 0)

    @classmethod
    def read(cls, source, name, encoding, separator) -> _Sheet:
        raw, name = _read_source(source, name)
        text, encoding = _decode(raw, name, encoding)
        if not re.sub(r"[\s;,\t\"\u00a0\u202f]", "", text):
            raise ODImportError(f"{name}: empty file")
        try:
            separator = separator or _sniff_separator(text)
            rows = _split(text, separator)
        except ODImportError as exc:
            raise ODImportError(f"{name}: {exc}") from None
        rows = [(line, _trim(cells)) for line, cells in rows]
        rows = [(line, cells) for line, cells in rows if cells]
        notes = []
        while rows and sum(1 for cell in rows[0][1] if cell) < 2:
            line, cells = rows.pop(0)
            notes.append(f"line {line} skipped (title or note: {' '.join(cells)[:60]!r})")
        if not rows:
            raise ODImportError(f"{name}: empty file (no header line with two or more cells)")
        return cls(name, encoding, separator, rows, notes)

    def error(self, line: int, column: int | None, header: str | None, message: str):
        where = f"{self.name}: line {line}"
        if column is not None:
            named = f" {header!r}" if header else ""
            where += f", column {column}{named} (cell {_column_letters(column)}{line})"
        return ODImportError(f"{where}: {message}")


def _column_letters(column: int) -> str:
    """Spreadsheet column letters of a 1-based column number: 1 -> A, 27 -> AA."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# --- numbers ------------------------------------------------------------------------------

_GROUPED = {  # thousands-grouped integer part, then optional decimals and exponent
    ",": re.compile(r"(\d{1,3}(?:\.\d{3})+|\d*)(?:,(\d*))?(?:[eE]([+-]?\d+))?"),
    ".": re.compile(r"(\d{1,3}(?:,\d{3})+|\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?"),
}
_SIMPLE_MARK = re.compile(r"(\d+)([.,])(\d+)")
_PLAIN = {",": re.compile(r"\d+(?:,\d+)?"), ".": re.compile(r"\d+(?:\.\d+)?")}
_AMBIGUOUS = re.compile(r"[+-]?\d{1,3}([.,])\d{3}")  # 1.234 / 1,234: either convention


def _decimal_evidence(cell: str) -> str | None:
    """',' or '.' when the cell settles the decimal mark, '?' when it could be either."""
    if "," not in cell and "." not in cell:
        return None
    simple = _SIMPLE_MARK.fullmatch(cell)  # fast path: 12,5 / 1234.56 / 1.234
    if simple:
        whole, mark, fraction = simple.groups()
        return "?" if len(fraction) == 3 and len(whole) <= 3 else mark
    text = _compact(cell)
    if not any(ch.isdigit() for ch in text):
        return None
    if "," in text and "." in text:
        return "," if text.rfind(",") > text.rfind(".") else "."
    for mark, other in ((",", "."), (".", ",")):
        if mark in text:
            if text.count(mark) > 1:
                return other  # 1.234.567: repeated marks are thousands
            return "?" if _AMBIGUOUS.fullmatch(text.split("e")[0].split("E")[0]) else mark
    return None


def _compact(cell: str) -> str:
    """The cell without spaces between digit groups and with a plain minus sign."""
    text = cell.strip(_SPACES)
    if not any(space in text for space in _SPACES):
        return text.replace("\u2212", "-")
    text = re.sub(r"(?<=\d)[" + _SPACES + r"](?=\d{3}\b)", "", text)
    return text.replace("\u2212", "-")


def parse_number(cell: str, decimal: str) -> float:
    """A spreadsheet number with ``decimal`` ("," or ".") as decimal mark; ValueError if not."""
    if _PLAIN[decimal].fullmatch(cell):  # fast path: 1234 or 1234,5
        return float(cell.replace(",", ".")) if decimal == "," else float(cell)
    text = _compact(cell)
    sign = 1.0
    if text[:1] in "+-" and text:
        sign, text = (-1.0 if text[0] == "-" else 1.0), text[1:]
    match = _GROUPED[decimal].fullmatch(text)
    if not match or not (match.group(1) or match.group(2)):
        raise ValueError(f"{cell!r} is not a number")
    thousands = "." if decimal == "," else ","
    whole = match.group(1).replace(thousands, "") or "0"
    value = float(f"{whole}.{match.group(2) or ''}e{match.group(3) or 0}") * sign
    if not math.isfinite(value):
        raise ValueError(f"{cell!r} is not a finite number")
    return value


def _choose_decimal(
    sheet: _Sheet, cells: Iterable[tuple[int, int, str]], decimal: str | None, warnings
) -> str:
    """Decide the decimal mark from (line, column, cell) samples; see the module rules."""
    if decimal is not None:
        if decimal not in (",", "."):
            raise ValueError("decimal must be ',' or '.'")
        return decimal
    first: dict[str, tuple[int, int, str]] = {}
    for line, column, cell in cells:
        evidence = _decimal_evidence(cell)
        if evidence and evidence not in first:
            first[evidence] = (line, column, cell)
    if "," in first and "." in first:
        (l1, c1, t1), (l2, c2, t2) = first[","], first["."]
        raise sheet.error(
            l2, c2, None,
            f"{t2!r} has a decimal point but line {l1}, column {c1} has {t1!r} with a decimal "
            "comma: use one convention in the whole file",
        )  # fmt: skip
    if "," in first or "." in first:
        return "," if "," in first else "."
    default = "," if sheet.separator == ";" else "."
    if "?" in first:
        line, column, cell = first["?"]
        reading = "thousands" if default == "," else "decimals"
        named = SEPARATOR_NAMES.get(sheet.separator, repr(sheet.separator))
        warnings.append(
            f"numbers like {cell!r} (line {line}, column {column}) could use either decimal "
            f"mark; read as {reading} ({'decimal comma' if default == ',' else 'decimal point'}"
            f", the usual convention with a {named} separator)"
        )
    return default


# --- zone labels --------------------------------------------------------------------------

ZoneKey = tuple[int, int | str]  # (0, integer id) or (1, normalised text)


def _words(text: str) -> str:
    """Lower-case, accent-free text with single spaces; punctuation counts as a space."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def _label_key(label: str | int, decimal: str = ",") -> ZoneKey:
    """How zone labels compare: integers by value (007 = 7 = 7,00), text case-insensitively."""
    if isinstance(label, int | np.integer):
        return (0, int(label))
    text = " ".join(unicodedata.normalize("NFC", str(label)).split())
    if re.fullmatch(r"[+-]?\d+", text):
        return (0, int(text))
    try:
        value = parse_number(text, decimal)
    except ValueError:
        return (1, text.casefold())
    return (0, int(value)) if value.is_integer() else (1, text.casefold())


def _is_total(label: str) -> bool:
    return _words(label) in TOTAL_WORDS


# --- reading an OD matrix -----------------------------------------------------------------


@dataclass(slots=True)
class _Cell:
    line: int
    column: int
    header: str
    text: str


def read_spreadsheet_od(
    source: bytes | str | Path,
    *,
    zone_ids: Iterable[int] | None = None,
    labels: Mapping[str | int, int] | None = None,
    name: str | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    decimal: str | None = None,
    synthetic: bool = False,
    description: str = "",
) -> SpreadsheetOD:
    """Read an OD matrix CSV as exported from a spreadsheet (long list or wide matrix).

    ``source`` is a path or the file's bytes (``name`` then labels error messages).
    ``encoding``, ``separator`` (";", "\\t", ",") and ``decimal`` ("," or ".") override the
    detection; leave them None to detect (the report says what was found).

    Zone ids:

    * ``zone_ids`` (e.g. ``network.zone_ids``) fixes the Demand's zones and their order; the
      matrix is len(zone_ids) square, zones the file does not mention have no trips. Without
      ``labels`` the file must use these integer ids; any other label is an error.
    * ``labels`` maps the file's zone labels (codes such as ``"01001"`` or names such as
      ``"Zona Almería"``; integer-looking codes compare by value, text case-insensitively) to
      zone ids. Several labels may map to one id: their trips are summed (e.g. a city's own
      zones mapped to the nearest generated grid zone, see :func:`nearest_zone_labels`).
      Every label in the file must be in the mapping.
    * With neither, the zones are those seen in the file: integer labels are their own ids;
      if any label is not an integer, zones get ids 1..Z in sorted label order and
      ``label_to_id`` says which is which.

    For ``import-osm --demand CSV``: the generated grid zones are the network's centroid
    nodes, so call ``read_spreadsheet_od(csv, zone_ids=network.zone_ids)`` after
    ``demand.add_grid_zones`` (the CSV then uses those centroid node ids, 1..Z when no road
    node already uses them), or pass ``labels=nearest_zone_labels(...)`` built from a zones
    CSV (:func:`read_spreadsheet_zones`) to use the city's own zone codes.
    """
    sheet = _Sheet.read(source, name, encoding, separator)
    if zone_ids is not None:
        zone_ids = [int(zone) for zone in zone_ids]
    warnings: list[str] = []
    header_line, header = sheet.rows[0]
    columns = _long_columns(header)
    if columns is None and _headerless_long(header):
        columns = (0, 1, 2)
        data = sheet.rows
        warnings.append(
            "no header: read as three columns origin, destination, trips "
            "(add a header 'origen;destino;viajes' to make it explicit)"
        )
        header = ["", "", ""]
    else:
        data = sheet.rows[1:]
    if columns is not None:
        trips_header = header[columns[2]]
        if trips_header and not set(_words(trips_header).split()) & TRIPS_WORDS:
            warnings.append(f"column {trips_header!r} taken as the trips")
        cells = _long_cells(sheet, header, columns, data)
        layout = "long"
        header_used = [header[c] for c in columns] if any(header) else []
    else:
        cells = _wide_cells(sheet, header_line, header, data, warnings)
        layout = "wide"
        header_used = []
    if not cells:
        raise ODImportError(f"{sheet.name}: no OD data below the header (line {header_line})")
    samples = ((c.line, c.column, c.text) for pair in cells for c in pair[2:3] if c.text)
    mark = _choose_decimal(sheet, samples, decimal, warnings)
    od = _matrix(sheet, cells, mark, zone_ids, labels, layout, warnings)
    demand, seen_labels, label_to_id, n_rows, totals = od
    notes = sheet.notes + totals
    report = ODReport(
        source=sheet.name,
        encoding=sheet.encoding,
        separator=SEPARATOR_NAMES.get(sheet.separator, sheet.separator),
        decimal=mark,
        thousands="." if mark == "," else ",",
        layout=layout,
        header=header_used,
        rows=n_rows,
        pairs=int(np.count_nonzero(demand.matrix)),
        zones=len(seen_labels),
        total_trips=demand.total,
        notes=notes,
        warnings=warnings,
    )
    demand.synthetic = synthetic
    demand.description = description or f"OD matrix imported from {sheet.name} ({layout})"
    return SpreadsheetOD(demand, seen_labels, label_to_id, report)


def _roles(cell: str) -> set[str]:
    words = set(_words(cell).split())
    roles = set()
    for role, vocabulary in (
        ("origin", ORIGIN_WORDS),
        ("destination", DESTINATION_WORDS),
        ("trips", TRIPS_WORDS),
    ):
        if words & vocabulary:
            roles.add(role)
    return roles


def _long_columns(header: list[str]) -> tuple[int, int, int] | None:
    """Column indices of origin, destination and trips when the header names them."""
    found: dict[str, list[int]] = {"origin": [], "destination": [], "trips": []}
    for index, cell in enumerate(header):
        roles = _roles(cell)
        if len(roles) == 1:
            found[roles.pop()].append(index)
    for role, indices in found.items():
        if len(indices) > 1:  # "origen" and "nombre origen": the bare word wins
            vocabulary = {"origin": ORIGIN_WORDS, "destination": DESTINATION_WORDS}.get(
                role, TRIPS_WORDS
            )
            bare = [i for i in indices if set(_words(header[i]).split()) - ID_WORDS <= vocabulary]
            found[role] = bare[:1] if len(bare) == 1 else indices[:0]
    if not found["origin"] or not found["destination"]:
        return None
    if not found["trips"]:
        rest = [
            i
            for i, cell in enumerate(header)
            if cell and i not in (found["origin"][0], found["destination"][0])
        ]
        if len(rest) != 1:
            return None
        found["trips"] = rest
    return found["origin"][0], found["destination"][0], found["trips"][0]


def _headerless_long(header: list[str]) -> bool:
    return len(header) == 3 and all(re.fullmatch(r"[0-9.,\s+-]+", c) for c in header)


def _long_cells(sheet, header, columns, data) -> list[tuple[_Cell, _Cell, _Cell]]:
    cells = []
    for line, row in data:
        if len(row) > len(header):
            raise sheet.error(
                line, len(header) + 1, None,
                f"{len(row)} cells but the header has {len(header)} columns"
                + (" (decimal commas in a comma-separated file must be quoted)"
                   if sheet.separator == "," else ""),
            )  # fmt: skip
        values = [row[i] if i < len(row) else "" for i in columns]
        if _is_total(values[0]) and not values[1]:
            sheet.notes.append(f"line {line} skipped (totals row)")
            continue
        triple = tuple(
            _Cell(line, i + 1, header[i], value) for i, value in zip(columns, values, strict=True)
        )
        for cell in triple[:2]:
            if not cell.text:
                raise sheet.error(line, cell.column, cell.header, "zone missing")
        cells.append(triple)
    return cells


def _wide_cells(sheet, header_line, header, data, warnings) -> list[tuple[_Cell, _Cell, _Cell]]:
    destinations = header[1:]
    if not destinations:
        raise sheet.error(header_line, None, None, "header has no destination zones")
    total_column = None
    if _is_total(destinations[-1]):
        total_column = len(destinations)  # 0-based index in the row
        destinations = destinations[:-1]
    seen: dict[ZoneKey, int] = {}
    for index, label in enumerate(destinations, start=2):
        if not label:
            raise sheet.error(header_line, index, None, "destination zone missing in the header")
        key = _label_key(label)
        if key in seen:
            raise sheet.error(
                header_line, index, label,
                f"destination {label!r} is already column {seen[key]}: duplicate OD pairs"
                + LIST_HINT,
            )  # fmt: skip
        seen[key] = index
    cells, origins, row_totals, column_totals = [], {}, [], None
    columns = [_Cell(header_line, i, label, label) for i, label in enumerate(destinations, 2)]
    for line, row in data:
        origin = row[0] if row else ""
        if _is_total(origin):
            column_totals = (line, row)
            continue
        if not origin:
            raise sheet.error(line, 1, header[0], "origin zone missing")
        key = _label_key(origin)
        if key in origins:
            raise sheet.error(
                line, 1, header[0],
                f"origin {origin!r} is already on line {origins[key]}: duplicate OD pairs"
                + (LIST_HINT if len(destinations) == 2 else ""),
            )  # fmt: skip
        origins[key] = line
        width = len(destinations) + 1 + (total_column is not None)
        if len(row) > width:
            raise sheet.error(
                line, width + 1, None, f"{row[width]!r} is beyond the last destination column"
            )
        o = _Cell(line, 1, header[0], origin)
        padded = row + [""] * (len(destinations) + 1 - len(row))
        cells.extend((o, d, _Cell(line, d.column, d.header, padded[d.column - 1])) for d in columns)
        if total_column is not None:
            text = row[total_column] if total_column < len(row) else ""
            row_totals.append(_Cell(line, total_column + 1, header[total_column], text))
    sheet.totals = (row_totals, column_totals, len(destinations))
    return cells


def _matrix(sheet, cells, mark, zone_ids, labels, layout, warnings):
    """Demand, labels seen, label -> id, rows read and notes on totals."""
    order: dict[ZoneKey, str] = {}  # key -> first spelling
    parsed = []
    pairs: dict[tuple[ZoneKey, ZoneKey], int] = {}
    keys: dict[str, ZoneKey] = {}

    def key_of(text: str) -> ZoneKey:
        if text not in keys:
            keys[text] = _label_key(text, mark)
        return keys[text]

    for origin, destination, trips in cells:
        o_key, d_key = key_of(origin.text), key_of(destination.text)
        order.setdefault(o_key, origin.text)
        order.setdefault(d_key, destination.text)
        if layout == "long" and (o_key, d_key) in pairs:
            raise sheet.error(
                origin.line, None, None,
                f"OD pair {origin.text} -> {destination.text} repeated "
                f"(first on line {pairs[(o_key, d_key)]})",
            )  # fmt: skip
        pairs[(o_key, d_key)] = origin.line
        value = _trips(sheet, trips, mark)
        parsed.append((o_key, d_key, value, origin, destination))
    key_to_id = _zone_ids_of(sheet, order, parsed, zone_ids, labels)
    if zone_ids is not None:
        ids = np.asarray(list(zone_ids), dtype=np.int64)
    elif labels is not None:
        ids = np.array(sorted({int(v) for v in labels.values()}), dtype=np.int64)
    else:
        ids = np.array(sorted(set(key_to_id.values())), dtype=np.int64)
    position = {int(z): i for i, z in enumerate(ids.tolist())}
    if len(position) != len(ids):
        raise ValueError("zone_ids has duplicates")
    matrix = np.zeros((len(ids), len(ids)))
    for o_key, d_key, value, *_ in parsed:
        matrix[position[key_to_id[o_key]], position[key_to_id[d_key]]] += value
    totals = _check_totals(sheet, parsed, mark, warnings) if layout == "wide" else []
    rows = len(cells) if layout == "long" else len({c[0].line for c in cells})
    demand = Demand(zone_ids=ids, matrix=matrix)
    label_to_id = {text: key_to_id[key] for key, text in order.items()}
    return demand, list(order.values()), label_to_id, rows, totals


def _trips(sheet, cell: _Cell, mark: str) -> float:
    if not cell.text:
        return 0.0
    try:
        value = parse_number(cell.text, mark)
    except ValueError as exc:
        raise sheet.error(cell.line, cell.column, cell.header, f"{exc} (trips)") from None
    if value < 0:
        raise sheet.error(
            cell.line, cell.column, cell.header, f"{cell.text!r} is negative: trips must be >= 0"
        )
    return value


def _zone_ids_of(sheet, order, parsed, zone_ids, labels) -> dict[ZoneKey, int]:
    """Each zone key -> zone id, with an error naming the first cell of an unknown zone."""
    where: dict[ZoneKey, _Cell] = {}
    for o_key, d_key, _, origin, destination in parsed:
        where.setdefault(o_key, origin)
        where.setdefault(d_key, destination)
    if labels is not None:
        known = {_label_key(label): int(zone) for label, zone in labels.items()}
        valid = set(zone_ids) if zone_ids is not None else None
        for zone in known.values():
            if valid is not None and zone not in valid:
                raise ValueError(f"labels maps to zone id {zone}, which is not in zone_ids")
        expected = "in the zone list"
    else:
        ints = {key for key in order if key[0] == 0}
        if zone_ids is not None:
            known = {(0, int(z)): int(z) for z in zone_ids}
            expected = "a zone id of the network"
        elif len(ints) == len(order):
            known = {key: key[1] for key in order}
        else:
            ranked = sorted(order, key=lambda k: (k[0], k[1] if k[0] == 0 else 0, str(k[1])))
            known = {key: i for i, key in enumerate(ranked, start=1)}
    for key in order:
        if key not in known:
            cell = where[key]
            hint = (
                "; pass labels= to map codes or names to zone ids"
                if key[0] == 1 and labels is None
                else ""
            )
            raise sheet.error(
                cell.line, cell.column, cell.header,
                f"zone {cell.text!r} is not {expected}{hint}",
            )  # fmt: skip
    return {key: known[key] for key in order}


def _check_totals(sheet, parsed, mark, warnings) -> list[str]:
    """Compare a wide matrix's Total row/column with the sums; notes, warnings on mismatch."""
    row_totals, column_totals, n_destinations = sheet.totals
    notes = []
    if not row_totals and column_totals is None:
        return notes
    by_row: dict[int, float] = {}
    by_column: dict[int, float] = {}
    for _, _, value, origin, destination in parsed:
        by_row[origin.line] = by_row.get(origin.line, 0.0) + value
        by_column[destination.column] = by_column.get(destination.column, 0.0) + value
    checks = [(cell, by_row.get(cell.line, 0.0)) for cell in row_totals]
    if column_totals is not None:
        line, row = column_totals
        notes.append(f"line {line} (totals row) left out of the matrix")
        for column in range(2, n_destinations + 2):
            text = row[column - 1] if column - 1 < len(row) else ""
            checks.append((_Cell(line, column, "Total", text), by_column.get(column, 0.0)))
    if row_totals:
        notes.append(f"column {row_totals[0].column} (totals column) left out of the matrix")
    for cell, computed in checks:
        if not cell.text:
            continue
        given = _trips(sheet, cell, mark)
        if abs(given - computed) > max(0.5, 1e-6 * abs(computed)):
            warnings.append(
                f"line {cell.line}, column {cell.column}: total {cell.text} but the cells sum "
                f"to {computed:g}"
            )
    return notes


# --- zones --------------------------------------------------------------------------------


def read_spreadsheet_zones(
    source: bytes | str | Path,
    *,
    name: str | None = None,
    encoding: str | None = None,
    separator: str | None = None,
    decimal: str | None = None,
) -> list[tuple[str, float, float]]:
    """(label, lat, lon) of each zone in a spreadsheet CSV such as ``id;nombre;lat;lon``.

    Same encoding and separator detection as :func:`read_spreadsheet_od`. The label is the
    id/código/zona column when there is one, else the nombre/name column. Coordinates are
    WGS84 degrees with a decimal comma or point (no thousands marks); labels must be unique.
    """
    sheet = _Sheet.read(source, name, encoding, separator)
    header_line, header = sheet.rows[0]
    words = [set(_words(cell).split()) for cell in header]

    def column(vocabulary, what) -> int:
        hits = [i for i, w in enumerate(words) if w & vocabulary]
        if not hits:
            raise sheet.error(header_line, None, None, f"no {what} column in the header")
        return hits[0]

    lat = column(LAT_WORDS, "latitude (lat/latitud)")
    lon = column(LON_WORDS, "longitude (lon/longitud)")
    ids = [i for i, w in enumerate(words) if w & ID_WORDS and i not in (lat, lon)]
    names = [i for i, w in enumerate(words) if w & NAME_WORDS and i not in (lat, lon)]
    if not ids and not names:
        raise sheet.error(header_line, None, None, "no id/código/zona or nombre/name column")
    label = (ids or names)[0]
    data = sheet.rows[1:]
    if decimal is None:
        marks = {
            "," if "," in row[i] else "."
            for _, row in data
            for i in (lat, lon)
            if i < len(row) and ("," in row[i] or "." in row[i])
        }
        if len(marks) > 1:
            raise ODImportError(f"{sheet.name}: coordinates mix decimal commas and points")
        decimal = marks.pop() if marks else "."
    zones, seen = [], {}
    for line, row in data:
        text = row[label] if label < len(row) else ""
        if not text:
            raise sheet.error(line, label + 1, header[label], "zone label missing")
        key = _label_key(text)
        if key in seen:
            raise sheet.error(
                line, label + 1, header[label], f"zone {text!r} repeated (line {seen[key]})"
            )
        seen[key] = line
        point = []
        for index, limit in ((lat, 90.0), (lon, 180.0)):
            cell = row[index] if index < len(row) else ""
            try:
                value = _coordinate(cell, decimal)
            except ValueError as exc:
                raise sheet.error(line, index + 1, header[index], str(exc)) from None
            if abs(value) > limit:
                raise sheet.error(
                    line, index + 1, header[index], f"{cell!r} is not a WGS84 coordinate in degrees"
                )
            point.append(value)
        zones.append((text, point[0], point[1]))
    if not zones:
        raise ODImportError(f"{sheet.name}: no zones below the header")
    return zones


def _coordinate(cell: str, decimal: str) -> float:
    text = _compact(cell)
    if not re.fullmatch(r"[+-]?\d*" + re.escape(decimal) + r"?\d*", text) or not any(
        ch.isdigit() for ch in text
    ):
        raise ValueError(f"{cell!r} is not a number")
    return float(text.replace(decimal, "."))


def nearest_zone_labels(
    zones: Iterable[tuple[str, float, float]],
    zone_ids: Iterable[int],
    zone_lon: Iterable[float],
    zone_lat: Iterable[float],
) -> dict[str, int]:
    """Map each (label, lat, lon) to the zone id whose centroid is nearest (great circle).

    Use it as ``labels=`` of :func:`read_spreadsheet_od` to read a matrix in a city's own
    zones onto generated zones (e.g. ``Zones.zone_ids``, ``Zones.lon``, ``Zones.lat``).
    """
    from .demand import haversine_km  # scipy-heavy module: import only when used

    ids = np.asarray(list(zone_ids), dtype=np.int64)
    lon = np.asarray(list(zone_lon), dtype=float)
    lat = np.asarray(list(zone_lat), dtype=float)
    if len(ids) == 0:
        raise ValueError("no zones to map to")
    return {label: int(ids[int(np.argmin(haversine_km(lon, lat, x, y)))]) for label, y, x in zones}
