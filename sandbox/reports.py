"""Delivery reports in Telesign's messaging callback schema.

The shape follows Telesign's Viber image guide: an overall `status` with
`last_channel`, and one `channel_status` entry per channel tried, each with
its own reference. Descriptions come from the app's own code table.
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from campaigns.telesign.codes import status_code_info


def new_reference_id() -> str:
    """32 upper-case hex characters, like Telesign's."""
    return uuid.uuid4().hex.upper()


@dataclass(frozen=True)
class ChannelReferences:
    """The per-channel references of one message, fixed for all its reports."""

    viber: str = field(default_factory=new_reference_id)
    sms: str = field(default_factory=new_reference_id)


def provider_timestamp(moment: datetime, *, colon_millis: bool) -> str:
    # Telesign's examples show both "22:07:01:226" and "22:05:00.325".
    millis = f"{moment.microsecond // 1000:03d}"
    separator = ":" if colon_millis else "."
    return moment.strftime("%Y-%m-%d %H:%M:%S") + separator + millis


def delivery_report(
    *,
    reference_id: str,
    external_id: str | None,
    references: ChannelReferences,
    viber_code: int | None,
    sms_code: int | None,
    at: datetime,
) -> dict:
    """One callback body: the channels reached so far, the last one overall."""
    channel_status = []
    if viber_code is not None:
        viber_entry = {
            **_described(viber_code),
            "reference_id": references.viber,
            "updated_on": provider_timestamp(at, colon_millis=False),
        }
        channel_status.append({"viber": viber_entry})
    if sms_code is not None:
        sms_entry = {
            **_described(sms_code),
            "updated_on": provider_timestamp(at, colon_millis=False),
        }
        # Telesign leaves out a channel's reference while it is still 3001.
        if sms_code != 3001:
            sms_entry["reference_id"] = references.sms
        channel_status.append({"sms": sms_entry})
        overall, last_channel = sms_code, "sms"
    else:
        overall, last_channel = viber_code, "viber"
    return {
        "reference_id": reference_id,
        "external_id": external_id,
        "status": {
            **_described(overall),
            "last_channel": last_channel,
            "updated_on": provider_timestamp(at, colon_millis=True),
        },
        "channel_status": channel_status,
    }


def _described(code: int) -> dict:
    return {"code": code, "description": status_code_info(code).description}
