"""Text helpers for search that behaves the same on PostgreSQL and SQLite."""

import unicodedata


def fold(text: str) -> str:
    """Lower-case `text`, strip its accents and turn punctuation into single spaces.

    "Móstoles" -> "mostoles", "Ñ" -> "n", "Vitoria-Gasteiz" -> "vitoria gasteiz",
    "L'Hospitalet" -> "l hospitalet": a hyphen or an apostrophe typed or left out does not
    decide whether a name is found. Stored search fields and queries are folded alike.
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    letters = (ch for ch in decomposed if not unicodedata.combining(ch))
    spaced = "".join(ch if ch.isalnum() else " " for ch in letters)
    return " ".join(spaced.casefold().split())


def search_words(query: str) -> list[str]:
    """The folded words of a search query; a match holds every one, in any order."""
    return fold(query).split()


def match_name(value: str, names) -> str | None:
    """The one of `names` that `value` names, folded ("andalucia" -> "Andalucía").

    A bilingual name is also found by either of its parts ("alicante" -> "Alacant/Alicante").
    """
    wanted = fold(value)
    if not wanted:
        return None
    names = list(names)
    for name in names:
        if fold(name) == wanted:
            return name
    for name in names:
        if "/" in name and wanted in (fold(part) for part in name.split("/")):
            return name
    return None
