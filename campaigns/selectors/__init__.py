"""Every read the admin and the engine need, as plain functions.

- building: what an unsaved campaign form would message and cost, the
  preview's contact search, recipients waiting for their send window
- campaigns: who a launch would message and how long it would take,
  previews, audiences, send progress, who a follow-up may message, the
  campaigns a comparison shows
- reports: a campaign's report figures, typed (ReportFigures)
- contacts: every message one contact was sent
- costs: estimated and actual cost at the configured prices
- exports: the recipients CSV and formula-safe cells
- health: the database and the task workers, for /health/
- home: the marketer's home (sending now, scheduled, results, audiences, images)
- imports: an audience import's problems, preview and rejected rows
- timeline: one recipient's story and the callbacks that shaped it
- personalisation: the fields an SMS text may use, and what is wrong with one

Callers import from `campaigns.selectors`; the names below are the public
ones. Hand-written SQL the reads need lives in campaigns.db.
"""

from ..db.delivery_times import PERCENTILES
from ..db.functions import EpochBucket, IsoTimestamp
from .building import (
    CONTACT_MATCHES_SHOWN,
    DraftFigures,
    campaign_contact_at,
    campaign_contact_position,
    campaign_contacts_search,
    campaign_draft_figures,
    campaign_recipients_waiting_for_window,
)
from .campaigns import (
    COMPARE_MAX,
    PREVIEW_SAMPLE_CONTACTS,
    RESENDABLE,
    CampaignPreview,
    LaunchEstimate,
    audience_target_contacts,
    audiences_summary,
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
from .contacts import CONTACT_MESSAGES_SHOWN, ContactMessages, contact_messages
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
from .home import (
    HOME_IMAGES,
    HOME_ROWS,
    CampaignResult,
    Home,
    SendingCampaign,
    campaign_result,
    campaign_sending_state,
    home_overview,
)
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
from .preferences import user_time_zone
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
    "CONTACT_MATCHES_SHOWN",
    "CONTACT_MESSAGES_SHOWN",
    "FAILURE_REASONS_SHOWN",
    "FORMULA_FIRST_CHARACTERS",
    "FORMULA_PREFIXES",
    "HOME_IMAGES",
    "HOME_ROWS",
    "OPEN_OUTCOMES",
    "PERCENTILES",
    "PLAIN_NUMBER",
    "PREVIEW_SAMPLE_CONTACTS",
    "RECIPIENT_EXPORT_COLUMNS",
    "RESENDABLE",
    "TIMELINE_BUCKETS",
    "TIMELINE_MAX_BUCKETS",
    "CampaignPreview",
    "CampaignResult",
    "ChannelAttempts",
    "ContactMessages",
    "CsvSafeText",
    "DeliveryTime",
    "DraftFigures",
    "EpochBucket",
    "FailureReason",
    "Home",
    "IsoTimestamp",
    "LaunchEstimate",
    "Rates",
    "ReportFigures",
    "SendingCampaign",
    "StatusCodeCount",
    "Timeline",
    "TimelineBucket",
    "TimelineStep",
    "TimesToDelivery",
    "audience_import_preview_rows",
    "audience_import_problems",
    "audience_import_rejected_csv",
    "audience_target_contacts",
    "audiences_fields",
    "audiences_have_field",
    "audiences_summary",
    "audiences_with_counts",
    "campaign_audience_summary",
    "campaign_contact_at",
    "campaign_contact_position",
    "campaign_contacts_search",
    "campaign_cost_actual",
    "campaign_cost_estimate",
    "campaign_draft_figures",
    "campaign_follow_up_recipients",
    "campaign_follow_up_size",
    "campaign_ids_newest_first",
    "campaign_launch_estimate",
    "campaign_preview",
    "campaign_preview_contact",
    "campaign_recipients_csv",
    "campaign_recipients_export",
    "campaign_recipients_export_copy",
    "campaign_recipients_waiting_for_window",
    "campaign_report_figures",
    "campaign_report_live",
    "campaign_result",
    "campaign_send_progress",
    "campaign_sending_state",
    "campaign_sms_problems",
    "campaign_target_contacts",
    "campaign_test_sends",
    "campaigns_to_compare",
    "contact_messages",
    "csv_safe_cell",
    "csv_stream",
    "home_overview",
    "measured_fallback_rate",
    "recipient_callback_events",
    "recipient_export_text_columns",
    "recipient_timeline",
    "sms_text_problems",
    "system_health",
    "user_time_zone",
]
