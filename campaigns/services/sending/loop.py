"""The send loop: one worker sending one campaign's due recipients.

Many loops may run at once, in many processes on many machines; claims keep
them apart and send slots keep the campaign's rate across all of them.
"""

import logging
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ...models import Campaign
from ...telesign import SendResult, SendStatus, TelesignClient, client_from_settings
from .claims import (
    ClaimedRecipient,
    recipients_claim_sendable,
    recipients_release,
    recipients_unsent_release,
    worker_identity,
)
from .lifecycle import campaign_pause_for_credentials
from .messages import campaign_message, recipients_empty_sms_fail
from .results import (
    campaign_auto_pause_check,
    campaign_complete_if_done,
    orphans_for_references_apply,
    send_results_record,
)
from .scheduling import send_tasks_enqueue
from .slots import recipients_prepare_sending

logger = logging.getLogger(__name__)

# What `SendRunSummary.stopped_because` says when the time slice ran out.
TIME_SLICE_USED = "time slice used"


@dataclass
class SendRunSummary:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    unconfirmed: int = 0
    retried: int = 0
    stopped_because: str = ""


def _sender(
    client: TelesignClient,
    ready: queue.SimpleQueue,
    answers: queue.SimpleQueue,
    halt: threading.Event,
) -> None:
    """One sending thread: take the next prepared message, wait for its slot,
    send it, hand back the answer (None when a stop came first)."""
    while True:
        item = ready.get()
        if item is None:
            return
        recipient_id, message, due = item
        delay = due - time.monotonic()
        if halt.is_set() or (delay > 0.001 and halt.wait(delay)):
            answers.put((recipient_id, None))
            continue
        try:
            answers.put((recipient_id, client.send(message)))
        except Exception as exc:
            logger.exception("send of recipient %s crashed", recipient_id)
            answers.put(
                (recipient_id, SendResult(SendStatus.UNCONFIRMED, description=str(exc)))
            )


class SendLoop:
    """Sends a campaign's due recipients until none is left, the campaign
    stops sending, the worker stops, or the time slice is used.

    `concurrency` threads send (`_sender`); this thread keeps a queue of
    prepared messages (slots reserved, marked in flight) ahead of them and
    writes the answers, so the database is never on the path of a request.
    If the worker dies, at most the prepared queue, the requests on the wire
    and the answers not yet written become `unconfirmed`: about three times
    `concurrency`.

    `run` turns the loop: `collect` takes the threads' answers, `watch` looks
    at the campaign about once a second, `refill` claims and prepares the next
    group, `flush` writes answers and gives back what never left, and `drain`
    stops the threads and settles everything when the loop ends.
    """

    def __init__(
        self,
        *,
        campaign_id: int,
        worker_id: str | None = None,
        client: TelesignClient | None = None,
        concurrency: int | None = None,
        stop: threading.Event | None = None,
        max_seconds: float | None = None,
    ) -> None:
        self.deadline = time.monotonic() + max_seconds if max_seconds else None
        self.worker_id = worker_id or worker_identity()
        self.concurrency = concurrency or settings.SEND_CONCURRENCY
        self.client = client or client_from_settings()
        self.stop = stop or threading.Event()
        self.halt = threading.Event()  # tells waiting sends not to leave
        self.summary = SendRunSummary()
        self.send_callback = settings.TELESIGN_SEND_CALLBACK_URL
        self.campaign_id = campaign_id
        self.campaign = Campaign.objects.select_related("image").get(pk=campaign_id)
        # Claim about SEND_BATCH_SECONDS of work, but never far more than this
        # worker can send soon: claims are cheap to give back, not to hold.
        self.batch_size = max(
            self.concurrency,
            min(
                settings.SEND_BATCH_MAX,
                int(self.campaign.max_send_rate * settings.SEND_BATCH_SECONDS),
                self.concurrency * 8,
            ),
        )
        self.ready: queue.SimpleQueue = queue.SimpleQueue()  # prepared, waiting
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        self.outstanding = 0  # prepared and not answered yet
        self.attempts: dict[int, int] = {}
        self.results: list[tuple[int, SendResult]] = []
        self.unsent: list[int] = []
        self.pending: deque[ClaimedRecipient] = deque()  # claimed, not prepared
        self.last_check = 0.0
        self.sent_at_last_check = 0
        # Checked for orphaned callbacks every second.
        self.new_references: list[str] = []
        self.threads: list[threading.Thread] = []

    def run(self) -> SendRunSummary:
        self.threads = [
            threading.Thread(
                target=_sender,
                args=(self.client, self.ready, self.answers, self.halt),
                name=f"telesign-send-{n}",
                daemon=True,
            )
            for n in range(self.concurrency)
        ]
        for thread in self.threads:
            thread.start()
        try:
            while self.turn():
                pass
        finally:
            self.drain()
        logger.info(
            "campaign %s worker %s: %s", self.campaign_id, self.worker_id, self.summary
        )
        return self.summary

    def turn(self) -> bool:
        """One turn of the loop; False when the loop is over."""
        if self.outstanding:
            self.collect_waiting(timeout=0.05)
        if self.stop.is_set():
            self.stop_because("worker stopping")
        if self.summary.stopped_because:
            return bool(self.outstanding)  # wait for the answers on their way
        if not self.watch():
            return True
        if (
            self.outstanding <= self.concurrency + self.concurrency // 2
            and not self.refill()
            and not self.outstanding
        ):
            if not self.summary.stopped_because:
                self.flush()
                campaign_complete_if_done(campaign_id=self.campaign_id)
                self.summary.stopped_because = "nothing due"
            return False
        if len(self.results) >= self.concurrency:
            self.flush()
        return True

    def stop_because(self, reason: str) -> None:
        if not self.summary.stopped_because:
            self.summary.stopped_because = reason
        self.halt.set()

    def collect_waiting(self, *, timeout: float) -> None:
        """Collect the answers the threads have given, waiting up to `timeout`
        for the first."""
        try:
            self.collect(*self.answers.get(timeout=timeout))
            while True:
                self.collect(*self.answers.get_nowait())
        except queue.Empty:
            pass

    def collect(self, recipient_id: int, result: SendResult | None) -> None:
        """Take one answer (None: the request never left)."""
        self.outstanding -= 1
        if result is None:
            self.unsent.append(recipient_id)
            return
        self.results.append((recipient_id, result))
        summary = self.summary
        summary.sent += 1
        if result.status == SendStatus.ACCEPTED:
            summary.accepted += 1
        elif result.status == SendStatus.UNCONFIRMED:
            summary.unconfirmed += 1
        elif result.status == SendStatus.REJECTED:
            summary.rejected += 1
        elif result.status == SendStatus.RETRY_LATER:
            summary.retried += 1
        elif result.status == SendStatus.AUTH_FAILED:
            if not summary.stopped_because:
                campaign_pause_for_credentials(
                    campaign_id=self.campaign_id, result=result
                )
            self.stop_because("credentials refused")

    def watch(self) -> bool:
        """Every second (or once enough answers came in): notice a pause or
        cancel from elsewhere, and judge recent failures. False once the loop
        must stop."""
        if (
            time.monotonic() - self.last_check <= 1.0
            and self.summary.sent - self.sent_at_last_check
            < settings.AUTO_PAUSE_MIN_SENDS
        ):
            return True
        self.last_check, self.sent_at_last_check = time.monotonic(), self.summary.sent
        self.flush()
        self.apply_orphans()
        status = (
            Campaign.objects.filter(pk=self.campaign_id)
            .values_list("status", flat=True)
            .first()
        )
        if status != Campaign.Status.SENDING:
            self.stop_because(f"campaign {status}")
            return False
        if campaign_auto_pause_check(campaign_id=self.campaign_id):
            self.stop_because("auto-paused")
            return False
        return True

    def refill(self) -> bool:
        """Prepare the next group; False when there is nothing left to prepare."""
        if not self.pending:
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.stop_because(TIME_SLICE_USED)
                return False
            claimed = recipients_claim_sendable(
                campaign=self.campaign, worker_id=self.worker_id, limit=self.batch_size
            )
            if not claimed:
                return False
            claimed = recipients_empty_sms_fail(
                campaign=self.campaign, claimed=claimed, worker_id=self.worker_id
            )
            if not claimed:
                return True  # all failed for an empty SMS: claim the next ones
            self.pending.extend(claimed)
            self.attempts.update((r.id, r.send_attempts) for r in claimed)
        group = [
            self.pending.popleft()
            for _ in range(min(self.concurrency, len(self.pending)))
        ]
        # Answers so far and the next group share one transaction: fewer
        # round trips keep this thread ahead of the sending threads.
        with transaction.atomic():
            self.flush()
            status, first_slot, gap, leaving = recipients_prepare_sending(
                campaign_id=self.campaign_id,
                ids=[r.id for r in group],
                worker_id=self.worker_id,
            )
        if status != Campaign.Status.SENDING:
            self.pending.extendleft(reversed(group))
            self.stop_because(f"campaign {status}")
            return True
        slot0 = time.monotonic() + max(
            0.0, (first_slot - timezone.now()).total_seconds()
        )
        by_id = {r.id: r for r in group}
        for index, recipient_id in enumerate(leaving):
            message = campaign_message(
                campaign=self.campaign,
                recipient=by_id[recipient_id],
                send_callback_url=self.send_callback,
            )
            self.ready.put((recipient_id, message, slot0 + index * gap))
            self.outstanding += 1
        return True

    def flush(self) -> None:
        """Write the answers collected so far; give back what never left."""
        if self.results:
            self.new_references.extend(
                send_results_record(
                    results=self.results,
                    worker_id=self.worker_id,
                    attempts=self.attempts,
                )
            )
            self.results.clear()
        if self.unsent:
            recipients_unsent_release(ids=self.unsent, worker_id=self.worker_id)
            self.unsent.clear()

    def apply_orphans(self) -> None:
        orphans_for_references_apply(references=self.new_references)
        self.new_references.clear()

    def drain(self) -> None:
        """Stop the threads; record every answer; give back every claim left."""
        self.halt.set()  # prepared messages still waiting do not leave
        for _ in self.threads:
            self.ready.put(None)
        for thread in self.threads:
            thread.join()
        while True:
            try:
                self.collect(*self.answers.get_nowait())
            except queue.Empty:
                break
        while True:  # prepared but never taken by a thread
            try:
                item = self.ready.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.unsent.append(item[0])
        self.flush()
        self.apply_orphans()
        if self.pending:
            recipients_release(
                ids=[r.id for r in self.pending], worker_id=self.worker_id
            )


def campaign_send_run(
    *,
    campaign_id: int,
    worker_id: str | None = None,
    client: TelesignClient | None = None,
    concurrency: int | None = None,
    stop: threading.Event | None = None,
    max_seconds: float | None = None,
) -> SendRunSummary:
    """Send a campaign's due recipients until none is left, it stops sending,
    or `max_seconds` have passed (then `stopped_because` is "time slice used"
    and the caller queues the next slice). See `SendLoop`."""
    return SendLoop(
        campaign_id=campaign_id,
        worker_id=worker_id,
        client=client,
        concurrency=concurrency,
        stop=stop,
        max_seconds=max_seconds,
    ).run()


def campaign_send_slice(*, campaign_id: int) -> SendRunSummary:
    """One task's share of a campaign: send for SEND_TASK_SLICE_SECONDS, then
    queue the next slice if this one ran out of time, so workers stop
    gracefully within seconds and campaigns share workers fairly."""
    summary = campaign_send_run(
        campaign_id=campaign_id, max_seconds=settings.SEND_TASK_SLICE_SECONDS
    )
    if summary.stopped_because == TIME_SLICE_USED:
        send_tasks_enqueue(campaign_id=campaign_id, copies=1)
    return summary
