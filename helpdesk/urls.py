from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("django-admin/", admin.site.urls),
    # The stand-in Nexudus API, only while it is the source (no Nexudus credentials set).
    *([path("sandbox/", include("sandbox.urls"))] if settings.NEXUDUS_USES_SANDBOX else []),
    path("", include("inbox.urls")),
]

# A database outage is a 503 page; any other uncaught error the plain 500 page.
handler500 = "inbox.ops.errors.server_error"
