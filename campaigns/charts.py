"""Server-rendered SVG charts for the reports: no JavaScript, no network.

Each chart is an `<svg role="img">` with a title and a description that say
what it shows in words, and text labels on every bar, so it reads the same in
a screen reader, a text browser and print. Values go through format_html, so
nothing from the database is ever interpreted as markup.
"""

from datetime import UTC, datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .selectors import Timeline

COLORS = {
    "viber": "#7360f2",
    "sms": "#2e7d32",
    "failed": "#ba2121",
    "pending": "#9e9e9e",
    "suppressed": "#795548",
    "cancelled": "#546e7a",
    "read": "#4527a0",
}


def percent(rate: float | None) -> str:
    """A rate (0–1) as text, "—" when there is none."""
    return "—" if rate is None else f"{100 * rate:.1f}%"


def _percent(part: int, whole: int) -> str:
    return percent(part / whole if whole else None)


# Room right of the longest bar for its value and share ("1234 · 56.7%").
BAR_VALUE_WIDTH = 120
# The deliveries chart is never drawn narrower than this, in SVG units, so its
# first and last times stand apart however few periods there are.
TIMELINE_MIN_WIDTH = 420


def bar_chart(
    *, chart_id: str, title: str, rows: list[tuple[str, int, str]]
) -> SafeString:
    """Horizontal bars, one per (label, value, colour key), labelled with the
    value and its share of the total."""
    total = sum(value for _, value, _ in rows) or 0
    biggest = max((value for _, value, _ in rows), default=0) or 1
    # Narrow enough that, in a report column of about 420 px, its 16-unit
    # labels still read at 12 px or more.
    row_height, label_width, bar_width = 30, 170, 230
    height = row_height * len(rows) + 10
    description = "; ".join(
        f"{label}: {value} ({_percent(value, total)})" for label, value, _ in rows
    )
    bars = format_html_join(
        "",
        '<g transform="translate(0,{})">'
        '<text x="{}" y="20" text-anchor="end" class="chart-label">{}</text>'
        '<rect x="{}" y="5" width="{}" height="20" fill="{}" rx="2"></rect>'
        '<text x="{}" y="20" class="chart-value">{} · {}</text></g>',
        (
            (
                index * row_height,
                label_width - 8,
                label,
                label_width,
                round(bar_width * value / biggest, 1),
                COLORS.get(color, "#607d8b"),
                label_width + round(bar_width * value / biggest, 1) + 6,
                value,
                _percent(value, total),
            )
            for index, (label, value, color) in enumerate(rows)
        ),
    )
    return format_html(
        '<svg class="chart" id="{}" role="img" aria-labelledby="{}-title {}-desc" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>{}</svg>',
        chart_id,
        chart_id,
        chart_id,
        label_width + bar_width + BAR_VALUE_WIDTH,
        height,
        chart_id,
        title,
        chart_id,
        description,
        bars,
    )


def timeline_clock(epoch: int, bucket_seconds: int) -> str:
    moment = datetime.fromtimestamp(epoch, tz=UTC)
    if bucket_seconds >= 86400:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%m-%d %H:%M" if bucket_seconds >= 3600 else "%H:%M:%S")


# The deliveries chart's geometry, in SVG units: plot height, the width of one
# column, the gap between two periods, the left margin (axis labels) and the
# bottom margin (times and legend).
# Narrow columns keep 48 periods within about 540 units, so the 16-unit text
# still reads at 12 px in a report column of about 420 px.
PLOT_HEIGHT, COLUMN, GAP, LEFT, BOTTOM = 160, 4, 2, 44, 46


def timeline_chart(*, chart_id: str, timeline: Timeline) -> SafeString:
    """Deliveries per time bucket: a Viber and an SMS column side by side."""
    buckets = timeline.buckets
    if not buckets:
        return mark_safe('<p class="chart-empty">No deliveries yet.</p>')
    size = timeline.bucket_seconds
    biggest = max(max(viber, sms) for _, viber, sms in buckets) or 1
    # The times under the axis sit at its two ends: the width drawn, not the
    # columns' (a few periods would put both times on top of each other).
    width = max(LEFT + len(buckets) * (2 * COLUMN + GAP) + 10, TIMELINE_MIN_WIDTH)
    height = PLOT_HEIGHT + BOTTOM
    return format_html(
        '<svg class="chart" id="{}" role="img" aria-labelledby="{}-title {}-desc" '
        'viewBox="0 0 {} {}" width="100%" preserveAspectRatio="xMinYMin meet">'
        '<title id="{}-title">Deliveries over time, per channel</title>'
        '<desc id="{}-desc">{}</desc>{}{}{}</svg>',
        chart_id,
        chart_id,
        chart_id,
        width,
        height,
        chart_id,
        chart_id,
        _timeline_description(buckets, size, biggest),
        _timeline_axis(buckets, size, biggest, width),
        _timeline_columns(buckets, size, biggest),
        _timeline_legend(buckets, size),
    )


def _timeline_columns(buckets: list, size: int, biggest: int) -> SafeString:
    """A Viber and an SMS column per period, each titled with its count."""
    columns = []
    for index, (epoch, viber, sms) in enumerate(buckets):
        x = LEFT + index * (2 * COLUMN + GAP)
        for offset, (count, channel) in enumerate(((viber, "viber"), (sms, "sms"))):
            bar = round(PLOT_HEIGHT * count / biggest, 1)
            columns.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{} UTC, {}: {}</title></rect>",
                    x + offset * COLUMN,
                    round(PLOT_HEIGHT - bar, 1),
                    COLUMN,
                    bar,
                    COLORS[channel],
                    timeline_clock(epoch, size),
                    "Viber" if channel == "viber" else "SMS",
                    count,
                )
            )
    return mark_safe("".join(columns))  # noqa: S308 - each column built by format_html


def _timeline_description(buckets: list, size: int, biggest: int) -> str:
    """The chart in words, for screen readers and text browsers."""
    first, last = buckets[0][0], buckets[-1][0]
    viber_total = sum(row[1] for row in buckets)
    sms_total = sum(row[2] for row in buckets)
    return (
        f"{viber_total} Viber and {sms_total} SMS deliveries between "
        f"{timeline_clock(first, size)} and {timeline_clock(last + size, size)} "
        "UTC, in "
        f"{len(buckets)} periods of {size} seconds; busiest period {biggest}."
    )


def _timeline_axis(buckets: list, size: int, biggest: int, width: int) -> SafeString:
    """The base line, the scale (0 and the busiest count) and the time span."""
    first, last = buckets[0][0], buckets[-1][0]
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="chart-axis"></line>'
        '<text x="{}" y="14" text-anchor="end" class="chart-label">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="chart-label">0</text>'
        '<text x="{}" y="{}" class="chart-label">{}</text>'
        '<text x="{}" y="{}" text-anchor="end" class="chart-label">{}</text>',
        LEFT - 2,
        PLOT_HEIGHT,
        width,
        PLOT_HEIGHT,
        LEFT - 6,
        biggest,
        LEFT - 6,
        PLOT_HEIGHT,
        LEFT,
        PLOT_HEIGHT + 18,
        timeline_clock(first, size),
        width - 4,
        PLOT_HEIGHT + 18,
        timeline_clock(last + size, size),
    )


def _timeline_legend(buckets: list, size: int) -> SafeString:
    """Which colour is which channel, with each channel's total."""
    viber_total = sum(row[1] for row in buckets)
    sms_total = sum(row[2] for row in buckets)
    return format_html(
        '<text x="{}" y="{}" class="chart-label">'
        '<tspan fill="{}">■</tspan> Viber {}  '
        '<tspan fill="{}">■</tspan> SMS {}  · per {} s</text>',
        LEFT,
        PLOT_HEIGHT + 40,
        COLORS["viber"],
        viber_total,
        COLORS["sms"],
        sms_total,
        size,
    )
