from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("django-admin/", admin.site.urls),
    path("sandbox/", include("sandbox.urls")),
    path("", include("inbox.urls")),
]
