"""The campaign domain: who is messaged (Contact, Audience), with what
(ImageAsset, Campaign), and what Telesign did with each message (Recipient,
ChannelAttempt, CallbackEvent).

Invariants live in `Meta.constraints`; business rules live in campaigns.services.
"""

import hashlib
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .telesign.limits import FALLBACK_TIME_MAX, FALLBACK_TIME_MIN


class OptOutSource(models.TextChoices):
    ADMIN = "admin", "Marked in admin"
    REPLY = "reply", "Replied with an opt-out keyword"
    IMPORT = "import", "Imported as opted out"


class Contact(models.Model):
    phone = models.CharField(
        "phone (E.164)",
        max_length=16,
        unique=True,
        help_text="For example +15558675309",
    )
    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(
        default=dict,
        blank=True,
        help_text="Free-form fields usable in personalisation, e.g. {first_name}.",
    )
    opted_out_at = models.DateTimeField(null=True, blank=True)
    opt_out_source = models.CharField(
        max_length=16, choices=OptOutSource.choices, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["phone"]
        constraints = [
            models.CheckConstraint(
                condition=Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                name="contact_phone_is_e164",
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.phone})" if self.name else self.phone

    @property
    def is_opted_out(self) -> bool:
        return self.opted_out_at is not None


class Audience(models.Model):
    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    contacts = models.ManyToManyField(
        Contact, through="AudienceMember", related_name="audiences", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class AudienceMember(models.Model):
    audience = models.ForeignKey(Audience, on_delete=models.CASCADE)
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["audience", "contact"], name="unique_audience_contact"
            ),
        ]

    def __str__(self):
        return f"{self.contact} in {self.audience}"


class AudienceImport(models.Model):
    """An uploaded audience CSV, from its check in the background to its import.

    Its status is where it stands: checking (a worker reads the file),
    checked (ready to confirm), importing, imported, failed (with a reason) or
    discarded. `rows_done` counts the rows handled so far by the step running.
    """

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Ready to confirm"
        IMPORTING = "importing", "Importing"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed"
        DISCARDED = "discarded", "Discarded"

    RUNNING_STATUSES = (Status.CHECKING, Status.IMPORTING)

    audience = models.ForeignKey(
        Audience, on_delete=models.CASCADE, related_name="imports"
    )
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    checksum = models.CharField(max_length=64)
    region = models.CharField(
        "country",
        max_length=2,
        blank=True,
        help_text="Numbers without a country code are read as this country's.",
    )
    update_existing = models.BooleanField(
        default=False,
        help_text="Whether contacts already known take the file's name and fields.",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.CHECKING
    )
    failure_reason = models.TextField(blank=True)
    headers = models.JSONField(default=list, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_valid = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    nul_lines = models.JSONField(default=list, blank=True)
    nul_line_count = models.PositiveIntegerField(default=0)
    contacts_changing = models.PositiveIntegerField(
        default=0, help_text="Known contacts whose name or fields the file changes."
    )
    contacts_created = models.PositiveIntegerField(default=0)
    contacts_updated = models.PositiveIntegerField(default=0)
    members_added = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.file_name} → {self.audience}"

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING_STATUSES

    @property
    def progress_of(self) -> int:
        """What `rows_done` counts towards: the file's rows while checking,
        the rows to import while importing."""
        if self.status == self.Status.IMPORTING:
            return self.rows_valid
        return self.rows_total

    @property
    def progress_percent(self) -> int:
        if self.status == self.Status.IMPORTED:
            return 100
        return min(100, 100 * self.rows_done // max(1, self.progress_of))


class AudienceImportRow(models.Model):
    """A valid row of a checked file, waiting for the import to write it.

    One per number: a number's first line in the file wins, later ones are
    duplicates (`AudienceImportProblem`).
    """

    audience_import = models.ForeignKey(
        AudienceImport, on_delete=models.CASCADE, related_name="staged_rows"
    )
    line = models.PositiveIntegerField()
    phone = models.CharField(max_length=16)
    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["audience_import", "phone"], name="import_row_phone_once"
            )
        ]

    def __str__(self):
        return f"line {self.line}: {self.phone}"


class AudienceImportProblem(models.Model):
    """A row of a checked file that will not be imported: rejected with a
    reason, or a duplicate of an earlier line's number."""

    class Kind(models.TextChoices):
        REJECTED = "rejected", "Rejected"
        DUPLICATE = "duplicate", "Duplicate"

    audience_import = models.ForeignKey(
        AudienceImport, on_delete=models.CASCADE, related_name="problems"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    line = models.PositiveIntegerField()
    reason = models.TextField(blank=True)
    values = models.JSONField(default=dict, blank=True)
    phone = models.CharField(max_length=16, blank=True)
    first_line = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["audience_import", "kind", "line"], name="import_problem_line"
            )
        ]

    def __str__(self):
        return f"line {self.line}: {self.get_kind_display().lower()}"


class ImageFormat(models.TextChoices):
    JPEG = "JPEG", "JPEG"
    PNG = "PNG", "PNG"


class ImageAsset(models.Model):
    """An image Viber fetches by URL: uploaded here, or hosted elsewhere on https."""

    name = models.CharField(max_length=200)
    file = models.FileField(upload_to="images/%Y/%m/", blank=True)
    external_url = models.URLField(
        "external https URL",
        max_length=500,
        blank=True,
        help_text="Instead of uploading: an https URL where the image is hosted.",
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    format = models.CharField(max_length=8, choices=ImageFormat.choices, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    bytes = models.PositiveIntegerField(null=True, blank=True)
    checksum = models.CharField("SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "image"
        constraints = [
            models.CheckConstraint(
                condition=(Q(file="") & ~Q(external_url=""))
                | (~Q(file="") & Q(external_url="")),
                name="image_asset_file_xor_external_url",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def extension(self) -> str:
        return "png" if self.format == ImageFormat.PNG else "jpg"

    @property
    def content_type(self) -> str:
        return "image/png" if self.format == ImageFormat.PNG else "image/jpeg"

    @property
    def public_url(self) -> str:
        """The absolute URL Telesign and Viber fetch the image from."""
        if self.external_url:
            return self.external_url
        if settings.IMAGE_URLS_FROM_STORAGE:
            return self.file.url
        path = reverse(
            "image_asset_public",
            kwargs={"public_id": self.public_id, "extension": self.extension},
        )
        return f"{settings.PUBLIC_BASE_URL}{path}"


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        SENDING = "sending", "Sending"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class ViberTemplate(models.TextChoices):
        IMAGE = "image", "Image"
        IMAGE_SESSION = "image_session", "Image, as part of a session"

    class Channels(models.TextChoices):
        """How a campaign reaches people; every page describes it by this."""

        VIBER_WITH_SMS_FALLBACK = "viber_sms", "Viber, with SMS fallback"
        VIBER_ONLY = "viber", "Viber only"
        SMS_ONLY = "sms", "SMS only"

    class MessageType(models.TextChoices):
        MKT = "MKT", "Marketing (MKT)"
        ARN = "ARN", "Alerts, reminders, notifications (ARN)"

    # Statuses in which the message content may still change.
    EDITABLE_STATUSES = (Status.DRAFT, Status.SCHEDULED)
    # What the marketer edits: the message, its audience and its timing. Locked
    # once sending starts; changing any of it withdraws an approval.
    CONTENT_FIELDS = (
        "name",
        "image",
        "viber_template",
        "fallback_time",
        "sms_fallback_enabled",
        "sms_only",
        "sms_text",
        "message_type",
        "audiences",
        "scheduled_at",
        "max_send_rate",
        "send_window_start",
        "send_window_end",
    )

    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    status_reason = models.CharField(
        max_length=500, blank=True, help_text="Why the campaign is in its status."
    )
    image = models.ForeignKey(
        ImageAsset, on_delete=models.PROTECT, related_name="campaigns"
    )
    viber_template = models.CharField(
        max_length=16, choices=ViberTemplate.choices, default=ViberTemplate.IMAGE
    )
    fallback_time = models.PositiveIntegerField(
        "fallback time (seconds)",
        default=600,
        validators=[
            MinValueValidator(FALLBACK_TIME_MIN),
            MaxValueValidator(FALLBACK_TIME_MAX),
        ],
        help_text="How long Viber may take before Telesign falls back to SMS "
        f"({FALLBACK_TIME_MIN}–{FALLBACK_TIME_MAX} seconds).",
    )
    sms_fallback_enabled = models.BooleanField("SMS fallback", default=True)
    sms_only = models.BooleanField(
        "SMS only",
        default=False,
        help_text="Send the SMS text without trying Viber (a resend by SMS).",
    )
    sms_text = models.TextField(
        "SMS text",
        blank=True,
        help_text="Sent when Viber fails. Personalise with contact fields, e.g. "
        "{first_name} or {name}; {first_name|there} uses “there” when the "
        "contact's value is blank. Write {{ and }} for braces meant as text.",
    )
    message_type = models.CharField(
        max_length=3, choices=MessageType.choices, default=MessageType.MKT
    )
    audiences = models.ManyToManyField(Audience, related_name="campaigns", blank=True)
    scheduled_at = models.DateTimeField(
        "scheduled start", null=True, blank=True, help_text="Empty: start on launch."
    )
    # The campaign editor says once what the two times mean (quiet hours, in
    # each recipient's local time); the labels do not repeat it.
    send_window_start = models.TimeField("send from", null=True, blank=True)
    send_window_end = models.TimeField("send until", null=True, blank=True)
    max_send_rate = models.PositiveIntegerField(
        "maximum send rate (messages/second)",
        default=20,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Engine bookkeeping: the next free send slot shared by all workers (the
    # campaign's rate limit), and when a worker last made progress.
    next_send_slot_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    audience_duplicates = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Contacts found in more than one of the audiences, messaged once.",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    follow_up_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        editable=False,
        help_text="The campaign this one resends to; its delivered contacts are "
        "never messaged again.",
    )

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("launch_campaign", "Can launch, pause, resume, cancel and test-send"),
            ("view_campaign_report", "Can view campaign reports and export them"),
            ("approve_campaign", "Can approve campaigns for launch"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(fallback_time__gte=FALLBACK_TIME_MIN)
                & Q(fallback_time__lte=FALLBACK_TIME_MAX),
                name="campaign_fallback_time_in_telesign_range",
            ),
            models.CheckConstraint(
                condition=Q(max_send_rate__gte=1), name="campaign_send_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(sms_fallback_enabled=False) | ~Q(sms_text=""),
                name="campaign_sms_text_when_fallback",
            ),
            models.CheckConstraint(
                condition=Q(sms_only=False) | ~Q(sms_text=""),
                name="campaign_sms_text_when_sms_only",
            ),
            models.CheckConstraint(
                condition=Q(
                    send_window_start__isnull=True, send_window_end__isnull=True
                )
                | Q(send_window_start__isnull=False, send_window_end__isnull=False),
                name="campaign_send_window_both_or_neither",
            ),
        ]
        indexes = [models.Index(fields=["status", "scheduled_at"])]

    def __str__(self):
        return self.name

    @property
    def is_content_locked(self) -> bool:
        return self.status not in self.EDITABLE_STATUSES

    @property
    def has_send_window(self) -> bool:
        return self.send_window_start is not None and self.send_window_end is not None

    @property
    def channels(self) -> "Campaign.Channels":
        """SMS only wins over the fallback switch: an SMS-only campaign never
        tries Viber, whatever `sms_fallback_enabled` says."""
        if self.sms_only:
            return self.Channels.SMS_ONLY
        if self.sms_fallback_enabled:
            return self.Channels.VIBER_WITH_SMS_FALLBACK
        return self.Channels.VIBER_ONLY

    @property
    def sends_viber(self) -> bool:
        return self.channels != self.Channels.SMS_ONLY

    @property
    def sends_sms(self) -> bool:
        """Whether its SMS text is ever sent (alone or as the fallback)."""
        return self.channels != self.Channels.VIBER_ONLY


class CampaignReport(models.Model):
    """A campaign's figures, aggregated in the database and kept here so the
    report and the campaign list cost the same whatever the campaign's size.

    Refreshed by the engine tick while the campaign sends or callbacks arrive,
    and by the report page itself when a refresh is cheap.
    """

    campaign = models.OneToOneField(
        Campaign, primary_key=True, on_delete=models.CASCADE, related_name="report"
    )
    computed_at = models.DateTimeField()
    compute_seconds = models.FloatField(default=0.0)
    stale = models.BooleanField(
        default=False, help_text="Callbacks arrived since it was computed."
    )
    figures = models.JSONField(default=dict)
    # Copied out of `figures` so the campaign list can sort by them.
    recipients = models.PositiveIntegerField(default=0)
    progress = models.FloatField(null=True, blank=True)
    viber_delivery_rate = models.FloatField(null=True, blank=True)
    fallback_rate = models.FloatField(null=True, blank=True)
    completion_rate = models.FloatField(null=True, blank=True)
    read_rate = models.FloatField(null=True, blank=True)

    def __str__(self):
        return f"Report of {self.campaign_id} at {self.computed_at}"


class Channel(models.TextChoices):
    VIBER = "viber", "Viber"
    SMS = "sms", "SMS"


class Recipient(models.Model):
    """One campaign × contact: the message Telesign is asked to deliver."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        VIBER_DELIVERED = "viber_delivered", "Delivered on Viber"
        SMS_DELIVERED = "sms_delivered", "Delivered by SMS fallback"
        FAILED = "failed", "Failed"
        SUPPRESSED = "suppressed", "Suppressed"
        CANCELLED = "cancelled", "Not sent (campaign cancelled)"

    class SendStatus(models.TextChoices):
        QUEUED = "queued", "Waiting to be sent"
        CLAIMED = "claimed", "Claimed by a worker"
        IN_FLIGHT = "in_flight", "Being sent"
        ACCEPTED = "accepted", "Accepted by Telesign"
        UNCONFIRMED = "unconfirmed", "Unconfirmed (may have reached Telesign)"
        REJECTED = "rejected", "Rejected"
        SKIPPED = "skipped", "Not sent (suppressed)"
        CANCELLED = "cancelled", "Not sent (cancelled)"

    # Still the engine's to send (or being sent): never resent by anyone else.
    ACTIVE_SEND_STATUSES = (SendStatus.QUEUED, SendStatus.CLAIMED, SendStatus.IN_FLIGHT)
    # Sent to Telesign at least once, whatever came back.
    SENT_STATUSES = (SendStatus.ACCEPTED, SendStatus.UNCONFIRMED, SendStatus.REJECTED)

    class SuppressionReason(models.TextChoices):
        OPTED_OUT = "opted_out", "Opted out"
        INVALID = "invalid", "Invalid number"
        DUPLICATE = "duplicate", "Duplicate number"

    class StatusCheckEnd(models.TextChoices):
        """Why Telesign is no longer asked for a message's status."""

        EXPIRED = "expired", "Telesign no longer keeps its status (after 12 hours)"
        UNKNOWN_REFERENCE = "unknown_ref", "Telesign does not know its reference"

    # Indexed by the composite indexes below, which all start with it.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="recipients", db_index=False
    )
    contact = models.ForeignKey(
        Contact,
        on_delete=models.PROTECT,
        related_name="recipients",
        null=True,
        blank=True,
        help_text="Empty only for a test send to a number outside the contacts.",
    )
    phone = models.CharField(max_length=16, help_text="The number as sent (E.164).")
    is_test = models.BooleanField(
        default=False, help_text="A test send: recorded, not counted in results."
    )
    # Uniqueness of these two is declared in Meta.constraints: on PostgreSQL,
    # `unique=True` would add a second, pattern-matching index to each, which
    # nothing here uses and every insert pays for.
    external_id = models.CharField(
        max_length=100,
        help_text="Our id for this message, sent to Telesign and echoed back.",
    )
    reference_id = models.CharField(  # noqa: DJ001 - NULL until Telesign gives one
        "Telesign reference id", max_length=64, null=True, blank=True
    )
    status_code = models.IntegerField(null=True, blank=True)
    status_description = models.CharField(max_length=500, blank=True)
    status_updated_on = models.DateTimeField(null=True, blank=True)
    last_channel = models.CharField(max_length=8, choices=Channel.choices, blank=True)
    outcome = models.CharField(
        max_length=16, choices=Outcome.choices, default=Outcome.PENDING
    )
    suppression_reason = models.CharField(
        max_length=16, choices=SuppressionReason.choices, blank=True
    )
    failure_reason = models.CharField(max_length=500, blank=True)
    send_status = models.CharField(
        max_length=16, choices=SendStatus.choices, default=SendStatus.QUEUED
    )
    send_attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent before this (retry or quiet hours)."
    )
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    opted_out_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person replied to opt out."
    )
    status_checked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When Telesign was last asked for its status (no final "
        "callback had come).",
    )
    status_check_end = models.CharField(
        max_length=16,
        choices=StatusCheckEnd.choices,
        blank=True,
        help_text="Why Telesign is no longer asked for its status.",
    )
    reconciled_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was queued to be sent again: unconfirmed, and no "
        "callback came (SEND_RECONCILE_AFTER).",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "contact"],
                condition=Q(is_test=False),
                name="unique_campaign_contact",
            ),
            models.UniqueConstraint(
                fields=["external_id"], name="unique_recipient_external_id"
            ),
            # Partial, so the rows a launch creates (no reference yet) cost it
            # nothing; the same for the time indexes below.
            models.UniqueConstraint(
                fields=["reference_id"],
                condition=Q(reference_id__isnull=False),
                name="unique_recipient_reference_id",
            ),
            models.CheckConstraint(
                condition=Q(outcome="suppressed") ^ Q(suppression_reason=""),
                name="recipient_suppression_reason_iff_suppressed",
            ),
            models.CheckConstraint(
                condition=Q(is_test=True) | Q(contact__isnull=False),
                name="recipient_contact_unless_test",
            ),
        ]
        indexes = [
            # The engine's claim query: the next queued recipients of a campaign.
            models.Index(
                fields=["campaign", "id"],
                condition=Q(send_status="queued"),
                name="recipient_queued_idx",
            ),
            # Finding claims left behind by a worker that died.
            models.Index(
                fields=["claimed_at"],
                condition=Q(send_status__in=["claimed", "in_flight"]),
                name="recipient_claimed_idx",
            ),
            models.Index(fields=["campaign", "outcome"]),
            models.Index(
                fields=["campaign", "sent_at"],
                condition=Q(sent_at__isnull=False),
                name="recipient_campaign_sent_idx",
            ),
            models.Index(
                fields=["campaign", "delivered_at"],
                condition=Q(delivered_at__isnull=False),
                name="recipient_campaign_deliv_idx",
            ),
            # Accepted messages still waiting for their final status: the
            # ones whose status may have to be asked for (lost callbacks).
            models.Index(
                fields=["campaign", "sent_at"],
                condition=Q(send_status="accepted", outcome="pending"),
                name="recipient_awaiting_status_idx",
            ),
        ]

    def __str__(self):
        return f"{self.phone} · {self.campaign}"


class TestSend(models.Model):
    """One test message: who sent it, to which number, with what text, so an
    approver sees what was tried. Its delivery is tracked on its recipient."""

    # Both indexed by the composite indexes below, which start with them.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="test_sends", db_index=False
    )
    recipient = models.OneToOneField(
        Recipient, on_delete=models.CASCADE, related_name="test_send"
    )
    at = models.DateTimeField(auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    # Kept as text too, so the record survives a deleted user.
    username = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=16)
    sms_text = models.TextField(
        "SMS text", blank=True, help_text="As personalised; empty when none was sent."
    )
    image = models.ForeignKey(
        ImageAsset,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The Viber image; empty for an SMS-only campaign.",
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["campaign", "at"]),
            models.Index(fields=["user", "at"]),
        ]

    def __str__(self):
        return f"Test send to {self.phone} · {self.campaign_id}"


class ChannelAttempt(models.Model):
    """What Telesign reports for one channel of one recipient's cascade."""

    # Indexed by unique_recipient_channel, which starts with it.
    recipient = models.ForeignKey(
        Recipient, on_delete=models.CASCADE, related_name="attempts", db_index=False
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    position = models.PositiveSmallIntegerField(
        help_text="Place in the cascade: 0 for Viber, 1 for the SMS fallback."
    )
    # NULL, not "", while Telesign has not given one (unique when set).
    reference_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    status_code = models.IntegerField(null=True, blank=True)
    status_description = models.CharField(max_length=500, blank=True)
    updated_on = models.DateTimeField(
        null=True, blank=True, help_text="When Telesign last updated this channel."
    )

    class Meta:
        ordering = ["recipient", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel"], name="unique_recipient_channel"
            ),
            models.UniqueConstraint(
                fields=["reference_id"], name="unique_attempt_reference_id"
            ),
        ]
        indexes = [models.Index(fields=["channel", "status_code"])]

    def __str__(self):
        return f"{self.get_channel_display()} · {self.status_code or '—'}"


# Callback events that could not be applied (no recipient yet, or an error):
# the only ones looked up by reference or external id, so the only ones those
# indexes hold.
CALLBACK_UNMATCHED = ["orphan", "failed"]


class CallbackEvent(models.Model):
    """A callback request exactly as Telesign sent it, kept before it is applied."""

    class Kind(models.TextChoices):
        DELIVERY = "delivery", "Delivery status"
        READ = "read", "Read notification"
        INBOUND = "inbound", "Inbound reply"
        # Not a callback: Telesign's answer when we asked for the status.
        STATUS_CHECK = "status_check", "Status check (our request)"
        UNKNOWN = "unknown", "Unknown"

    class Signature(models.TextChoices):
        VALID = "valid", "Valid"
        UNSIGNED_ALLOWED = "unsigned_allowed", "Unsigned (allowed by setting)"
        FETCHED = "fetched", "Fetched by us from Telesign"

    class Processing(models.TextChoices):
        RECEIVED = "received", "Received"
        APPLIED = "applied", "Applied"
        ORPHAN = "orphan", "Waiting for its recipient"
        FAILED = "failed", "Failed"
        IGNORED = "ignored", "Ignored"

    received_at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8)
    headers = models.JSONField(default=dict)
    raw_body = models.BinaryField()
    # SHA-256 of raw_body: an identical body is stored once, and each further
    # copy only counts (received_count, last_received_at). Empty on events
    # stored before copies were counted.
    body_sha256 = models.BinaryField(max_length=32, null=True, editable=False)
    received_count = models.PositiveIntegerField(
        default=1, help_text="Copies of this exact body received."
    )
    last_received_at = models.DateTimeField(
        null=True, blank=True, help_text="When the last copy arrived."
    )
    signature = models.CharField(max_length=16, choices=Signature.choices)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.UNKNOWN)
    processing = models.CharField(
        max_length=16, choices=Processing.choices, default=Processing.RECEIVED
    )
    error = models.TextField(blank=True)
    status_code = models.IntegerField(
        null=True, blank=True, help_text="The raw status code, known or not."
    )
    reference_id = models.CharField(max_length=64, blank=True)
    external_id = models.CharField(max_length=100, blank=True)
    recipient = models.ForeignKey(
        Recipient,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="callback_events",
        db_index=False,  # callback_recipient_idx
    )

    UNMATCHED = CALLBACK_UNMATCHED

    # Nearly every event ends "applied" and is then only read through its
    # recipient, so the other indexes hold just the events still to be dealt
    # with: storing a callback writes two index entries, not five.
    class Meta:
        ordering = ["-id"]  # received order, served by the primary key
        indexes = [
            models.Index(
                fields=["processing", "id"],
                condition=~Q(processing="applied"),
                name="callback_unapplied_idx",
            ),
            models.Index(
                fields=["reference_id"],
                condition=Q(processing__in=CALLBACK_UNMATCHED),
                name="callback_unmatched_ref_idx",
            ),
            models.Index(
                fields=["external_id"],
                condition=Q(processing__in=CALLBACK_UNMATCHED),
                name="callback_unmatched_ext_idx",
            ),
            models.Index(
                fields=["recipient"],
                condition=Q(recipient__isnull=False),
                name="callback_recipient_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["body_sha256"], name="callback_body_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference_id or ''}".strip()

    @staticmethod
    def body_digest(body: bytes) -> bytes:
        """What `body_sha256` holds for a raw body: set it on an event to have
        an identical body stored once (the INSERT then conflicts)."""
        return hashlib.sha256(body).digest()


class EngineState(models.Model):
    """One row: when the engine's periodic tick last ran (so only one chain runs)."""

    last_tick_at = models.DateTimeField(null=True, blank=True)
    # The last callback event whose campaign's report was marked stale.
    report_event_mark = models.BigIntegerField(default=0)
    # Status checks of messages whose callbacks did not come: how many were
    # asked, answered with a status, and ended (expired or unknown), and the
    # last problem (numbers only: shown on /health/).
    status_checks_asked = models.BigIntegerField(default=0)
    status_checks_found = models.BigIntegerField(default=0)
    status_checks_ended = models.BigIntegerField(default=0)
    status_check_last_at = models.DateTimeField(null=True, blank=True)
    status_check_problem = models.CharField(max_length=200, blank=True)
    status_check_problem_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Engine tick at {self.last_tick_at}"


class AuditEntry(models.Model):
    """Who did what to which campaign, when, from where. Written by services,
    never changed: the admin shows it read-only to everyone."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        APPROVED = "approved", "Approved"
        APPROVAL_WITHDRAWN = "approval_withdrawn", "Approval withdrawn"
        TEST_SENT = "test_sent", "Test-sent"
        LAUNCHED = "launched", "Launched"
        SCHEDULED = "scheduled", "Scheduled"
        NOT_STARTED = "not_started", "Not started at its scheduled time"
        PAUSED = "paused", "Paused"
        RESUMED = "resumed", "Resumed"
        CANCELLED = "cancelled", "Cancelled"
        EXPORTED = "exported", "Exported"
        FOLLOW_UP_CREATED = "follow_up_created", "Follow-up created"
        RECONCILED = "reconciled", "Unconfirmed messages sent again"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as text too, so the trail survives a deleted user or campaign.
    username = models.CharField(
        max_length=150, help_text="Empty when the system itself acted."
    )
    action = models.CharField(max_length=24, choices=Action.choices)
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    campaign_name = models.CharField(max_length=200, blank=True)
    detail = models.TextField(blank=True)
    remote_addr = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name_plural = "audit trail"
        indexes = [models.Index(fields=["campaign", "at"])]

    def __str__(self):
        who = self.username or "system"
        return f"{self.at:%Y-%m-%d %H:%M} {who} {self.action} {self.campaign_name}"


class LoginThrottle(models.Model):
    """Admin sign-in attempts counted for one key, to slow down password
    guessing (services/login_throttle.py). Counted before the password is
    checked, with one UPDATE each, so parallel attempts cannot overrun a limit."""

    class Scope(models.TextChoices):
        USER_AT_ADDRESS = "user_at_address", "A username from one address"
        ADDRESS = "address", "One address, any username"
        USER = "user", "A username from any address"

    scope = models.CharField(max_length=16, choices=Scope.choices)
    key = models.CharField(max_length=200)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField()
    # For a username under attack from many addresses: no attempt before this.
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "key"], name="login_throttle_scope_key_unique"
            ),
        ]
        indexes = [models.Index(fields=["last_attempt_at"])]

    def __str__(self):
        return f"{self.get_scope_display()} {self.key}: {self.attempts}"


class UserPreference(models.Model):
    """What one person chooses for themselves: the time zone they enter and
    read times in (blank: the workspace's, WORKSPACE_TIME_ZONE)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="preference",
    )
    time_zone = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"{self.user}: {self.time_zone or 'workspace time zone'}"


class WorkerHeartbeat(models.Model):
    """A running task worker, seen at `last_seen_at` (see `run_worker`)."""

    name = models.CharField(max_length=128, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_seen_at"]

    def __str__(self):
        return self.name


class InboundMessage(models.Model):
    """A reply from a recipient (Viber or SMS), with what it did."""

    class Action(models.TextChoices):
        NONE = "none", "Stored"
        OPT_OUT = "opt_out", "Opted out"
        OPT_IN = "opt_in", "Opted back in"

    received_at = models.DateTimeField(auto_now_add=True)
    phone = models.CharField(max_length=16)
    text = models.TextField(blank=True)
    action = models.CharField(max_length=8, choices=Action.choices, default=Action.NONE)
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recipient = models.ForeignKey(
        Recipient, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    event = models.ForeignKey(CallbackEvent, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.phone}: {self.text[:40]}"


class CallbackRejection(models.Model):
    """Callbacks refused before parsing, counted per day and reason.

    Only counts and the last sender are kept: an unauthenticated body is
    never stored or acted on.
    """

    day = models.DateField()
    reason = models.CharField(max_length=32)
    count = models.PositiveIntegerField(default=0)
    last_at = models.DateTimeField()
    last_remote_addr = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-day", "reason"]
        constraints = [
            models.UniqueConstraint(
                fields=["day", "reason"], name="unique_rejection_day"
            )
        ]

    def __str__(self):
        return f"{self.day} {self.reason}: {self.count}"
