"""Included at ``/sandbox/``. Collections answer with and without the trailing slash (the batch
form is documented as ``.../coworkermessages/?id=[1,2,3]``)."""

from __future__ import annotations

from django.urls import path, re_path

from sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("api/token", views.token, name="token"),
    re_path(r"^api/spaces/coworkermessages/?$", views.messages, name="messages"),
    re_path(r"^api/spaces/coworkermessages/(?P<pk>[0-9]+)/?$", views.message, name="message"),
    re_path(r"^api/crm/emailaccounts/?$", views.accounts, name="accounts"),
    re_path(r"^api/crm/emailaccounts/(?P<pk>[0-9]+)/?$", views.account, name="account"),
    re_path(r"^api/sys/businesses/?$", views.businesses, name="businesses"),
    re_path(r"^api/sys/businesses/(?P<pk>[0-9]+)/?$", views.business, name="business"),
]
