"""Admin forms: they translate input and call validation helpers; no business rules."""

import json
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.utils import timezone

from .external_urls import UrlRejected, public_https_url_check
from .images import ImageRejected, image_prepare
from .models import Campaign, Contact, ImageAsset
from .phones import PhoneNumberError, phone_normalize, phone_region_choices
from .selectors import sms_text_problems
from .services.governance import client_address
from .services.login_throttle import login_attempt_begin, login_attempt_succeeded
from .services.sending import MAX_TEST_NUMBERS
from .sms import sms_segments


class ImageAssetForm(forms.ModelForm):
    upload = forms.FileField(
        required=False,
        label="Image file",
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"}),
    )

    class Meta:
        model = ImageAsset
        fields = ["name", "upload", "external_url"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "upload" in self.fields:
            limit_mb = settings.IMAGE_MAX_BYTES / (1024 * 1024)
            self.fields[
                "upload"
            ].help_text = f"A JPEG or PNG image, at most {limit_mb:.1f} MB."
        if self.instance.pk:
            # A sent image must stay what recipients saw: replace by adding a new one.
            # (A read-only change page, for Approvers and Viewers, has no fields.)
            self.fields.pop("upload", None)
            if "external_url" in self.fields:
                self.fields["external_url"].disabled = True

    def clean_external_url(self):
        url = self.cleaned_data["external_url"].strip()
        if not url:
            return url
        try:
            url = public_https_url_check(url)
        except UrlRejected as exc:
            raise forms.ValidationError(str(exc)) from exc
        if not urlsplit(url).path.lower().endswith((".jpg", ".jpeg", ".png")):
            raise forms.ValidationError(
                "The address must end in .jpg, .jpeg or .png so Viber accepts it."
            )
        return url

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk:
            return cleaned
        upload = cleaned.get("upload")
        external_url = cleaned.get("external_url")
        if upload and external_url:
            raise forms.ValidationError(
                "Upload a file or give an external address, not both."
            )
        if not upload and not external_url and not self.has_error("external_url"):
            raise forms.ValidationError(
                "Upload a JPEG or PNG image, or give the https address of one."
            )
        if upload:
            if upload.size > settings.IMAGE_MAX_BYTES:
                self.add_error(
                    "upload",
                    f"The file is {upload.size / (1024 * 1024):.1f} MB; images may "
                    f"be at most {settings.IMAGE_MAX_BYTES / (1024 * 1024):.1f} MB.",
                )
                return cleaned
            # Checked by content here; stored only once the form is valid, by
            # the service the admin's save calls (services.image_asset_save).
            data = upload.read()
            upload.seek(0)
            try:
                image_prepare(data)
            except ImageRejected as exc:
                self.add_error("upload", str(exc))
        return cleaned


# Contact attributes are names and values; nothing a spreadsheet or a person
# writes nests deeper than this, and deeper JSON is refused before it is used.
ATTRIBUTES_MAX_DEPTH = 20


class _DepthSafeJSONDecoder(json.JSONDecoder):
    """JSON nested beyond what the parser can follow is invalid JSON, not a
    RecursionError (the form reads it again to show it back)."""

    def decode(self, s, *args, **kwargs):
        try:
            return super().decode(s, *args, **kwargs)
        except RecursionError:
            raise json.JSONDecodeError("nested too deeply", s, 0) from None


class AttributesField(forms.JSONField):
    default_error_messages = {
        "invalid": "Enter valid JSON: an object of names and values, e.g. "
        '{"first_name": "Ana"}.'
    }

    def __init__(self, **kwargs):
        kwargs["decoder"] = kwargs.get("decoder") or _DepthSafeJSONDecoder
        super().__init__(**kwargs)


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["phone", "name", "attributes"]
        field_classes = {"attributes": AttributesField}

    def clean_phone(self):
        try:
            return phone_normalize(
                self.cleaned_data["phone"],
                default_region=settings.DEFAULT_PHONE_REGION,
            )
        except PhoneNumberError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_attributes(self):
        attributes = self.cleaned_data["attributes"] or {}
        if not isinstance(attributes, dict):
            raise forms.ValidationError(
                "Attributes must be an object of names and values, e.g. "
                '{"first_name": "Ana"}.'
            )
        problem = _attributes_problem(attributes)
        if problem:
            raise forms.ValidationError(problem)
        return attributes


def _attributes_problem(attributes: dict) -> str:
    """Why `attributes` cannot be kept (a NUL, which PostgreSQL refuses, or
    nesting beyond ATTRIBUTES_MAX_DEPTH), or ""; read without recursion."""
    stack = [(attributes, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > ATTRIBUTES_MAX_DEPTH:
            return f"Attributes may nest at most {ATTRIBUTES_MAX_DEPTH} levels deep."
        if isinstance(value, str) and "\x00" in value:
            return "Attributes cannot contain the invisible NUL character (\\u0000)."
        if isinstance(value, dict):
            stack += [(item, depth + 1) for pair in value.items() for item in pair]
        elif isinstance(value, list):
            stack += [(item, depth + 1) for item in value]
    return ""


class CampaignForm(forms.ModelForm):
    class Meta:
        model = Campaign
        fields = list(Campaign.CONTENT_FIELDS)
        widgets = {
            "sms_text": forms.Textarea(
                attrs={"rows": 4, "cols": 60, "data-sms-counter": "1"}
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "scheduled_at" in self.fields:
            # Entered in the page's time zone (the workspace's), said by name.
            zone = timezone.get_current_timezone_name()
            self.fields[
                "scheduled_at"
            ].help_text = f"Date and time in {zone}. Empty: start on launch."

    def clean_sms_text(self):
        # Browsers post line breaks as "\r\n"; the SMS carries one "\n", as the
        # live counter counts it.
        return (self.cleaned_data.get("sms_text") or "").replace("\r\n", "\n")

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("sms_fallback_enabled")
            and not (cleaned.get("sms_text") or "").strip()
        ):
            self.add_error(
                "sms_text",
                "Write the SMS text, or turn the SMS fallback off.",
            )
        if cleaned.get("sms_only") and not (cleaned.get("sms_text") or "").strip():
            self.add_error("sms_text", "An SMS-only campaign needs its SMS text.")
        if (cleaned.get("send_window_start") is None) != (
            cleaned.get("send_window_end") is None
        ):
            self.add_error(
                "send_window_end",
                "Set both ends of the sending window, or neither.",
            )
        text = cleaned.get("sms_text") or ""
        if text and sms_segments(text).segments > 10:
            self.add_error(
                "sms_text",
                "The SMS text is longer than 10 segments; shorten it.",
            )
        sends_sms = cleaned.get("sms_fallback_enabled") or cleaned.get("sms_only")
        if text and sends_sms and "audiences" in cleaned:
            for problem in sms_text_problems(text=text, audiences=cleaned["audiences"]):
                self.add_error("sms_text", problem)
        return cleaned


class AudienceImportUploadForm(forms.Form):
    region = forms.ChoiceField(
        label="Country",
        choices=phone_region_choices,
        required=False,
        help_text="Numbers without a country code are read as this country's; "
        "numbers with their country code are accepted with or without “+”.",
    )
    file = forms.FileField(
        label="CSV file",
        help_text="A “phone” column is required; “name” and any other columns "
        "become contact fields usable in personalisation.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].initial = settings.DEFAULT_PHONE_REGION

    def clean_region(self):
        return self.cleaned_data["region"] or settings.DEFAULT_PHONE_REGION

    def clean_file(self):
        # By the size the upload handlers counted, before anything reads it.
        upload = self.cleaned_data["file"]
        if upload.size > settings.AUDIENCE_CSV_MAX_BYTES:
            limit_mb = settings.AUDIENCE_CSV_MAX_BYTES / (1024 * 1024)
            raise forms.ValidationError(
                f"The file is larger than {limit_mb:g} MB; split it into smaller files."
            )
        return upload


class AudienceImportConfirmForm(forms.Form):
    """What to do with contacts the file already knows. Keeping them is the
    default: a file is most often a list of whom to reach, and its names and
    fields may be older or rougher than what the contacts hold."""

    KEEP, UPDATE = "keep", "update"
    existing = forms.ChoiceField(
        label="Contacts already known",
        choices=[
            (KEEP, "Keep their name and fields; only add them to the audience"),
            (UPDATE, "Update them with the file's name and fields"),
        ],
        initial=KEEP,
        required=False,
        widget=forms.RadioSelect,
    )

    @property
    def update_existing(self) -> bool:
        return self.cleaned_data["existing"] == self.UPDATE


class TestSendForm(forms.Form):
    phones = forms.CharField(
        label="Phone numbers",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        help_text=f"Up to {MAX_TEST_NUMBERS} numbers, one per line or separated by "
        "commas.",
    )

    def clean_phones(self):
        raw = self.cleaned_data["phones"].replace(",", "\n").splitlines()
        return [line.strip() for line in raw if line.strip()]


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label="Time zone", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            ("", f"The workspace's ({settings.WORKSPACE_TIME_ZONE})"),
            *((name, name) for name in sorted(available_timezones())),
        ]


class ThrottledAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin login, counting every password check first and refusing it
    for a while after too many (services/login_throttle.py)."""

    def clean(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if not (username and self.cleaned_data.get("password")):
            return super().clean()  # no password is checked: nothing to count
        address = client_address(self.request)
        wait = login_attempt_begin(username=username, remote_addr=address)
        if wait:
            later = (
                f"{wait} second(s)"
                if wait < 90
                else f"{max(1, round(wait / 60))} minute(s)"
            )
            raise ValidationError(
                f"Too many failed sign-ins. Try again in {later}.", code="throttled"
            )
        # A refusal (wrong password, inactive account) leaves the attempt counted.
        cleaned = super().clean()
        login_attempt_succeeded(username=username, remote_addr=address)
        return cleaned
