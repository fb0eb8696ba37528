"""The REST endpoint Telesign calls. It owns HTTP: the service says what became
of a request (`CallbackReceived`), this view chooses the status and the body."""

import logging

from django.conf import settings
from django.db import InterfaceError, OperationalError
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from ..services import CallbackOutcome, CallbackReceived
from .serializers import (
    CallbackAnswerSerializer,
    CallbackErrorSerializer,
    DeliveryCallbackSerializer,
    SmsReplySerializer,
    ViberReplySerializer,
)

# One endpoint receives every kind of callback; the body says which it is.
CALLBACK_BODY = PolymorphicProxySerializer(
    component_name="TelesignCallback",
    serializers=[DeliveryCallbackSerializer, ViberReplySerializer, SmsReplySerializer],
    resource_type_field_name=None,
)

logger = logging.getLogger(__name__)

# Seconds Telesign is asked to wait before sending again while the database
# cannot be reached (a restart or a failover takes a few).
DATABASE_UNAVAILABLE_RETRY_AFTER = 5

CALLBACK_SCHEMA = extend_schema(
    request={"application/json": CALLBACK_BODY},
    responses={
        200: OpenApiResponse(
            CallbackAnswerSerializer, description="Stored; applied if it could be."
        ),
        202: OpenApiResponse(
            CallbackAnswerSerializer,
            description="Stored; no message has its reference yet.",
        ),
        400: OpenApiResponse(
            CallbackErrorSerializer, description="Not JSON, or not a callback shape."
        ),
        401: OpenApiResponse(
            CallbackErrorSerializer, description="Missing or invalid signature."
        ),
        413: OpenApiResponse(CallbackErrorSerializer, description="Body too large."),
        503: OpenApiResponse(
            CallbackErrorSerializer,
            description="The database cannot be reached: nothing was stored; "
            "send it again (Retry-After).",
        ),
    },
    parameters=[
        OpenApiParameter(
            "Authorization",
            location=OpenApiParameter.HEADER,
            required=False,
            description="TSA <customer_id>:<base64 HMAC-SHA256 of the raw body>",
        )
    ],
    auth=[],
    summary="Receive a Telesign callback",
    description=(
        "Telesign posts here: delivery reports (`status` and one `channel_status` "
        "entry per channel tried), read notifications (status 3005), and the "
        "replies people send back, on Viber (`content`) or by SMS "
        "(`user_response`; an opt-out keyword such as STOP opts the contact "
        "out). Each is signed with Telesign's callback signature over the raw "
        "body, stored, and answered 200 (202 while no message has its "
        "reference yet)."
    ),
)


class TelesignCallbackView(APIView):
    """Delivery reports, read notifications and replies from Telesign.

    POST is what Telesign sends; GET with a JSON body is accepted too, as
    Telesign's Viber guide shows it. Authentication is Telesign's own callback
    signature over the raw body, checked before anything is parsed.
    """

    authentication_classes = []
    permission_classes = []
    parser_classes = []
    throttle_classes = []

    @CALLBACK_SCHEMA
    def post(self, request):
        return self._receive(request)

    @extend_schema(exclude=True)  # GET with a body has no place in OpenAPI
    def get(self, request):
        return self._receive(request)

    def _receive(self, request):
        try:
            received = services.callback_request_receive(
                method=request.method,
                headers=request.headers,
                declared_length=_declared_length(request),
                read_body=lambda: request.body,
                remote_addr=request.META.get("REMOTE_ADDR", ""),
            )
        except (OperationalError, InterfaceError):
            return database_unavailable_answer()
        return callback_answer(received)


def database_unavailable_answer() -> Response:
    """Nothing was stored (the database could not be reached, or the
    transaction was lost with its connection): answered 503, so Telesign
    sends the callback again. The next request opens a new connection."""
    logger.warning("a callback could not be stored: the database is unavailable")
    return Response(
        {"error": "The database is unavailable; send the callback again."},
        status=503,
        headers={"Retry-After": str(DATABASE_UNAVAILABLE_RETRY_AFTER)},
    )


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


# A stored callback is answered 2xx, so Telesign does not send it again: 202
# when no recipient has its reference yet, 200 otherwise (even when applying
# failed: it is kept for reprocessing, and a resend would not help). A further
# copy of a stored body is answered as its first copy's outcome says.
# A body that cannot be read is stored too (marked failed) but answered 400:
# Telesign retries a non-2xx answer only a few times (3 or 4 attempts within
# about 30 s), each copy is only counted on the stored event, and the 4xx
# tells the sender that this payload was not understood.
STORED_ANSWERS = {
    CallbackOutcome.APPLIED: (200, {"stored": True, "applied": True}),
    CallbackOutcome.STORED: (200, {"stored": True, "applied": False}),
    CallbackOutcome.APPLY_FAILED: (200, {"stored": True, "applied": False}),
    CallbackOutcome.ORPHAN: (202, {"stored": True, "matched": False}),
}


def callback_answer(received: CallbackReceived) -> Response:
    """The HTTP answer to what became of a callback request."""
    outcome = received.outcome
    if outcome in STORED_ANSWERS:
        status, body = STORED_ANSWERS[outcome]
        return Response(dict(body), status=status)
    match outcome:
        case CallbackOutcome.NOT_JSON:
            body = {"error": f"The body is not valid JSON: {received.error}"}
            return Response(body, status=400)
        case CallbackOutcome.BAD_SHAPE:
            body = {"error": "Unexpected callback shape.", "fields": received.fields}
            return Response(body, status=400)
        case CallbackOutcome.TOO_LARGE:
            limit = settings.CALLBACK_MAX_BODY_BYTES
            return Response({"error": f"The body exceeds {limit} bytes."}, status=413)
        case CallbackOutcome.MISSING_SIGNATURE | CallbackOutcome.BAD_SIGNATURE:
            return Response(
                {"error": "Missing or invalid Telesign signature."}, status=401
            )
        case CallbackOutcome.SANDBOX_REFUSED:
            body = {"error": "Callbacks signed with the sandbox's key are refused."}
            return Response(body, status=401)
    raise AssertionError(f"no answer for {outcome!r}")
