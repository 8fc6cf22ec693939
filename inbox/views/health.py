"""Placeholder routes: the owner of this module replaces them."""

from django.http import HttpResponse
from django.urls import path


def _placeholder(request, **kwargs):
    return HttpResponse("Not built yet.", status=501)


urlpatterns = [
    path("healthz", _placeholder, name="healthz"),
]
