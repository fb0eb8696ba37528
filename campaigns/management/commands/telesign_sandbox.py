"""`manage.py telesign_sandbox`: the local Telesign stand-in (the `sandbox`
package) on a port, calling this app's callback endpoint back."""

import logging
import signal

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import NoReverseMatch, reverse

from campaigns.telesign.config import SANDBOX_API_KEY, SANDBOX_CUSTOMER_ID
from sandbox import SandboxConfig, TelesignSandbox


def default_callback_url() -> str | None:
    try:
        return settings.PUBLIC_BASE_URL + reverse("telesign_callbacks")
    except NoReverseMatch:
        return None


class Command(BaseCommand):
    help = (
        "Run the local Telesign sandbox: POST /v1/omnichannel with Telesign's "
        "validation and codes, signed delivery callbacks, and "
        "GET /v1/omnichannel/{reference_id} for a message's status."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8025)
        parser.add_argument(
            "--callback-url",
            default=None,
            help="Where callbacks go (default: this app's callback endpoint).",
        )
        parser.add_argument(
            "--time-scale",
            type=float,
            default=0.01,
            help="Multiplier for every provider delay, fallback_time included.",
        )
        parser.add_argument("--latency-ms", type=float, default=0.0)
        parser.add_argument("--rate-5xx", type=float, default=0.0)
        parser.add_argument("--rate-429", type=float, default=0.0)
        parser.add_argument("--rate-timeout-after-accept", type=float, default=0.0)
        parser.add_argument(
            "--rate-callback-loss",
            type=float,
            default=0.0,
            help="Share of accepted messages whose callbacks are never sent "
            "(their status can still be asked for).",
        )
        parser.add_argument("--no-callbacks", action="store_true")
        parser.add_argument("--no-image-fetch", action="store_true")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, **options):
        logging.getLogger("sandbox").setLevel(logging.INFO)
        config = SandboxConfig(
            customer_id=SANDBOX_CUSTOMER_ID,
            api_key=SANDBOX_API_KEY,
            callback_url=options["callback_url"] or default_callback_url(),
            time_scale=options["time_scale"],
            latency_ms=options["latency_ms"],
            rate_5xx=options["rate_5xx"],
            rate_429=options["rate_429"],
            rate_timeout_after_accept=options["rate_timeout_after_accept"],
            rate_callback_loss=options["rate_callback_loss"],
            callbacks_enabled=not options["no_callbacks"],
            fetch_images=not options["no_image_fetch"],
            seed=options["seed"],
        )
        sandbox = TelesignSandbox(config, host=options["host"], port=options["port"])
        self.stdout.write(
            f"Telesign sandbox on {sandbox.url} (callbacks to "
            f"{config.callback_url or 'nowhere'}, time scale {config.time_scale})"
        )
        try:
            sandbox.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            sandbox.stop()
