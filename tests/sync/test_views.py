"""``/sync/``: each resource's state, the history, the buttons, and live progress (real worker)."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from inbox.models import SyncRun
from inbox.sync.services import sync_messages
from sandbox import services as sandbox
from tests.accounts.fixtures import sandbox_client, sandbox_source, sync_worker  # noqa: F401
from tests.factories import make_success

HX = {"HX-Request": "true"}
URL = "/sync/"


def test_url_names_are_the_contract():
    assert reverse("sync-index") == URL
    assert reverse("sync-start") == "/sync/start/"
    assert reverse("sync-run", args=[3]) == "/sync/runs/3/"


@pytest.mark.django_db
class TestPage:
    def test_nothing_run_yet(self, admin_client_):
        html = admin_client_.get(URL).content.decode()
        assert html.count('class="sync-card"') == 2
        assert "Never run yet." in html
        assert "No sync has run yet." in html
        assert re.search(r'<button[^>]*value="incremental"[^>]*>Sync now</button>', html)
        assert re.search(r'<button[^>]*value="full"[^>]*>Full resync</button>', html)
        assert 'name="csrfmiddlewaretoken"' in html

    def test_last_run_success_counts_duration_and_next_run(self, admin_client_, settings):
        now = timezone.now()
        run = make_success(
            "messages", now - timedelta(seconds=20), trigger="beat", records_seen=1200, records_created=30,
            records_updated=7, records_deleted=2, requests_made=14,
        )
        response = admin_client_.get(URL)
        html = response.content.decode()
        card = html.split('id="sync-card-messages"')[1].split("</section>")[0]
        assert "Succeeded" in card and f"sync #{run.pk}" in card
        assert "1,200 seen · 30 created · 7 updated · 2 deleted · 14 requests" in card
        assert "in 3.0 s" in card
        assert 'aria-valuenow="100"' in card
        state = response.context["cards"][0].state
        # Beat runs every NEXUDUS_SYNC_INTERVAL seconds from the last run it started.
        assert state.next_run == run.started_at + timedelta(seconds=settings.NEXUDUS_SYNC_INTERVAL)
        assert "(every minute)" in card  # was "every 1 minute"
        assert "Next full reconcile" in card
        history = html.split('id="sync-state"')[1]
        assert f'data-run="{run.pk}"' in history

    @pytest.mark.parametrize(
        "minutes_ago, text",
        [(2, "in 3 min"), (4.75, "in under 1 min"), (5 - 0.5 / 60, "due now"), (5.5, "due now"),
         (120, "overdue by 1 h: is Celery beat running?")],
    )
    def test_next_run_follows_beats_last_run(self, admin_client_, minutes_ago, text):
        # The accounts are synced every 5 minutes (NEXUDUS_ACCOUNTS_SYNC_INTERVAL).
        make_success("accounts", timezone.now() - timedelta(minutes=minutes_ago), trigger="beat")
        make_success("accounts", timezone.now(), trigger="admin")  # does not move beat's schedule
        card = admin_client_.get(URL).content.decode().split('id="sync-card-accounts"')[1].split("</section>")[0]
        assert text in card

    def test_no_beat_run_yet(self, admin_client_):
        make_success("messages", timezone.now(), trigger="admin")
        assert "when the scheduler (Celery beat) first runs it" in admin_client_.get(URL).content.decode()

    def test_a_failure_shows_its_error(self, admin_client_):
        SyncRun.objects.create(
            resource="messages", mode="incremental", status="failed", started_at=timezone.now(),
            finished_at=timezone.now(), error="Nexudus answered 500 five times.", error_kind="unavailable",
        )
        html = admin_client_.get(URL).content.decode()
        assert "Nexudus answered 500 five times." in html
        assert 'role="alert"' in html
        # The badge says "Failed": the sentence says when, not "failed" again.
        assert re.search(r'status-failed">Failed</span> Incremental sync #\d+, ended <time [^>]+>just now</time>\.</p>', html), html

    def test_a_queued_run_in_the_history_has_not_started(self, admin_client_):
        asked = timezone.now() - timedelta(minutes=2)
        queued = SyncRun.objects.create(resource="accounts", mode="incremental", status="queued", trigger="retry")
        SyncRun.objects.filter(pk=queued.pk).update(created_at=asked)
        html = admin_client_.get(URL).content.decode()
        row = html.split(f'data-run="{queued.pk}"')[1].split("</tr>")[0]
        assert re.search(r'data-label="Started"><span class="muted">not yet \(asked <time [^>]+>2 min ago</time>\)</span>', row), row

    def test_history_lists_recent_runs_newest_first(self, admin_client_):
        now = timezone.now()
        runs = [make_success("messages", now - timedelta(minutes=m)) for m in (30, 20, 10)]
        html = admin_client_.get(URL).content.decode()
        assert re.findall(r'data-run="(\d+)"', html) == [str(r.pk) for r in reversed(runs)]

    def test_htmx_refresh_of_the_state_gets_only_the_fragment(self, admin_client_):
        make_success("messages", timezone.now())
        html = admin_client_.get(URL, headers={**HX, "HX-Target": "sync-state"}).content.decode()
        assert html.startswith('<div id="sync-state"')
        assert "<html" not in html

    def test_hostile_error_text_is_escaped(self, admin_client_):
        SyncRun.objects.create(resource="accounts", mode="full", status="failed", error="<img src=x onerror=alert(1)>")
        html = admin_client_.get(URL).content.decode()
        assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


@pytest.mark.django_db
class TestProgressComponent:
    def get(self, client, run):
        return client.get(reverse("sync-run", args=[run.pk]), headers=HX)

    def test_queued_polls_every_second(self, admin_client_):
        run = SyncRun.objects.create(resource="messages", mode="incremental", status="queued", trigger="admin")
        response = self.get(admin_client_, run)
        html = response.content.decode()
        assert response.status_code == 200
        assert f'hx-get="/sync/runs/{run.pk}/"' in html and 'hx-trigger="every 1s"' in html
        assert "Queued" in html and 'role="progressbar"' in html
        assert re.search(r"<button[^>]*disabled[^>]*>Sync now", html)

    def test_an_idle_card_looks_for_runs_started_elsewhere(self, admin_client_):
        html = admin_client_.get(URL).content.decode()
        card = html.split('id="sync-card-messages"')[1].split(">")[0]
        assert 'hx-get="/sync/"' in card and 'hx-trigger="every 10s"' in card
        run = SyncRun.objects.create(resource="messages", mode="incremental", status="running", trigger="beat")
        response = admin_client_.get(URL, headers={**HX, "HX-Target": "sync-card-messages"})
        assert response.status_code == 200
        html = response.content.decode()
        assert html.lstrip().startswith('<section class="sync-card" id="sync-card-messages"')
        assert f'hx-get="/sync/runs/{run.pk}/"' in html and 'hx-trigger="every 1s"' in html
        bad = admin_client_.get(URL, headers={**HX, "HX-Target": "sync-card-coworkers"})
        assert bad.status_code == 400

    def test_a_long_queue_asks_whether_a_worker_runs(self, admin_client_):
        run = SyncRun.objects.create(resource="messages", mode="incremental", status="queued")
        SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=2))
        assert "is a Celery worker running?" in self.get(admin_client_, run).content.decode()

    def test_a_retry_within_its_pause_is_said_as_one_not_as_a_missing_worker(self, admin_client_, settings):
        settings.SYNC_RETRY_DELAY, settings.SYNC_TASK_MAX_RETRIES = 30, 3  # pauses of 30, 60 and 120 s
        run = SyncRun.objects.create(resource="messages", mode="incremental", status="queued", trigger="retry")
        SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(seconds=100))
        html = self.get(admin_client_, run).content.decode()
        assert "trying again after a pause (up to 2 min), as the failed run asked." in html
        assert "is a Celery worker running?" not in html
        SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=3))
        assert "is a Celery worker running?" in self.get(admin_client_, run).content.decode()  # past every pause

    def test_a_run_queued_behind_a_running_one_names_it(self, admin_client_):
        ahead = SyncRun.objects.create(resource="messages", mode="incremental", status="running",
                                       started_at=timezone.now() - timedelta(minutes=5), trigger="beat")
        run = SyncRun.objects.create(resource="messages", mode="full", status="queued", trigger="admin")
        SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(minutes=2))
        html = self.get(admin_client_, run).content.decode()
        assert f"it starts when sync #{ahead.pk}, still running, ends." in html
        assert "is a Celery worker running?" not in html and "waiting for a worker" not in html
        SyncRun.objects.create(resource="accounts", mode="full", status="running", started_at=timezone.now())
        SyncRun.objects.filter(pk=ahead.pk).update(status="success", finished_at=timezone.now())
        html = self.get(admin_client_, run).content.decode()  # another resource's run is no reason
        assert "waiting for a worker" in html and "is a Celery worker running? (<code>scripts/run</code>" in html

    def test_a_running_sync_whose_requests_outrun_its_pages_says_nexudus_holds_it_back(self, admin_client_):
        run = SyncRun.objects.create(resource="messages", mode="incremental", status="running",
                                     started_at=timezone.now(), pages_done=1, requests_made=4)
        assert "More requests than pages" not in self.get(admin_client_, run).content.decode()
        SyncRun.objects.filter(pk=run.pk).update(requests_made=41)
        html = self.get(admin_client_, run).content.decode()
        assert "41 requests" in html and "More requests than pages: Nexudus is asking the help desk to wait" in html

    def test_running_shows_the_pages_as_a_progress_bar(self, admin_client_):
        run = SyncRun.objects.create(
            resource="messages", mode="full", status="running", started_at=timezone.now(),
            pages_done=3, pages_total=12, records_created=3000, requests_made=4,
        )
        response = self.get(admin_client_, run)
        html = response.content.decode()
        assert response.status_code == 200
        assert re.search(r'role="progressbar"[^>]*aria-valuenow="25"', html)
        assert "Page 3 of 12" in html and "3,000 created" in html
        assert 'hx-trigger="every 1s"' in html

    def test_every_page_read_but_still_running_stops_short_of_100_and_says_finishing(self, admin_client_):
        # After the last page a full walk still looks for deletions and recomputes awaiting
        # reply; a full bar beside "Running" would look stuck.
        run = SyncRun.objects.create(
            resource="messages", mode="full", status="running", started_at=timezone.now(),
            pages_done=12, pages_total=12, records_created=3000, requests_made=13,
        )
        html = self.get(admin_client_, run).content.decode()
        assert re.search(r'role="progressbar"[^>]*aria-valuenow="99"[^>]*aria-valuetext="Finishing"', html)
        assert 'aria-valuenow="100"' not in html
        assert "Every page read; finishing" in html and "Page 12 of 12" not in html

    def test_finished_stops_polling_and_tells_the_page(self, admin_client_):
        run = make_success("messages", timezone.now(), records_seen=5)
        response = self.get(admin_client_, run)
        assert response.status_code == 286  # htmx stops polling
        assert json.loads(response["HX-Trigger"]) == {"sync-finished": {}}
        html = response.content.decode()
        assert "Succeeded" in html and 'hx-trigger="every 1s"' not in html  # back to the idle 10 s look
        assert not re.search(r"<button[^>]*disabled", html)

    def test_failed_with_refused_credentials_says_what_to_do(self, admin_client_):
        run = SyncRun.objects.create(
            resource="messages", mode="incremental", status="failed", finished_at=timezone.now(),
            error="Nexudus refused the user name or password.", error_kind="credentials",
        )
        response = self.get(admin_client_, run)
        assert response.status_code == 286
        html = response.content.decode()
        assert "Nexudus refused the credentials: check NEXUDUS_USERNAME / NEXUDUS_PASSWORD" in html
        assert "Nexudus refused the user name or password." in html

    def test_an_unknown_run_is_404(self, admin_client_):
        assert admin_client_.get("/sync/runs/999999/", headers=HX).status_code == 404

    def test_without_htmx_goes_back_to_the_page(self, admin_client_):
        run = make_success("messages", timezone.now())
        response = admin_client_.get(reverse("sync-run", args=[run.pk]))
        assert response.status_code == 302 and response["Location"] == URL


@pytest.mark.django_db
class TestStartValidation:
    @pytest.mark.parametrize("data", [{}, {"resource": "coworkers"}, {"resource": "messages", "mode": "sideways"}])
    def test_bad_posts_get_a_clear_400(self, admin_client_, data):
        response = admin_client_.post("/sync/start/", data, headers=HX)
        assert response.status_code == 400
        assert response.content  # says which value and why
        assert not SyncRun.objects.exists()

    @pytest.mark.parametrize("field", ["resource", "mode"])
    @pytest.mark.parametrize("headers", [HX, {}])
    def test_a_posted_value_comes_back_as_inert_text(self, admin_client_, field, headers):
        hostile = '<script>alert(document.cookie)</script><img src=x onerror="alert(1)">'
        response = admin_client_.post("/sync/start/", {"resource": "messages", field: hostile}, headers=headers)
        assert response.status_code == 400
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert response["X-Content-Type-Options"] == "nosniff"  # no browser guesses it is HTML
        assert hostile in response.content.decode()  # quoted as plain text, for the person to read
        assert not SyncRun.objects.exists()

    def test_get_is_not_allowed(self, admin_client_):
        assert admin_client_.get("/sync/start/").status_code == 405

    def test_csrf_is_required(self, admin_user):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.force_login(admin_user)
        assert client.post("/sync/start/", {"resource": "messages"}).status_code == 403


@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_refused_credentials_on_a_real_sync_are_explained(admin_client_, sandbox_source, settings):
    sandbox.seed(accounts=2, customers=3, messages=5)
    settings.NEXUDUS_PASSWORD = "not-the-password"
    run = sync_messages(client=sandbox_client())
    assert run.status == "failed" and run.error_kind == "credentials"
    html = admin_client_.get(URL).content.decode()
    assert "Nexudus refused the credentials: check NEXUDUS_USERNAME / NEXUDUS_PASSWORD" in html
    assert "not-the-password" not in html


# --- With a real Celery worker ---------------------------------------------------------------


def poll(client, run_id: int, *, timeout: float = 60) -> list:
    """Poll the component as htmx would (every 0.2 s here) until it says stop; every answer."""
    answers, deadline = [], time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = client.get(reverse("sync-run", args=[run_id]), headers=HX)
        answers.append(response)
        if response.status_code == 286:
            return answers
        assert response.status_code == 200
        time.sleep(0.2)
    raise AssertionError(f"sync run #{run_id} did not finish in {timeout} s")


def percent(response) -> int | None:
    found = re.search(r'role="progressbar"[^>]*aria-valuenow="(\d+)"', response.content.decode())
    return int(found.group(1)) if found else None


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_sync_now_queues_one_run_shows_progress_and_the_result(admin_client_, sandbox_source, sync_worker, settings):
    sandbox.seed(accounts=4, customers=20, messages=300)
    sandbox.set_faults(latency_ms=120)  # slow enough to watch
    settings.NEXUDUS_PAGE_SIZE = 25  # 12 pages

    response = admin_client_.post("/sync/start/", {"resource": "messages", "mode": "full"}, headers=HX)
    assert response.status_code == 200
    html = response.content.decode()
    run = SyncRun.objects.get()
    assert run.trigger == "admin" and run.mode == "full"
    assert f'hx-get="/sync/runs/{run.pk}/"' in html and 'hx-trigger="every 1s"' in html

    answers = poll(admin_client_, run.pk)
    seen = [p for p in map(percent, answers) if p is not None]
    assert any(0 < p < 100 for p in seen), f"no progress seen between 0 and 100: {seen}"
    assert seen == sorted(seen), "the progress went backwards"
    final = answers[-1].content.decode()
    assert 'aria-valuenow="100"' in final and "Succeeded" in final
    assert "300 seen · 300 created" in final
    assert SyncRun.objects.count() == 1
    run.refresh_from_db()
    assert run.status == "success" and run.pages_done == run.pages_total == 12


@pytest.mark.worker
@pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])
def test_pressing_twice_while_running_starts_one_run(admin_client_, sandbox_source, sync_worker, settings):
    sandbox.seed(accounts=4, customers=20, messages=200)
    sandbox.set_faults(latency_ms=150)
    settings.NEXUDUS_PAGE_SIZE = 25

    first = admin_client_.post("/sync/start/", {"resource": "messages", "mode": "incremental"}, headers=HX)
    run = SyncRun.objects.get()
    deadline = time.monotonic() + 30
    while SyncRun.objects.get().status == "queued" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert SyncRun.objects.get().status == "running"
    second = admin_client_.post("/sync/start/", {"resource": "messages", "mode": "full"}, headers=HX)
    third = admin_client_.post("/sync/start/", {"resource": "messages", "mode": "incremental"})
    assert first.status_code == second.status_code == 200 and third.status_code == 302
    assert "A sync was already queued or running" in second.content.decode()
    assert f'hx-get="/sync/runs/{run.pk}/"' in second.content.decode()
    poll(admin_client_, run.pk)
    assert SyncRun.objects.count() == 1
    # Once it is over, the button starts a new one.
    admin_client_.post("/sync/start/", {"resource": "accounts"}, headers=HX)
    assert SyncRun.objects.count() == 2
    poll(admin_client_, SyncRun.objects.order_by("-pk").first().pk)


@pytest.mark.parametrize("seconds, text", [
    (0, "under 0.1 s"), (0.04, "under 0.1 s"), (0.1, "0.1 s"), (3, "3.0 s"), (59.94, "59.9 s"),
    (60, "1 min"), (143.2, "2 min 23 s"), (3600, "60 min"),
])
def test_how_long_a_run_took_reads(seconds, text):
    """A run of a few milliseconds said "in 0.0 s"."""
    from inbox.templatetags.times import took

    assert took(timedelta(seconds=seconds)) == text
