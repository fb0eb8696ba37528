"""Every write the product makes, as plain functions with keyword-only arguments.

Admin actions, API views, tasks and management commands call these and do
nothing else of substance.
"""

from .errors import DomainError
from .governance import (
    Actor,
    actor_from_request,
    audit_record,
    campaign_approve,
    campaign_saved,
    login_failure_record,
    login_success_record,
    login_wait_seconds,
)
from .reports import (
    campaign_follow_up_create,
    campaign_report_current,
    campaign_report_refresh,
    campaign_reports_refresh_due,
)
from .workspace import (
    BULK_BATCH_SIZE,
    EnsuredLogin,
    audience_import_check,
    audience_import_confirm,
    audience_import_discard,
    audience_import_parse,
    contacts_opt_in,
    contacts_opt_out,
    image_asset_create,
    image_asset_fill_from_upload,
    logins_ensure,
)

__all__ = [
    "BULK_BATCH_SIZE",
    "Actor",
    "DomainError",
    "EnsuredLogin",
    "actor_from_request",
    "audience_import_check",
    "audience_import_confirm",
    "audience_import_discard",
    "audience_import_parse",
    "audit_record",
    "campaign_approve",
    "campaign_follow_up_create",
    "campaign_report_current",
    "campaign_report_refresh",
    "campaign_reports_refresh_due",
    "campaign_saved",
    "contacts_opt_in",
    "contacts_opt_out",
    "image_asset_create",
    "image_asset_fill_from_upload",
    "login_failure_record",
    "login_success_record",
    "login_wait_seconds",
    "logins_ensure",
]
