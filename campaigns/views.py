"""Public, non-admin views."""

from pathlib import Path

from django.http import FileResponse, Http404, HttpResponseNotModified, JsonResponse
from django.views.decorators.http import require_safe

from .models import ImageAsset
from .selectors import system_health


@require_safe
def image_asset_public(request, public_id, extension):
    """Serve an uploaded image to Telesign/Viber: public, cacheable, with ETag.

    Only ImageAsset files are reachable here, by an unguessable id; the rest
    of the media storage is never exposed.
    """
    asset = (
        ImageAsset.objects.filter(public_id=public_id)
        .exclude(file="")
        .only("file", "format", "checksum", "bytes")
        .first()
    )
    if asset is None or extension != asset.extension:
        raise Http404("No such image.")
    etag = f'"{asset.checksum}"'
    cache_control = "public, max-age=86400, immutable"
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        try:
            handle = asset.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404("No such image.") from exc
        response = FileResponse(handle, content_type=asset.content_type)
        response["Content-Length"] = str(asset.bytes)
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    response["X-Content-Type-Options"] = "nosniff"
    return response


FAVICON = Path(__file__).parent / "static" / "campaigns" / "favicon.ico"


@require_safe
def favicon(request):
    """Browsers ask every site for /favicon.ico: answer with our icon rather
    than a 404 in the log for every page shown."""
    response = FileResponse(FAVICON.open("rb"), content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
def health(request):
    """200 when the database answers and a worker reported recently, else 503.

    `?check=web` leaves the workers out: what a load balancer asks of a web
    process, which is healthy even while workers restart.
    """
    report = system_health(check_workers=request.GET.get("check") != "web")
    response = JsonResponse(report, status=200 if report["ok"] else 503)
    response["Cache-Control"] = "no-store"
    return response
