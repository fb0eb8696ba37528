"""The real Telesign API: the client, request signing, callback parsing and
the status-code table. The only code that speaks HTTP to Telesign; the local
stand-in used without credentials lives apart, in the top-level `sandbox`
package."""

from .client import (
    OmnichannelMessage,
    PayloadRefused,
    SendResult,
    SendStatus,
    TelesignClient,
    encode_payload,
    omnichannel_payload,
)
from .codes import CodeKind, StatusCode, status_code_info
from .config import client_from_settings, telesign_uses_sandbox
from .status import StatusCheck, StatusCheckResult

__all__ = [
    "CodeKind",
    "OmnichannelMessage",
    "PayloadRefused",
    "SendResult",
    "SendStatus",
    "StatusCheck",
    "StatusCheckResult",
    "StatusCode",
    "TelesignClient",
    "client_from_settings",
    "encode_payload",
    "omnichannel_payload",
    "status_code_info",
    "telesign_uses_sandbox",
]
