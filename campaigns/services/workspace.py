"""Writes of the campaign workspace: images, contacts, audience imports, logins."""

import hashlib
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlparse

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from ..audience_csv import AudienceFileError, ParsedAudienceCsv, audience_csv_parse
from ..external_urls import public_https_url_check
from ..images import image_prepare
from ..models import (
    Audience,
    AudienceImport,
    AudienceMember,
    Contact,
    ImageAsset,
    ImageFormat,
    OptOutSource,
)
from ..sms import contact_fields_changed
from .errors import DomainError
from .governance import (
    Actor,
    campaigns_audience_grew,
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


# --- Audience import ----------------------------------------------------------


def audience_import_check(
    *, audience: Audience, file_name: str, content: bytes, user=None
) -> tuple[AudienceImport, ParsedAudienceCsv]:
    """Store an uploaded CSV for review and parse it; nothing else is written.

    Raises audience_csv.AudienceFileError when the file cannot be read at all.
    """
    if len(content) > settings.AUDIENCE_CSV_MAX_BYTES:
        limit_mb = settings.AUDIENCE_CSV_MAX_BYTES // (1024 * 1024)
        raise AudienceFileError(
            f"The file is larger than {limit_mb} MB; split it into smaller files."
        )
    parsed = audience_csv_parse(content, default_region=settings.DEFAULT_PHONE_REGION)
    audience_import = AudienceImport.objects.create(
        audience=audience,
        file_name=file_name[:255],
        content=content,
        checksum=hashlib.sha256(content).hexdigest(),
        rows_total=parsed.rows_total,
        rows_valid=len(parsed.rows),
        rows_rejected=len(parsed.rejected),
        uploaded_by=user,
    )
    return audience_import, parsed


def audience_import_parse(*, audience_import: AudienceImport) -> ParsedAudienceCsv:
    return audience_csv_parse(
        bytes(audience_import.content), default_region=settings.DEFAULT_PHONE_REGION
    )


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _import_contacts_write(rows_by_phone: dict) -> tuple[list, dict[int, set[str]]]:
    """Create the file's new numbers and give known ones the file's name and
    attributes; returns the new contacts and, per changed contact, which of
    its fields changed."""
    phones = list(rows_by_phone)
    existing: dict[str, Contact] = {}
    for chunk in _chunks(phones, BULK_BATCH_SIZE):
        existing.update((c.phone, c) for c in Contact.objects.filter(phone__in=chunk))
    new_contacts = [
        Contact(phone=phone, name=row.name, attributes=row.attributes)
        for phone, row in rows_by_phone.items()
        if phone not in existing
    ]
    Contact.objects.bulk_create(
        new_contacts, batch_size=BULK_BATCH_SIZE, ignore_conflicts=True
    )

    changed: list[Contact] = []
    fields_changed: dict[int, set[str]] = {}
    now = timezone.now()
    for phone, contact in existing.items():
        row = rows_by_phone[phone]
        merged = {**contact.attributes, **row.attributes}
        name = row.name or contact.name
        if merged != contact.attributes or name != contact.name:
            before = Contact(
                phone=phone, name=contact.name, attributes=contact.attributes
            )
            contact.attributes, contact.name, contact.updated_at = merged, name, now
            changed.append(contact)
            if fields := contact_fields_changed(before, contact):
                fields_changed[contact.pk] = fields
    for chunk in _chunks(changed, BULK_BATCH_SIZE):
        Contact.objects.bulk_update(chunk, ["attributes", "name", "updated_at"])
    return new_contacts, fields_changed


def _import_members_add(*, audience, phones: list[str]) -> int:
    """Put every number of the file in the audience; returns how many joined."""
    contact_ids: list[int] = []
    for chunk in _chunks(phones, BULK_BATCH_SIZE):
        contact_ids += Contact.objects.filter(phone__in=chunk).values_list(
            "id", flat=True
        )
    members = AudienceMember.objects.filter(audience=audience)
    count_before = members.count()
    AudienceMember.objects.bulk_create(
        [AudienceMember(audience=audience, contact_id=cid) for cid in contact_ids],
        batch_size=BULK_BATCH_SIZE,
        ignore_conflicts=True,
    )
    return members.count() - count_before


@transaction.atomic
def audience_import_confirm(
    *, audience_import: AudienceImport, actor: Actor | None = None
) -> AudienceImport:
    """Write every valid row of a checked import, all at once or not at all.

    New numbers become contacts; known numbers keep their opt-out and gain the
    file's name and attributes; every row joins the audience. Importing the
    same file again adds nothing. Approvals of campaigns not yet started are
    withdrawn where the import changes what they would send: the audience
    grew, or contacts they message got new values for fields their text uses.
    """
    audience_import = AudienceImport.objects.select_for_update().get(
        pk=audience_import.pk
    )
    if audience_import.status != AudienceImport.Status.CHECKED:
        raise DomainError(
            f"This import is already {audience_import.get_status_display().lower()}."
        )
    parsed = audience_import_parse(audience_import=audience_import)
    rows_by_phone = {row.phone: row for row in parsed.rows}
    phones = list(rows_by_phone)

    new_contacts, fields_changed = _import_contacts_write(rows_by_phone)
    members_added = _import_members_add(
        audience=audience_import.audience, phones=phones
    )
    audience_import.status = AudienceImport.Status.IMPORTED
    audience_import.imported_at = timezone.now()
    audience_import.contacts_created = len(new_contacts)
    audience_import.members_added = members_added
    audience_import.save(
        update_fields=["status", "imported_at", "contacts_created", "members_added"]
    )
    if audience_import.members_added:
        campaigns_audience_grew(
            audience=audience_import.audience,
            added=audience_import.members_added,
            actor=actor,
        )
    campaigns_contacts_changed(
        changes=fields_changed,
        actor=actor,
        what=f"were given new values by an import into “{audience_import.audience}”",
    )
    logger.info(
        "audience import %s: %s contacts created, %s members added",
        audience_import.pk,
        audience_import.contacts_created,
        audience_import.members_added,
    )
    return audience_import


def audience_import_discard(*, audience_import: AudienceImport) -> None:
    updated = AudienceImport.objects.filter(
        pk=audience_import.pk, status=AudienceImport.Status.CHECKED
    ).update(status=AudienceImport.Status.DISCARDED, content=b"")
    if not updated:
        raise DomainError("Only an import waiting for confirmation can be discarded.")


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
