"""Human-readable helpers shared by pages and the admin."""

from __future__ import annotations

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def human_size(num_bytes: int | None) -> str:
    """Binary-prefixed size (1 GB = 1024³ bytes), as file managers show it; '—' when unknown."""
    if num_bytes is None:
        return "—"
    size = float(num_bytes)
    for unit in _UNITS:
        if abs(size) < 1024 or unit == _UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def human_size_of(attr: str) -> property:
    """A read-only `human_size` of another attribute: `used_human = human_size_of("used_bytes")`."""
    return property(lambda obj: human_size(getattr(obj, attr)))


GB = 1024**3


def gb_to_bytes(gb: float) -> int:
    return int(gb * GB)


def episode_label(season: int | None, episode: int | None = None) -> str:
    """Plex's short form of an episode, "S01E02" (a season alone: "S01"; unknown = 00)."""
    label = f"S{season or 0:02d}"
    return label if episode is None else f"{label}E{episode or 0:02d}"


def title_with_year(title: str, year: int | None) -> str:
    """A movie's or show's label, "Title (2001)" (the title alone without a year)."""
    return f"{title} ({year})" if year else title
