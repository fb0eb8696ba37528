"""The marketer's workspace in Django admin: every ModelAdmin, registered here.

Importing this package (Django's admin autodiscovery does) registers each
area's ModelAdmins: the workspace (images, contacts, audiences and their CSV
import), campaigns (editor, launch, test send, preview), their reports,
delivery records and the audit trail. ModelAdmins translate clicks into calls
of `campaigns.services` (writes) and `campaigns.selectors` (reads); their
custom pages share one helper, `base.CustomPagesMixin`.
"""

from django.contrib import admin

from ..forms import ThrottledAdminAuthenticationForm
from .audit import AuditEntryAdmin
from .base import AdminPage, CustomPagesMixin, ReadOnlyAdminMixin
from .campaigns import CampaignAdmin
from .delivery_records import (
    AttemptedFilter,
    CallbackEventAdmin,
    CallbackRejectionAdmin,
    CappedCountPaginator,
    ChannelAttemptAdmin,
    ChannelAttemptInline,
    InboundMessageAdmin,
    ReadFilter,
    RecipientAdmin,
    StatusCodeFilter,
)
from .report_tiles import (
    attempts_url,
    code_rows,
    outcome_rows,
    recipients_url,
    report_tiles,
    seconds_text,
    timeline_rows,
)
from .reports import COMPARE_MAX, RATES, REPORT_PAGES, CampaignReportsAdminMixin
from .workspace import (
    AudienceAdmin,
    AudienceImportInline,
    ContactAdmin,
    ImageAssetAdmin,
    OptedOutFilter,
    image_thumbnail,
)

# Sign-ins to the admin are throttled against password guessing.
admin.site.login_form = ThrottledAdminAuthenticationForm

__all__ = [
    "COMPARE_MAX",
    "RATES",
    "REPORT_PAGES",
    "AdminPage",
    "AttemptedFilter",
    "AudienceAdmin",
    "AudienceImportInline",
    "AuditEntryAdmin",
    "CallbackEventAdmin",
    "CallbackRejectionAdmin",
    "CampaignAdmin",
    "CampaignReportsAdminMixin",
    "CappedCountPaginator",
    "ChannelAttemptAdmin",
    "ChannelAttemptInline",
    "ContactAdmin",
    "CustomPagesMixin",
    "ImageAssetAdmin",
    "InboundMessageAdmin",
    "OptedOutFilter",
    "ReadFilter",
    "ReadOnlyAdminMixin",
    "RecipientAdmin",
    "StatusCodeFilter",
    "attempts_url",
    "code_rows",
    "image_thumbnail",
    "outcome_rows",
    "recipients_url",
    "report_tiles",
    "seconds_text",
    "timeline_rows",
]
