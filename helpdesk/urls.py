from django.conf import settings
from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

# Browsers ask for /favicon.ico on pages that name no icon (the JSON of /healthz, a plain-text
# answer): it is the site's icon, not a 404 in the log each time.
class FaviconView(RedirectView):
    permanent = True

    def get_redirect_url(self, *args, **kwargs):
        return static("favicon.svg")  # at the request: the manifest names the file


favicon = login_not_required(FaviconView.as_view())

urlpatterns = [
    path("favicon.ico", favicon),
    path("django-admin/", admin.site.urls),
    # The stand-in Nexudus API, only while it is the source (no Nexudus credentials set).
    *([path("sandbox/", include("sandbox.urls"))] if settings.NEXUDUS_USES_SANDBOX else []),
    path("", include("inbox.urls")),
]

# A database outage is a 503 page; any other uncaught error the plain 500 page.
handler500 = "inbox.ops.errors.server_error"
