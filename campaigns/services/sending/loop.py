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
from ..reconnect import database_retry
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
from .slots import (
    DEPARTURE_LEAD,
    MAX_LATENESS,
    RATE_HEADROOM,
    recipients_in_flight_unmark,
    recipients_mark_in_flight,
    send_slots_reserve,
)

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


# Slots are reserved at most this far ahead at a low rate (see `slots_wanted`).
RESERVE_AHEAD = 0.5

# What a sending thread answers for a request it did not send because it
# could not leave within MAX_LATENESS of its slot.
LATE = "late"


def _sender(
    client: TelesignClient,
    ready: queue.SimpleQueue,
    answers: queue.SimpleQueue,
    halt: threading.Event,
) -> None:
    """One sending thread: take the next message (marked in flight), wait for
    its slot, send it, hand back the answer: None when a stop came first, LATE
    when it could not leave in time (`slots.MAX_LATENESS`)."""
    while True:
        item = ready.get()
        if item is None:
            return
        recipient_id, message, due = item
        delay = due - time.monotonic()
        if halt.is_set() or (delay > 0.001 and halt.wait(delay)):
            answers.put((recipient_id, None))
            continue
        if time.monotonic() - due > MAX_LATENESS:
            answers.put((recipient_id, LATE))
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

    `concurrency` threads send (`_sender`); this thread does all the database
    work, so the database is never on the path of a request. A recipient goes
    claimed (`pending`) → slot reserved (`scheduled`, still claimed) → in
    flight (`sending`): it is marked in flight only when its slot is due and a
    thread is free, together with writing the answers that freed the threads,
    so at most `concurrency` recipients are ever in flight and a crash leaves
    only those unconfirmed.

    `run` turns the loop: `collect` takes the threads' answers, `watch` looks
    at the campaign about once a second, `refill` claims and reserves slots,
    `launch` writes answers and hands due messages to free threads, and
    `drain` stops the threads and settles everything when the loop ends.
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
        # One attempt per request: a refused one (429, 503) is queued for a
        # later slot rather than retried outside the campaign's rate.
        self.client = client or client_from_settings(max_attempts=1)
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
        self.ready: queue.SimpleQueue = queue.SimpleQueue()  # in flight, to send
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        # Marked in flight and handed to a thread, not answered yet.
        self.sending: dict[int, ClaimedRecipient] = {}
        self.attempts: dict[int, int] = {}
        self.results: list[tuple[int, SendResult]] = []
        self.unsent: list[int] = []  # in flight, never left: give back
        self.late: list[int] = []  # in flight, missed their slot: new slot
        self.pending: deque[ClaimedRecipient] = deque()  # claimed, no slot yet
        self.scheduled: deque[tuple[float, ClaimedRecipient]] = deque()
        self.unmarked: list[int] = []  # could not be marked in flight
        self.last_check = 0.0
        # Failures seen here that call for a look before the second is up.
        self.enough_to_pause = max(
            1, settings.AUTO_PAUSE_MIN_SENDS * settings.AUTO_PAUSE_FAILURE_RATE
        )
        self.rejected_at_last_check = 0
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
            while self.riding_out_database_faults(self.turn):
                pass
        finally:
            self.riding_out_database_faults(self.drain)
        logger.info(
            "campaign %s worker %s: %s", self.campaign_id, self.worker_id, self.summary
        )
        return self.summary

    def riding_out_database_faults(self, step):
        """Run a step of the loop again once the database is back if it
        failed for a lost connection (a restart): what it had not written is
        still held here (`launch` puts back what its lost transaction took).
        Past SEND_CLAIM_TIMEOUT the claims are given up for dead anyway, so
        the fault goes up."""
        return database_retry(
            step,
            what=f"sending campaign {self.campaign_id}",
            stop=self.stop,
            patience=settings.SEND_CLAIM_TIMEOUT,
        )

    def turn(self) -> bool:
        """One turn of the loop; False when the loop is over."""
        self.collect_waiting(timeout=self.idle_time())
        if self.stop.is_set():
            self.stop_because("worker stopping")
        if self.summary.stopped_because:
            return bool(self.on_wire)  # wait for the answers on their way
        if not self.watch():
            return True
        # Claim the next batch as soon as this one is all handed out, not once
        # its last answers are in: threads must not idle between batches.
        claimed = bool(self.pending or self.scheduled) or self.claim()
        if not claimed and not self.on_wire:
            if not self.summary.stopped_because:
                self.flush()
                campaign_complete_if_done(campaign_id=self.campaign_id)
                self.summary.stopped_because = "nothing due"
            return False
        self.launch()
        return True

    def idle_time(self) -> float:
        """How long to wait for answers before the next thing to do: nothing
        while a thread is free and a recipient can take a slot; else until the
        next slot (less its lead) or an answer, at most 50 ms."""
        if self.free_threads():
            if self.scheduled:
                until = self.scheduled[0][0] - DEPARTURE_LEAD - time.monotonic()
                return min(0.05, max(0.0, until))
            if self.pending:
                return 0.0
        return 0.05 if self.on_wire else 0.0

    def stop_because(self, reason: str) -> None:
        if not self.summary.stopped_because:
            self.summary.stopped_because = reason
        self.halt.set()

    def collect_waiting(self, *, timeout: float) -> None:
        """Collect the answers the threads have given, waiting up to `timeout`
        for the first."""
        try:
            if timeout > 0:
                self.collect(*self.answers.get(timeout=timeout))
            while True:
                self.collect(*self.answers.get_nowait())
        except queue.Empty:
            pass

    def collect(self, recipient_id: int, result: SendResult | str | None) -> None:
        """Take one answer (None: the request never left; LATE: it missed its
        slot)."""
        recipient = self.sending.pop(recipient_id)
        if result is None:
            self.unsent.append(recipient_id)
            return
        if result == LATE:
            # Unmarked (back to claimed) by the next flush, which comes before
            # any new mark; meanwhile it waits for a new slot.
            self.late.append(recipient_id)
            self.pending.appendleft(recipient)
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
        """Every second (sooner once enough sends failed here to pause the
        campaign): notice a pause or cancel from elsewhere, and judge recent
        failures. False once the loop must stop. Healthy sending is not held
        up by a count of recent failures every few answers."""
        failed_here = self.summary.rejected - self.rejected_at_last_check
        if (
            time.monotonic() - self.last_check <= 1.0
            and failed_here < self.enough_to_pause
        ):
            return True
        self.last_check = time.monotonic()
        self.rejected_at_last_check = self.summary.rejected
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

    def claim(self) -> bool:
        """Claim the next recipients into `pending`; False if none is due."""
        while True:
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
            if claimed:  # else all failed for an empty SMS: claim the next ones
                break
        self.pending.extend(claimed)
        self.attempts.update((r.id, r.send_attempts) for r in claimed)
        return True

    def launch(self) -> None:
        """Hand the messages whose slots are due to the free threads, in one
        transaction: write the answers that freed the threads, reserve slots
        for as many recipients as threads are free (when none is waiting for
        its slot), and mark in flight those whose slots are due."""
        free = self.free_threads()
        if not free:
            return
        self.forget_missed_slots()
        reserve = not self.scheduled and bool(self.pending)
        due = bool(self.scheduled) and self.scheduled[0][0] <= self.horizon()
        if not (reserve or due):
            if len(self.results) >= self.concurrency:
                self.flush()
            return
        held = self.held_in_memory()
        try:
            with transaction.atomic():
                self.flush()
                if reserve and not self.reserve(self.slots_wanted(free)):
                    return
                group = []
                horizon = self.horizon()
                while self.scheduled and self.scheduled[0][0] <= horizon:
                    group.append(self.scheduled.popleft())
                    if len(group) == free:
                        break
                marked = recipients_mark_in_flight(
                    campaign_id=self.campaign_id,
                    ids=[r.id for _, r in group],
                    worker_id=self.worker_id,
                )
        except BaseException:
            # The transaction is lost: nothing of it was written, so the
            # answers, give-backs and slots it took are ours to write again.
            self.restore(held)
            raise
        self.hand_over(group, marked)

    def held_in_memory(self) -> tuple:
        return (
            list(self.results),
            list(self.unsent),
            list(self.late),
            deque(self.pending),
            deque(self.scheduled),
        )

    def restore(self, held: tuple) -> None:
        self.results, self.unsent, self.late, self.pending, self.scheduled = held

    @property
    def on_wire(self) -> int:
        return len(self.sending)

    def free_threads(self) -> int:
        """Threads free to take work now. Answers that come in while one
        group is being marked wait for the next: groups grow by themselves
        when the database is slow."""
        return self.concurrency - self.on_wire

    @staticmethod
    def horizon() -> float:
        return time.monotonic() + DEPARTURE_LEAD

    def forget_missed_slots(self) -> None:
        """Slots already past by more than MAX_LATENESS cannot be used: their
        recipients (still only claimed) wait for new ones."""
        missed = []
        too_late = time.monotonic() - MAX_LATENESS
        while self.scheduled and self.scheduled[0][0] < too_late:
            missed.append(self.scheduled.popleft()[1])
        self.pending.extendleft(reversed(missed))

    def slots_wanted(self, free: int) -> int:
        """How many slots to reserve: one per free thread, but at a low rate
        no more than RESERVE_AHEAD seconds' worth, so a pause or a stop never
        leaves the campaign's next slots far in the future."""
        gap = 1.0 / (self.campaign.max_send_rate * RATE_HEADROOM)
        return max(1, min(free, len(self.pending), int(RESERVE_AHEAD / gap)))

    def reserve(self, count: int) -> bool:
        """Reserve slots for the next `count` pending recipients; False (and
        the loop stops) if the campaign is no longer sending."""
        group = [self.pending.popleft() for _ in range(count)]
        status, first_slot, gap = send_slots_reserve(
            campaign_id=self.campaign_id, count=count
        )
        if status != Campaign.Status.SENDING:
            self.pending.extendleft(reversed(group))
            self.stop_because(f"campaign {status}")
            return False
        slot0 = time.monotonic() + max(
            0.0, (first_slot - timezone.now()).total_seconds()
        )
        self.scheduled.extend(
            (slot0 + index * gap, recipient) for index, recipient in enumerate(group)
        )
        return True

    def hand_over(
        self, group: list[tuple[float, ClaimedRecipient]], marked: set[int]
    ) -> None:
        """Give the recipients marked in flight to the sending threads."""
        for due, recipient in group:
            if recipient.id not in marked:
                # Not ours to send any more (claim expired, campaign stopped):
                # `drain` gives back whatever we still hold.
                self.unmarked.append(recipient.id)
                continue
            message = campaign_message(
                campaign=self.campaign,
                recipient=recipient,
                send_callback_url=self.send_callback,
            )
            self.ready.put((recipient.id, message, due))
            self.sending[recipient.id] = recipient
        if len(marked) < len(group):
            self.last_check = 0.0  # look at the campaign on the next turn

    def flush(self) -> None:
        """Write the answers collected so far; give back what never left; put
        the late ones back for new slots."""
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
        if self.late:
            recipients_in_flight_unmark(ids=self.late, worker_id=self.worker_id)
            self.late.clear()

    def apply_orphans(self) -> None:
        orphans_for_references_apply(references=self.new_references)
        self.new_references.clear()

    def drain(self) -> None:
        """Stop the threads; record every answer; give back every claim left."""
        self.halt.set()  # messages still waiting for their slot do not leave
        for _ in self.threads:
            self.ready.put(None)
        for thread in self.threads:
            thread.join()
        while True:
            try:
                self.collect(*self.answers.get_nowait())
            except queue.Empty:
                break
        while True:  # handed over but never taken by a thread
            try:
                item = self.ready.get_nowait()
            except queue.Empty:
                break
            if item is not None:
                self.unsent.append(item[0])
        self.flush()
        self.apply_orphans()
        held = [r.id for r in self.pending] + [r.id for _, r in self.scheduled]
        held += self.unmarked
        if held:
            recipients_release(ids=held, worker_id=self.worker_id)


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
