"""What happens to a message, decided by the last digit of the number.

    0, 6  delivered on Viber
    1, 7  delivered on Viber, then read
    2     no Viber on the phone (3055), SMS fallback delivered
    3     Viber not delivered within fallback_time (3056), SMS fallback delivered
    4     no Viber (3055), SMS fails too (3031 permanent phone error)
    5     delivered and read on Viber, callbacks out of order and duplicated
    8     Viber times out (3056), SMS expires (3033)
    9     delivered on Viber, slowly (after half the fallback time)

Without an SMS channel in the request, a failed Viber leg is final; without
a Viber channel, the SMS leg follows the digit (4 and 8 fail, others
deliver). An image that cannot be fetched, or is not a JPEG or PNG, fails
the Viber leg (3035) and the SMS fallback follows.

Plans are pure: a list of steps, each a delay in provider seconds (before
the sandbox's time scale applies) and the codes its callback reports.
"""

from typing import NamedTuple

# Provider delays, in seconds before `time_scale` applies.
VIBER_DELIVERY_DELAY = 2.0
VIBER_FAILURE_DELAY = 1.0
SMS_DELIVERY_DELAY = 4.0
READ_DELAY = 20.0

# The SMS leg's final code by last digit; any other digit is delivered (3000).
SMS_FAILURES = {4: 3031, 8: 3033}


class Step(NamedTuple):
    """One callback: when, and the codes of the channels reached so far."""

    delay: float
    viber_code: int | None  # None: the channel was not reached yet
    sms_code: int | None
    duplicate: bool = False


def viber_steps(
    digit: int, *, has_sms: bool, image_ok: bool, fallback_time: int
) -> list[Step]:
    """The callbacks of a message that tries Viber first."""
    if not image_ok:
        viber_fail, viber_at = 3035, VIBER_FAILURE_DELAY
    elif digit in (2, 4):
        viber_fail, viber_at = 3055, VIBER_FAILURE_DELAY
    elif digit in (3, 8):
        viber_fail, viber_at = 3056, float(fallback_time)
    else:
        return _viber_delivered_steps(digit, fallback_time)

    if not has_sms:
        return [Step(viber_at, viber_fail, None)]
    return [
        Step(viber_at, viber_fail, 3001),
        Step(viber_at + SMS_DELIVERY_DELAY, viber_fail, sms_final_code(digit)),
    ]


def _viber_delivered_steps(digit: int, fallback_time: int) -> list[Step]:
    delivered_at = fallback_time / 2 if digit == 9 else VIBER_DELIVERY_DELAY
    if digit == 5:
        # Read arrives first, then the delivery report, twice.
        return [
            Step(delivered_at, 3005, None),
            Step(delivered_at + 0.5, 3000, None),
            Step(delivered_at + 0.6, 3000, None, duplicate=True),
        ]
    steps = [Step(delivered_at, 3000, None)]
    if digit in (1, 7):
        steps.append(Step(delivered_at + READ_DELAY, 3005, None))
    return steps


def sms_only_steps(digit: int) -> list[Step]:
    """An SMS without Viber: the SMS leg of the digit's outcome."""
    return [Step(SMS_DELIVERY_DELAY, None, sms_final_code(digit))]


def sms_final_code(digit: int) -> int:
    return SMS_FAILURES.get(digit, 3000)
