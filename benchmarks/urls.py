from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from config.urls import urlpatterns as app_urlpatterns


class BareView(APIView):
    """The baseline: a DRF view that reads the body and answers 200."""

    authentication_classes = []
    permission_classes = []
    parser_classes = []

    def post(self, request):
        request.body  # noqa: B018 - read it, as the real endpoint does
        return Response({"ok": True})


urlpatterns = [path("bench/bare/", BareView.as_view()), *app_urlpatterns]
