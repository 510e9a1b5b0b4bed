"""`{% candidate_rows page.rows f %}`: the rows of the candidates table (see deletion.rows)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from deletion.groups import Candidate, CandidateFilter
from deletion.rows import candidate_rows_html

register = template.Library()


@register.simple_tag
def candidate_rows(rows: list[Candidate], f: CandidateFilter) -> SafeString:
    return candidate_rows_html(rows, f)
