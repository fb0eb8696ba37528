"""The sandbox's knobs: credentials, callback target, time scale and faults.

Set from the command line when it starts, changed while it runs through
`POST /sandbox/config` or, in tests, by assigning to `state.config`.
"""

from dataclasses import asdict, dataclass


@dataclass
class SandboxConfig:
    customer_id: str
    api_key: str
    callback_url: str | None = None
    # Every provider delay, fallback_time included, is multiplied by this.
    time_scale: float = 0.01
    latency_ms: float = 0.0
    # Shares of requests answered 503/3500, 429/3204, or accepted and then
    # left without an answer for `timeout_hang_seconds`.
    rate_5xx: float = 0.0
    rate_429: float = 0.0
    rate_timeout_after_accept: float = 0.0
    timeout_hang_seconds: float = 30.0
    callbacks_enabled: bool = True
    # Share of accepted messages whose callbacks are never sent (lost
    # callbacks); their status can still be asked for.
    rate_callback_loss: float = 0.0
    # Pauses before posting an unanswered callback again (Telesign: four
    # attempts, 5, 10 and 15 seconds apart); not scaled by time_scale.
    callback_retry_pauses: tuple[float, ...] = (5.0, 10.0, 15.0)
    fetch_images: bool = True
    seed: int | None = None

    def public(self) -> dict:
        """The knobs as shown by `GET /sandbox/config`: all but the API key."""
        shown = asdict(self)
        shown.pop("api_key")
        return shown

    def update(self, changes: dict) -> None:
        """Change knobs by name; the credentials and unknown names raise KeyError."""
        for key, value in changes.items():
            if key in ("customer_id", "api_key") or not hasattr(self, key):
                raise KeyError(key)
            setattr(self, key, value)
