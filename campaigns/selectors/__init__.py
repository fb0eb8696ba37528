"""Every read the admin and the engine need, as plain functions.

- campaigns: who a launch would message and how long it would take,
  previews, audiences, send progress, who a follow-up may message, the
  campaigns a comparison shows
- reports: a campaign's report figures, typed (ReportFigures)
- costs: estimated and actual cost at the configured prices
- exports: the recipients CSV and formula-safe cells
- health: the database and the task workers, for /health/
- imports: an audience import's problems, preview and rejected rows
- timeline: one recipient's story and the callbacks that shaped it
- personalisation: the fields an SMS text may use, and what is wrong with one

Callers import from `campaigns.selectors`; the names below are the public
ones. Hand-written SQL the reads need lives in campaigns.db.
"""

from ..db.delivery_times import PERCENTILES
from ..db.functions import EpochBucket, IsoTimestamp
from .campaigns import (
    COMPARE_MAX,
    PREVIEW_SAMPLE_CONTACTS,
    RESENDABLE,
    CampaignPreview,
    LaunchEstimate,
    audiences_with_counts,
    campaign_audience_summary,
    campaign_follow_up_recipients,
    campaign_follow_up_size,
    campaign_ids_newest_first,
    campaign_launch_estimate,
    campaign_preview,
    campaign_preview_contact,
    campaign_send_progress,
    campaign_target_contacts,
    campaign_test_sends,
    campaigns_to_compare,
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
from .imports import (
    audience_import_preview_rows,
    audience_import_problems,
    audience_import_rejected_csv,
)
from .personalisation import (
    audiences_fields,
    audiences_have_field,
    campaign_sms_problems,
    sms_text_problems,
)
from .reports import (
    ACTIVE_STATUSES,
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
    campaign_report_live,
)
from .timeline import TimelineStep, recipient_callback_events, recipient_timeline

__all__ = [
    "ACTIVE_STATUSES",
    "COMPARE_MAX",
    "FAILURE_REASONS_SHOWN",
    "FORMULA_FIRST_CHARACTERS",
    "FORMULA_PREFIXES",
    "OPEN_OUTCOMES",
    "PERCENTILES",
    "PLAIN_NUMBER",
    "PREVIEW_SAMPLE_CONTACTS",
    "RECIPIENT_EXPORT_COLUMNS",
    "RESENDABLE",
    "TIMELINE_BUCKETS",
    "TIMELINE_MAX_BUCKETS",
    "CampaignPreview",
    "ChannelAttempts",
    "CsvSafeText",
    "DeliveryTime",
    "EpochBucket",
    "FailureReason",
    "IsoTimestamp",
    "LaunchEstimate",
    "Rates",
    "ReportFigures",
    "StatusCodeCount",
    "Timeline",
    "TimelineBucket",
    "TimelineStep",
    "TimesToDelivery",
    "audience_import_preview_rows",
    "audience_import_problems",
    "audience_import_rejected_csv",
    "audiences_fields",
    "audiences_have_field",
    "audiences_with_counts",
    "campaign_audience_summary",
    "campaign_cost_actual",
    "campaign_cost_estimate",
    "campaign_follow_up_recipients",
    "campaign_follow_up_size",
    "campaign_ids_newest_first",
    "campaign_launch_estimate",
    "campaign_preview",
    "campaign_preview_contact",
    "campaign_recipients_csv",
    "campaign_recipients_export",
    "campaign_recipients_export_copy",
    "campaign_report_figures",
    "campaign_report_live",
    "campaign_send_progress",
    "campaign_sms_problems",
    "campaign_target_contacts",
    "campaign_test_sends",
    "campaigns_to_compare",
    "csv_safe_cell",
    "csv_stream",
    "measured_fallback_rate",
    "recipient_callback_events",
    "recipient_export_text_columns",
    "recipient_timeline",
    "sms_text_problems",
    "system_health",
]
