"""What an audience import's page shows: its problems, the first rows it
would import, and the rejected rows as a CSV to fix and upload again."""

import csv
import io
from collections.abc import Iterator

from ..models import AudienceImport, AudienceImportProblem, AudienceImportRow
from .exports import csv_safe_cell

# Problems of each kind listed on the page; the rest are counted (and the
# rejected ones downloadable).
PROBLEMS_SHOWN = 500
PREVIEW_ROWS = 10


def audience_import_problems(
    *, audience_import: AudienceImport, kind: str, limit: int = PROBLEMS_SHOWN
) -> list[AudienceImportProblem]:
    return list(
        AudienceImportProblem.objects.filter(
            audience_import=audience_import, kind=kind
        ).order_by("line")[:limit]
    )


def audience_import_preview_rows(
    *, audience_import: AudienceImport, limit: int = PREVIEW_ROWS
) -> list[AudienceImportRow]:
    return list(
        AudienceImportRow.objects.filter(audience_import=audience_import).order_by(
            "line"
        )[:limit]
    )


def audience_import_rejected_csv(*, audience_import: AudienceImport) -> Iterator[str]:
    """The rejected rows as CSV lines, the reason first, in file order."""
    headers = audience_import.headers
    out = io.StringIO()
    writer = csv.writer(out)

    def line(cells) -> str:
        out.seek(0)
        out.truncate()
        writer.writerow([csv_safe_cell(cell) for cell in cells])
        return out.getvalue()

    yield line(["line", "reason", *headers])
    rejected = (
        AudienceImportProblem.objects.filter(
            audience_import=audience_import, kind=AudienceImportProblem.Kind.REJECTED
        )
        .order_by("line")
        .values_list("line", "reason", "values")
    )
    for number, reason, values in rejected.iterator(chunk_size=2000):
        yield line([number, reason, *(values.get(h, "") for h in headers)])
