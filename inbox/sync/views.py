"""``/sync/``: the state of each resource's sync, its history, and the Sync now buttons.

Each resource is one self-contained htmx component (``sync/card.html``) holding all its
states: idle, queued, running (a progress bar polled every second), succeeded, failed; an idle
card asks ``/sync/`` every 10 seconds for the newest run, so one started by beat shows too. The
buttons post to ``sync-start``, which asks ``request_sync`` for a run (or gets the one already
queued or running) and answers with the component for that run; the component then polls
``sync-run`` until the run ends, when the answer is 286 (htmx stops polling) and a
``sync-finished`` event makes the page refresh its summary and history.

Every press of a button is written to the audit trail (``AdminAction``); the answer then carries
an ``admin-action`` event, on which the page's "Recent admin actions" list reloads itself.
"""

from __future__ import annotations

import logging

from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling, trigger_client_event
from redis import RedisError

from inbox.auth.permissions import admin_required
from inbox.models import AdminAction, SyncRun
from inbox.ops.audit import admin_action_list, admin_action_record
from inbox.platform.locks import LockError

from . import registry
from . import selectors as sync_selectors
from .forms import SyncStartForm
from .services import request_sync

log = logging.getLogger(__name__)


@require_GET
@admin_required
def sync_index(request):
    target = request.htmx.target if request.htmx else None
    if target == "admin-actions":  # the audit trail, after a button press
        return render(request, "inbox/admin_actions.html", {"actions": admin_action_list()})
    if target and target.startswith("sync-card-"):  # an idle card looking for runs started elsewhere
        resource = target.removeprefix("sync-card-")
        if resource not in registry.NAMES:
            return HttpResponseBadRequest("Unknown resource.", content_type="text/plain; charset=utf-8")
        return _card(request, sync_selectors.run_latest_for(resource), resource=resource)
    now = timezone.now()
    context = {
        "cards": sync_selectors.sync_cards(now=now),
        "runs": sync_selectors.recent_runs(),
        "actions": admin_action_list(),
        "now": now,
    }
    template = "sync/state.html" if target == "sync-state" else "sync/index.html"
    return render(request, template, context)


@require_POST
@admin_required
def sync_start(request):
    form = SyncStartForm(request.POST)
    if not form.is_valid():
        # Plain text: the messages quote the posted value ("<script> is not one of the choices").
        text = " ".join(m for errors in form.errors.values() for m in errors)
        return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")
    resource, mode = form.cleaned_data["resource"], form.cleaned_data["mode"]
    try:
        run, created = request_sync(resource=resource, mode=mode, trigger="admin")
    except (LockError, RedisError) as error:
        log.warning("Could not request a %s sync: %s", resource, error)
        run, created = sync_selectors.run_latest_for(resource), False
        note = "The sync could not be queued: Redis did not answer. Check that Redis is running, then try again."
        outcome = "not queued: Redis did not answer"
    else:
        note = "" if created else "A sync was already queued or running: showing it rather than starting another."
        outcome = f"queued run #{run.pk}" if created else f"run #{run.pk} was already queued or running"
    action = AdminAction.Action.FULL_RESYNC if mode == SyncRun.Mode.FULL else AdminAction.Action.SYNC_NOW
    admin_action_record(user=request.user, action=action, detail=f"{SyncRun.Resource(resource).label}: {outcome}")
    if not request.htmx:
        messages.info(request, note or f"{run.get_mode_display()} sync of {run.get_resource_display().lower()} queued.")
        return redirect("sync-index")
    return trigger_client_event(_card(request, run, note=note, resource=resource), "admin-action")


@require_GET
@admin_required
def sync_run(request, pk: int):
    run = get_object_or_404(SyncRun, pk=pk)
    if not request.htmx:
        return redirect("sync-index")
    response = _card(request, run)
    if run.status in sync_selectors.ACTIVE:
        return response
    stopped = HttpResponseStopPolling(response.content)
    return trigger_client_event(stopped, "sync-finished")


def _card(request, run: SyncRun | None, *, note: str = "", resource: str = ""):
    now = timezone.now()
    state = sync_selectors.resource_state(run.resource if run else resource, now=now)
    card = sync_selectors.SyncCard(state=state, run=run, now=now, note=note)
    return render(request, "sync/card.html", {"card": card})


urlpatterns = [
    path("sync/", sync_index, name="sync-index"),
    path("sync/start/", sync_start, name="sync-start"),
    path("sync/runs/<int:pk>/", sync_run, name="sync-run"),
]
