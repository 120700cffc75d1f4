"""Text helpers for search that behaves the same on PostgreSQL and SQLite."""

import unicodedata


def fold(text: str) -> str:
    """Lower-case `text` and strip its accents: "Móstoles" -> "mostoles", "Ñ" -> "n"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold().strip()
