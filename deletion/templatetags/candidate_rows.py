"""`{% candidate_row row f %}`: one row of the candidates table (see deletion.rows)."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from deletion.groups import Candidate, CandidateFilter
from deletion.rows import candidate_row_html

register = template.Library()


@register.simple_tag
def candidate_row(row: Candidate, f: CandidateFilter) -> SafeString:
    return candidate_row_html(row, f)
