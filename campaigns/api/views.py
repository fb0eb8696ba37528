"""The REST endpoint Telesign calls. It verifies, stores, applies, answers."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import services
from .serializers import (
    CallbackAnswerSerializer,
    CallbackErrorSerializer,
    DeliveryCallbackSerializer,
)

CALLBACK_SCHEMA = extend_schema(
    request={"application/json": DeliveryCallbackSerializer},
    responses={
        200: CallbackAnswerSerializer,
        202: CallbackAnswerSerializer,
        400: CallbackErrorSerializer,
        401: CallbackErrorSerializer,
        413: CallbackErrorSerializer,
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
        limit = settings.CALLBACK_MAX_BODY_BYTES
        remote_addr = request.META.get("REMOTE_ADDR", "")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            services.callback_rejection_count(
                reason="too_large", remote_addr=remote_addr
            )
            return Response({"error": f"The body exceeds {limit} bytes."}, status=413)
        body = request.body
        if len(body) > limit:
            services.callback_rejection_count(
                reason="too_large", remote_addr=remote_addr
            )
            return Response({"error": f"The body exceeds {limit} bytes."}, status=413)
        signature = services.callback_authenticate(headers=request.headers, body=body)
        if signature is None:
            has_header = bool(
                request.headers.get("Authorization")
                or request.headers.get("X-TS-Authorization")
            )
            reason = "bad_signature" if has_header else "missing_signature"
            services.callback_rejection_count(reason=reason, remote_addr=remote_addr)
            return Response(
                {"error": "Missing or invalid Telesign signature."}, status=401
            )
        _, status, payload = services.callback_receive(
            method=request.method,
            headers=request.headers,
            body=body,
            signature=signature,
        )
        return Response(payload, status=status)
