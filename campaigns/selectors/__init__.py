"""Every read the admin and the engine need, as plain functions.

- campaigns: who a launch would message, previews, audiences, send
  progress, who a follow-up may message
- reports: a campaign's report figures, typed (ReportFigures)
- costs: estimated and actual cost at the configured prices
- exports: the recipients CSV and formula-safe cells
- health: the database and the task workers, for /health/
- timeline: one recipient's story

Callers import from `campaigns.selectors`; the names below are the public
ones. Hand-written SQL the reads need lives in campaigns.db.
"""

from ..db.delivery_times import PERCENTILES
from ..db.functions import EpochBucket, IsoTimestamp
from .campaigns import (
    RESENDABLE,
    audiences_with_counts,
    campaign_audience_summary,
    campaign_follow_up_recipients,
    campaign_preview_contact,
    campaign_send_progress,
    campaign_target_contacts,
)
from .costs import campaign_cost_actual, campaign_cost_estimate, measured_fallback_rate
from .exports import (
    FORMULA_FIRST_CHARACTERS,
    FORMULA_PREFIXES,
    PLAIN_NUMBER,
    RECIPIENT_EXPORT_COLUMNS,
    CsvSafeText,
    campaign_recipients_csv,
    campaign_recipients_export,
    campaign_recipients_export_copy,
    csv_safe_cell,
    csv_stream,
    recipient_export_text_columns,
)
from .health import system_health
from .reports import (
    FAILURE_REASONS_SHOWN,
    OPEN_OUTCOMES,
    TIMELINE_BUCKETS,
    TIMELINE_MAX_BUCKETS,
    ChannelAttempts,
    DeliveryTime,
    FailureReason,
    Rates,
    ReportFigures,
    StatusCodeCount,
    Timeline,
    TimelineBucket,
    TimesToDelivery,
    campaign_report_figures,
)
from .timeline import TimelineStep, recipient_timeline

__all__ = [
    "FAILURE_REASONS_SHOWN",
    "FORMULA_FIRST_CHARACTERS",
    "FORMULA_PREFIXES",
    "OPEN_OUTCOMES",
    "PERCENTILES",
    "PLAIN_NUMBER",
    "RECIPIENT_EXPORT_COLUMNS",
    "RESENDABLE",
    "TIMELINE_BUCKETS",
    "TIMELINE_MAX_BUCKETS",
    "ChannelAttempts",
    "CsvSafeText",
    "DeliveryTime",
    "EpochBucket",
    "FailureReason",
    "IsoTimestamp",
    "Rates",
    "ReportFigures",
    "StatusCodeCount",
    "Timeline",
    "TimelineBucket",
    "TimelineStep",
    "TimesToDelivery",
    "audiences_with_counts",
    "campaign_audience_summary",
    "campaign_cost_actual",
    "campaign_cost_estimate",
    "campaign_follow_up_recipients",
    "campaign_preview_contact",
    "campaign_recipients_csv",
    "campaign_recipients_export",
    "campaign_recipients_export_copy",
    "campaign_report_figures",
    "campaign_send_progress",
    "campaign_target_contacts",
    "csv_safe_cell",
    "csv_stream",
    "measured_fallback_rate",
    "recipient_export_text_columns",
    "recipient_timeline",
    "system_health",
]
