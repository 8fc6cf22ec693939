"""The stand-in Nexudus REST API: ``/sandbox/api/...``, at the paths of Nexudus's own REST API
(https://developers.nexudus.com/reference: ``api/token``, ``api/spaces/coworkermessages``,
``api/crm/emailaccounts``, ``api/sys/businesses``)."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from sandbox import auth
from sandbox.guard import api_endpoint, denied, json_response, public_endpoint
from sandbox.models import Config
from sandbox.resources.accounts import ACCOUNTS
from sandbox.resources.businesses import BUSINESSES
from sandbox.resources.messages import MESSAGES
from sandbox.resources.params import INT64, BadRequest, parse_batch_ids, parse_int
from sandbox.resources.resource import Resource


@public_endpoint
def token(request: HttpRequest, config: Config) -> HttpResponse:
    """``POST api/token``: form-encoded only, like Nexudus (JSON gives ``unsupported_grant_type``)."""
    if request.method != "POST":
        return json_response({"Message": "The requested resource does not support GET."}, 405)
    form_encoded = request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}
    grant_type = request.POST.get("grant_type", "") if form_encoded else ""
    client_id = request.headers.get("client_id", "") or request.POST.get("client_id", "")
    try:
        fields = ("grant_type", "username", "password", "totp", "refresh_token", "client_id")
        auth.check_values({**{name: request.POST.get(name, "") for name in fields}, "client_id": client_id})
        if grant_type == "password":
            answer = auth.password_grant(
                request.POST.get("username", ""),
                request.POST.get("password", ""),
                request.POST.get("totp", ""),
                client_id,
                config,
            )
        elif grant_type == "refresh_token":
            answer = auth.refresh_grant(request.POST.get("refresh_token", ""), client_id, config)
        else:
            raise auth.GrantError(
                "unsupported_grant_type",
                "Send grant_type=password or grant_type=refresh_token, form-encoded "
                "(application/x-www-form-urlencoded).",
            )
    except auth.GrantError as error:
        return json_response(error.as_json(), status=400)
    response = json_response(answer)
    response["Cache-Control"] = "no-store"
    return response


def collection(resource: Resource, request: HttpRequest, config: Config) -> HttpResponse:
    """The list envelope, or with ``?id=[1,2,3]`` the batch: a bare array of those that exist."""
    try:
        for key, value in request.GET.items():
            if key.lower() == "id" and value.strip().startswith("["):
                return json_response(resource.batch(parse_batch_ids(value)))
        envelope = resource.page(
            request.GET.dict(),
            max_size=settings.SANDBOX_MAX_PAGE_SIZE,
            dir_convention=config.dir_convention,
            sort_direction_echo=config.sort_direction_echo,
        )
        return json_response(envelope)
    except BadRequest as error:
        return json_response({"Message": str(error)}, status=400)


def detail(resource: Resource, pk: str) -> HttpResponse:
    """The bare record; an Id too long for 64 bits is a 400 (as a filter's would be), not a 404."""
    try:
        record_id = parse_int("Id", pk, INT64)
    except BadRequest as error:
        return json_response({"Message": str(error)}, status=400)
    record = resource.one(record_id)
    if record is None:
        return json_response({"Message": f"No record with Id {record_id}."}, status=404)
    return json_response(record)


@api_endpoint
def messages(request: HttpRequest, config: Config) -> HttpResponse:
    return collection(MESSAGES, request, config)


@api_endpoint
def message(request: HttpRequest, config: Config, pk: str) -> HttpResponse:
    return detail(MESSAGES, pk)


@api_endpoint
def accounts(request: HttpRequest, config: Config) -> HttpResponse:
    return collection(ACCOUNTS, request, config)


@api_endpoint
def account(request: HttpRequest, config: Config, pk: str) -> HttpResponse:
    return detail(ACCOUNTS, pk)


# ``Config.businesses_denied_status`` plays an API user without the Business-List/Read roles.


@api_endpoint
def businesses(request: HttpRequest, config: Config) -> HttpResponse:
    if config.businesses_denied_status:
        return denied(config.businesses_denied_status, request)
    return collection(BUSINESSES, request, config)


@api_endpoint
def business(request: HttpRequest, config: Config, pk: str) -> HttpResponse:
    if config.businesses_denied_status:
        return denied(config.businesses_denied_status, request)
    return detail(BUSINESSES, pk)
