"""The report's SVG charts: labels that stay apart and stay readable."""

import re

from campaigns.charts import bar_chart, timeline_chart
from campaigns.selectors import Timeline, TimelineBucket

from .workers import ROOT

# The report lays its two charts side by side from about this width (26rem).
REPORT_COLUMN_PX = 416
SMALLEST_READABLE_PX = 12


def view_width(svg: str) -> float:
    return float(re.search(r'viewBox="0 0 ([\d.]+) ', svg).group(1))


def chart_font_units() -> float:
    css = (ROOT / "campaigns/static/campaigns/admin.css").read_text()
    rule = re.search(r"svg\.chart \.chart-label[^{]*\{([^}]*)\}", css).group(1)
    return float(re.search(r"font-size:\s*([\d.]+)px", rule).group(1))


def timeline(buckets: int, size: int = 10) -> Timeline:
    start = 1_780_000_000
    return Timeline(
        bucket_seconds=size,
        start=start,
        buckets=tuple(TimelineBucket(start + i * size, 1, 0) for i in range(buckets)),
    )


def axis_times(svg: str) -> list[tuple[float, str]]:
    """The x and text of the two times under the axis."""
    texts = re.findall(
        r'<text x="([\d.]+)" y="([\d.]+)"[^>]*class="chart-label">([^<]+)</text>', svg
    )
    return [(float(x), text) for x, y, text in texts if ":" in text]


def test_the_first_and_last_times_stand_apart_however_few_periods():
    for buckets in (1, 2, 3):
        svg = timeline_chart(chart_id="t", timeline=timeline(buckets))
        (start_x, start), (end_x, end) = axis_times(svg)
        # The end label is drawn right-aligned at end_x, the start one
        # left-aligned at start_x: at 16 units a character, they must not meet.
        assert end_x - start_x >= 16 * (len(start) + len(end)) * 0.6, buckets


def test_chart_text_reads_at_12_px_or_more_in_a_report_column():
    font = chart_font_units()
    bars = bar_chart(
        chart_id="o",
        title="Outcomes",
        rows=[("Delivered on Viber", 7, "viber"), ("Failed", 1, "failed")],
    )
    busiest = timeline_chart(chart_id="t", timeline=timeline(48))
    for svg in (bars, busiest):
        scale = min(1, REPORT_COLUMN_PX / view_width(svg))
        assert font * scale >= SMALLEST_READABLE_PX
