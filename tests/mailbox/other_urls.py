"""A second URLconf for tests/mailbox/test_templating.py: the inbox at another address."""

from django.http import HttpResponse
from django.urls import path

urlpatterns = [path("elsewhere/", lambda request: HttpResponse(), name="inbox-index")]
