"""Reading numbers from untrusted text (query strings, form posts, ids in refs).

`str.isdigit()` accepts "²" and "٣", which `int()` refuses or reads, and Python's ints
have no limit where the database's BIGINT stops at 2**63 - 1: ids and page numbers are
read here, as plain ASCII digits within a range, or not at all.
"""

from __future__ import annotations

MAX_BIGINT = 2**63 - 1
MAX_PAGE = 1_000_000  # far past any real page: beyond it the first page is shown


def int_in_range(value: object, *, minimum: int = 0, maximum: int = MAX_BIGINT) -> int | None:
    """The integer `value` spells (ASCII digits only) when within the range, else None."""
    text = str(value or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def page_number(value: object, default: int = 1) -> int:
    """A page number from a query string; anything odd is the default page."""
    return int_in_range(value, minimum=1, maximum=MAX_PAGE) or default
