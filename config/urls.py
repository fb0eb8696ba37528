from django.conf import settings
from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from campaigns import views
from campaigns.api.schema import schema_view
from campaigns.api.views import TelesignCallbackView

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "images/<uuid:public_id>.<str:extension>",
        views.image_asset_public,
        name="image_asset_public",
    ),
    path(
        "api/telesign/callbacks/",
        TelesignCallbackView.as_view(),
        name="telesign_callbacks",
    ),
    # A page for browsers, the YAML file for any other client (CI's schemathesis
    # reads it here); the files by name for tools that ask for one.
    path("api/schema/", schema_view, name="api_schema"),
    path(
        "api/schema/openapi.<str:format>",
        SpectacularAPIView.as_view(),
        name="api_schema_file",
    ),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
