"""Writes of the campaign workspace: images, contacts, audiences, logins.

Audience CSV imports are in `audience_imports`."""

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ..external_urls import public_https_url_check
from ..images import image_prepare
from ..models import (
    Audience,
    Contact,
    ImageAsset,
    ImageFormat,
    OptOutSource,
)
from ..sms import contact_fields_changed
from .governance import (
    Actor,
    campaigns_audience_removed,
    campaigns_contacts_changed,
)

logger = logging.getLogger(__name__)

# Rows written per INSERT; keeps statements well under SQLite's variable limit.
BULK_BATCH_SIZE = 500


# --- Image library ----------------------------------------------------------


def image_asset_fill_from_upload(
    *, asset: ImageAsset, data: bytes, file_name: str
) -> ImageAsset:
    """Validate `data` by content and attach it to `asset` (not yet saved).

    What is stored is the re-encoded image (images.image_prepare): upright,
    without metadata or anything appended, never the uploaded bytes.
    Raises images.ImageRejected with a message for the marketer.
    """
    image = image_prepare(data)
    asset.format = image.format
    asset.width = image.width
    asset.height = image.height
    asset.bytes = image.bytes
    asset.checksum = image.checksum
    asset.external_url = ""
    # The stored name follows the real format, whatever the upload was called.
    stem = (file_name.rsplit(".", 1)[0] or "image")[:80]
    asset.file.save(f"{stem}.{asset.extension}", ContentFile(image.data), save=False)
    return asset


def image_asset_create(*, name: str, data: bytes, file_name: str) -> ImageAsset:
    asset = ImageAsset(name=name)
    image_asset_fill_from_upload(asset=asset, data=data, file_name=file_name)
    asset.save()
    return asset


def image_asset_save(
    *, asset: ImageAsset, data: bytes | None = None, file_name: str = ""
) -> ImageAsset:
    """Save an image of the library once its form has been validated.

    Storing the uploaded file (`data`) happens here and never while a form is
    validated, so a refused form leaves no file behind. A new image hosted
    elsewhere takes its format from its address's extension. Raises
    images.ImageRejected if `data` is not a usable image after all, and
    external_urls.UrlRejected if the address may not be used.
    """
    if data is not None:
        image_asset_fill_from_upload(asset=asset, data=data, file_name=file_name)
    elif asset.pk is None and asset.external_url:
        asset.external_url = public_https_url_check(asset.external_url)
        lower = urlparse(asset.external_url).path.lower()
        asset.format = ImageFormat.PNG if lower.endswith(".png") else ImageFormat.JPEG
    asset.save()
    return asset


# --- Contacts ---------------------------------------------------------------


def contacts_opt_out(
    *, contact_ids, source: str = OptOutSource.ADMIN, actor: Actor | None = None
) -> int:
    """Opt contacts out now; returns how many were not opted out before.

    Done by someone (not by the person's own reply), it withdraws approvals
    of campaigns not started that would have messaged them.
    """
    ids = list(
        Contact.objects.filter(
            id__in=contact_ids, opted_out_at__isnull=True
        ).values_list("id", flat=True)
    )
    count = Contact.objects.filter(id__in=ids, opted_out_at__isnull=True).update(
        opted_out_at=timezone.now(), opt_out_source=source, updated_at=timezone.now()
    )
    if source != OptOutSource.REPLY:
        campaigns_contacts_changed(
            changes=dict.fromkeys(ids), actor=actor, what="were opted out"
        )
    return count


def contacts_opt_in(
    *, contact_ids, source: str = OptOutSource.ADMIN, actor: Actor | None = None
) -> int:
    """Clear the opt-out of contacts; returns how many were opted out before.

    Done by someone (not by the person's own reply), it withdraws approvals
    of campaigns not started that would now message them.
    """
    ids = list(
        Contact.objects.filter(
            id__in=contact_ids, opted_out_at__isnull=False
        ).values_list("id", flat=True)
    )
    count = Contact.objects.filter(id__in=ids, opted_out_at__isnull=False).update(
        opted_out_at=None, opt_out_source="", updated_at=timezone.now()
    )
    if source != OptOutSource.REPLY:
        campaigns_contacts_changed(
            changes=dict.fromkeys(ids), actor=actor, what="were opted back in"
        )
    return count


def contact_save(*, contact: Contact, actor: Actor | None = None) -> Contact:
    """Save a contact edited by hand. A new number, or a field a campaign's
    text uses, withdraws the approval of campaigns not started that message it."""
    before = Contact.objects.filter(pk=contact.pk).first() if contact.pk else None
    contact.save()
    if before is not None:
        fields = contact_fields_changed(before, contact)
        if fields:
            who_changed = before.phone != contact.phone
            campaigns_contacts_changed(
                changes={contact.pk: None if who_changed else fields},
                actor=actor,
                what="were edited",
            )
    return contact


def contacts_delete(*, contacts, actor: Actor | None = None) -> int:
    """Delete contacts; approvals of campaigns not started that would have
    messaged them are withdrawn. Returns how many were deleted."""
    ids = list(contacts.values_list("id", flat=True))
    with transaction.atomic():
        campaigns_contacts_changed(
            changes=dict.fromkeys(ids), actor=actor, what="were deleted"
        )
        deleted = Contact.objects.filter(id__in=ids).delete()
    return deleted[1].get(Contact._meta.label, 0)


def audiences_delete(*, audiences, actor: Actor | None = None) -> int:
    """Delete audiences; approvals of campaigns not started that message them
    are withdrawn. Returns how many were deleted."""
    with transaction.atomic():
        for audience in audiences:
            campaigns_audience_removed(audience=audience, actor=actor)
        deleted = Audience.objects.filter(
            id__in=[audience.pk for audience in audiences]
        ).delete()
    return deleted[1].get(Audience._meta.label, 0)


# --- Logins -------------------------------------------------------------------


@dataclass(frozen=True)
class EnsuredLogin:
    username: str
    role: str
    password: str | None  # set only when the login was created just now


def logins_ensure() -> list[EnsuredLogin]:
    """Create an admin and a marketer login unless they exist, with random passwords."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    User = get_user_model()
    wanted = [("admin", "administrator", True), ("marketer", "Marketer", False)]
    result = []
    for username, role, is_superuser in wanted:
        if User.objects.filter(username=username).exists():
            result.append(EnsuredLogin(username, role, None))
            continue
        password = secrets.token_urlsafe(12)
        if is_superuser:
            User.objects.create_superuser(username=username, password=password)
        else:
            user = User.objects.create_user(
                username=username, password=password, is_staff=True
            )
            user.groups.add(Group.objects.get(name=role))
        result.append(EnsuredLogin(username, role, password))
    return result
