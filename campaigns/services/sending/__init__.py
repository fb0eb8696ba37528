"""The sending engine: launch, claim, pace, send, record; pause, resume, cancel.

- `launch`: the launch checks, scheduling, materialising the recipients.
- `lifecycle`: pause, resume and cancel, by a person or by the engine.
- `claims`: which worker sends which recipient; quiet hours; dead workers.
- `slots`: send slots on the campaign row, which keep its rate across workers.
- `messages`: the Telesign message for one recipient.
- `results`: Telesign's answers recorded; auto-pause; completion.
- `reconcile`: unconfirmed recipients no callback came for, sent again.
- `loop`: `SendLoop`, one worker sending one campaign.
- `test_send`: a campaign sent now to a few numbers.
- `scheduling`: the only module that queues tasks.

The periodic tick that starts scheduled campaigns and recovers dead workers
is `campaigns.services.engine`, which uses this package.
"""

from .claims import (
    ClaimedRecipient,
    claims_expire,
    recipients_claim,
    recipients_claim_sendable,
    recipients_due,
    recipients_release,
    recipients_unsent_release,
    worker_identity,
)
from .launch import (
    LaunchResult,
    campaign_content_problems,
    campaign_launch,
    campaign_launch_problems,
    recipients_materialise,
    scheduled_campaigns_start,
)
from .lifecycle import (
    campaign_cancel,
    campaign_pause,
    campaign_pause_by_engine,
    campaign_pause_for_credentials,
    campaign_resume,
)
from .loop import SendLoop, SendRunSummary, campaign_send_run, campaign_send_slice
from .messages import (
    EMPTY_SMS_REASON,
    callback_url,
    campaign_message,
    campaign_sms_text,
    recipients_empty_sms_fail,
)
from .reconcile import (
    Reconciled,
    recipients_reconcile,
    recipients_unreported,
    reconcile_wait,
)
from .results import (
    ACTIVE_SEND_STATUSES,
    RESULT_COLUMNS,
    RS,
    campaign_auto_pause_check,
    campaign_complete_if_done,
    orphans_for_references_apply,
    send_results_record,
)
from .scheduling import (
    engine_tick_enqueue,
    engine_tick_ensure,
    send_tasks_enqueue,
    task_entry_points_register,
)
from .slots import (
    MAX_LATENESS,
    RATE_HEADROOM,
    recipients_in_flight_unmark,
    recipients_mark_in_flight,
    send_slots_reserve,
)
from .test_send import MAX_TEST_NUMBERS, TestSendResult, campaign_test_send

__all__ = [
    "ACTIVE_SEND_STATUSES",
    "EMPTY_SMS_REASON",
    "MAX_LATENESS",
    "MAX_TEST_NUMBERS",
    "RATE_HEADROOM",
    "RESULT_COLUMNS",
    "RS",
    "ClaimedRecipient",
    "LaunchResult",
    "Reconciled",
    "SendLoop",
    "SendRunSummary",
    "TestSendResult",
    "callback_url",
    "campaign_auto_pause_check",
    "campaign_cancel",
    "campaign_complete_if_done",
    "campaign_content_problems",
    "campaign_launch",
    "campaign_launch_problems",
    "campaign_message",
    "campaign_pause",
    "campaign_pause_by_engine",
    "campaign_pause_for_credentials",
    "campaign_resume",
    "campaign_send_run",
    "campaign_send_slice",
    "campaign_sms_text",
    "campaign_test_send",
    "claims_expire",
    "engine_tick_enqueue",
    "engine_tick_ensure",
    "orphans_for_references_apply",
    "recipients_claim",
    "recipients_claim_sendable",
    "recipients_due",
    "recipients_empty_sms_fail",
    "recipients_in_flight_unmark",
    "recipients_mark_in_flight",
    "recipients_materialise",
    "recipients_reconcile",
    "recipients_release",
    "recipients_unreported",
    "recipients_unsent_release",
    "reconcile_wait",
    "scheduled_campaigns_start",
    "send_results_record",
    "send_slots_reserve",
    "send_tasks_enqueue",
    "task_entry_points_register",
    "worker_identity",
]
