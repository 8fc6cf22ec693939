"""What stands between a request and the sandbox's data: throttling, injected faults, auth.

- Past the requests-per-second budget the answer is **409** with an empty body and
  ``Retry-After: 1``, as Nexudus throttles (developers.nexudus.com/reference/api-limitations).
  The count lives in Redis (the Django cache), so every web process shares it.
  ``Config.throttle_rate`` throttles that share of requests at random besides.
- ``Config.failure_rate`` answers 500/502/503 at random, ``truncate_rate`` cuts a 200 answer's JSON
  in half, ``latency_ms`` delays every answer: the client's retries are tested against real faults.
- ``denied()`` answers as Nexudus does to an API user lacking a resource's roles (401, 403 or 404).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import auth
from sandbox.models import Config

log = logging.getLogger(__name__)

View = Callable[..., HttpResponse]


def json_response(data: object, status: int = 200) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")


def over_rate_limit(config: Config) -> bool:
    limit = config.rate_per_second or settings.SANDBOX_RATE_PER_SECOND
    key = f"sandbox:rate:{int(time.time())}"
    try:
        cache.add(key, 0, timeout=5)
        count = cache.incr(key)
    except Exception:  # no Redis: the sandbox keeps answering, unthrottled
        log.warning("sandbox rate limiter unavailable; request not counted", exc_info=True)
        return False
    return count > limit


def throttled() -> HttpResponse:
    response = HttpResponse(b"", status=409)
    response["Retry-After"] = "1"
    return response


def injected_failure() -> HttpResponse:
    status = random.choice((500, 502, 503))
    if status == 500:
        return json_response({"Message": "An error has occurred."}, status=500)
    text = "Bad Gateway" if status == 502 else "Service Unavailable"
    return HttpResponse(f"<html><body><h1>{status} {text}</h1></body></html>", status=status)


def unauthorized() -> HttpResponse:
    response = json_response({"Message": "Authorization has been denied for this request."}, 401)
    response["WWW-Authenticate"] = 'Bearer realm="sandbox"'
    return response


def denied(status: int, request: HttpRequest) -> HttpResponse:
    """What a Nexudus API user lacking a resource's roles gets: 401 (what the docs describe, see
    https://developers.nexudus.com/rest-api/authentication), 403 or 404."""
    if status == 401:
        return unauthorized()
    if status == 403:
        return json_response({"Message": "Authorization has been denied for this request."}, 403)
    uri = request.build_absolute_uri()
    return json_response({"Message": f"No HTTP resource was found that matches the request URI '{uri}'."}, status)


def public_endpoint(view: View) -> View:
    """Not a page: no session login, no CSRF token; throttled like every Nexudus endpoint."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        config = Config.current()
        if over_rate_limit(config) or (config.throttle_rate and random.random() < config.throttle_rate):
            return throttled()
        return view(request, config, *args, **kwargs)

    return login_not_required(csrf_exempt(wrapper))


def api_endpoint(view: View) -> View:
    """A data endpoint: GET only, throttled, faults injected, Bearer or Basic auth required.

    The view is called as ``view(request, config, **url_kwargs)``.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, config: Config, *args, **kwargs) -> HttpResponse:
        if request.method != "GET":
            return json_response({"Message": f"The requested resource does not support {request.method}."}, 405)
        if config.latency_ms:
            time.sleep(config.latency_ms / 1000)
        if config.failure_rate and random.random() < config.failure_rate:
            return injected_failure()
        if not auth.authorized(request.headers.get("Authorization", "")):
            return unauthorized()
        response = view(request, config, *args, **kwargs)
        if response.status_code == 200 and config.truncate_rate and random.random() < config.truncate_rate:
            response.content = response.content[: max(1, len(response.content) // 2)]
        return response

    return public_endpoint(wrapper)
