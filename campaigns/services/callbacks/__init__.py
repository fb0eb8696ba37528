"""Applying Telesign's callbacks: lossless, idempotent and order-proof.

Every authenticated request is stored raw first (CallbackEvent), then applied,
at once or by the batch applier (CALLBACK_APPLY). A report never moves a
recipient or a channel attempt backwards, so duplicates change nothing and any
order of the same reports ends in the same state.

- `receive`: refuse (size, signature) or store a request; says what happened
  as a `CallbackReceived`, the API view turns it into HTTP.
- `merge`: the pure rules (`supersedes`, status precedence, the outcome).
- `apply`: one stored event; `replies`: inbound replies and opt-out keywords.
- `batch`: the deferred applier; `reprocess`: applying stored events again.
- `status_check`: asking Telesign about messages whose callbacks never came,
  and merging its answers by the same rules.
"""

from .apply import (
    EVENT_FIELDS,
    callback_event_apply,
    delivery_report_apply,
    parsed_callback_apply,
)
from .batch import callback_events_apply_batch, callbacks_apply_pending
from .merge import (
    ATTEMPT_FIELDS,
    DELIVERED_KINDS,
    RECIPIENT_CALLBACK_FIELDS,
    report_merge,
    status_rank,
    supersedes,
)
from .receive import (
    STORED_HEADERS,
    CallbackOutcome,
    CallbackReceived,
    callback_authenticate,
    callback_event_store,
    callback_receive,
    callback_rejection_count,
    callback_request_receive,
    callback_store,
)
from .replies import inbound_reply_apply
from .reprocess import (
    callback_events_reprocess,
    callback_orphans_apply,
    recipient_rebuild_from_events,
)
from .status_check import (
    StatusChecks,
    recipient_status_check_end,
    recipients_status_check,
    recipients_status_check_due,
    status_answer_store,
)

__all__ = [
    "ATTEMPT_FIELDS",
    "DELIVERED_KINDS",
    "EVENT_FIELDS",
    "RECIPIENT_CALLBACK_FIELDS",
    "STORED_HEADERS",
    "CallbackOutcome",
    "CallbackReceived",
    "StatusChecks",
    "callback_authenticate",
    "callback_event_apply",
    "callback_event_store",
    "callback_events_apply_batch",
    "callback_events_reprocess",
    "callback_orphans_apply",
    "callback_receive",
    "callback_rejection_count",
    "callback_request_receive",
    "callback_store",
    "callbacks_apply_pending",
    "delivery_report_apply",
    "inbound_reply_apply",
    "parsed_callback_apply",
    "recipient_rebuild_from_events",
    "recipient_status_check_end",
    "recipients_status_check",
    "recipients_status_check_due",
    "report_merge",
    "status_answer_store",
    "status_rank",
    "supersedes",
]
