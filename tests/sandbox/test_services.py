"""Changing the sandbox (services), its commands, and live mode."""

from __future__ import annotations

import random
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sandbox import live, services
from sandbox.management.commands import sandbox_config
from sandbox.models import Config, CoworkerMessage, Deletion, EmailAccount
from tests.sandbox.fixtures import NOW

pytestmark = pytest.mark.django_db(databases=["default", "sandbox"])


class TestChanges:
    def test_add_messages(self, sandbox_data, api):
        before = max(services.message_ids())
        ids = services.add_messages(3)
        assert ids == [before + 1, before + 2, before + 3]
        records = api("spaces/coworkermessages/", id=f"[{','.join(map(str, ids))}]").json()
        assert sorted(r["Id"] for r in records) == ids
        for record in records:
            assert record["Incoming"] is True and record["IsNewMessage"] is True
            assert record["CreatedOn"] == record["UpdatedOn"] > NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
            # A body may be null now and then, as the API allows; the customer is always named.
            assert record["CoworkerId"] and "Body" in record

    def test_add_outgoing_messages_through_an_account(self, sandbox_data):
        account = EmailAccount.objects.order_by("id").first()
        ids = services.add_messages(2, incoming=False, account_id=account.id)
        rows = CoworkerMessage.objects.filter(id__in=ids)
        assert {(m.incoming, m.is_new_message, m.email_account_id) for m in rows} == {(False, False, account.id)}
        assert {m.email_account_email_address for m in rows} == {account.email_address}

    def test_add_messages_refuses_unknown_account_and_empty_sandbox(self, sandbox_data):
        with pytest.raises(ValueError, match="No sandbox mail account"):
            services.add_messages(1, account_id=1)
        services.reset()
        with pytest.raises(ValueError, match="seed it first"):
            services.add_messages(1)

    def test_set_read_bumps_updated_on(self, sandbox_data):
        ids = services.message_ids()[:4]
        assert services.set_read(ids, False) == 4
        rows = CoworkerMessage.objects.filter(id__in=ids)
        assert all(m.is_new_message and m.updated_on > NOW for m in rows)
        services.set_read(ids, True)
        assert not CoworkerMessage.objects.filter(id__in=ids, is_new_message=True).exists()

    def test_delete_messages_is_logged_and_gone_from_the_api(self, sandbox_data, api):
        ids = services.message_ids()[:2]
        assert services.delete_messages([*ids, 42]) == 2
        assert api(f"spaces/coworkermessages/{ids[0]}").status_code == 404
        assert api("spaces/coworkermessages").json()["TotalItems"] == 398
        assert set(Deletion.objects.filter(resource="coworkermessages").values_list("record_id", flat=True)) == set(ids)

    def test_update_and_delete_accounts(self, sandbox_data, api):
        account_id = services.account_ids()[0]
        services.update_account(account_id, error_count=12, active=False)
        record = api(f"crm/emailaccounts/{account_id}").json()
        assert (record["ErrorCount"], record["Active"]) == (12, False)
        assert record["UpdatedOn"] > NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert services.delete_accounts([account_id]) == 1
        assert api(f"crm/emailaccounts/{account_id}").status_code == 404
        with pytest.raises(ValueError):
            services.update_account(account_id, error_count=1)

    def test_configure_rejects_unknown_settings(self, db):
        with pytest.raises(ValueError, match="no setting"):
            services.configure(nonsense=1)

    def test_reset_empties_everything(self, sandbox_data):
        services.set_faults(latency_ms=5)
        services.reset()
        assert services.is_empty() and not Config.objects.exists()
        assert Config.current().latency_ms == 0


class TestCommands:
    def test_sandbox_seed(self, db):
        out = StringIO()
        call_command("sandbox_seed", "--messages", "120", "--customers", "10", "--accounts", "14", stdout=out)
        assert "120 messages" in out.getvalue()
        assert CoworkerMessage.objects.count() == 120 and EmailAccount.objects.count() == 14

    def test_sandbox_seed_if_empty_keeps_data(self, sandbox_data):
        out = StringIO()
        call_command("sandbox_seed", "--if-empty", "--messages", "10", stdout=out)
        assert "already has data" in out.getvalue()
        assert CoworkerMessage.objects.count() == 400

    def test_sandbox_seed_reset_clears_faults(self, db):
        services.set_faults(failure_rate=1.0)
        call_command("sandbox_seed", "--reset", "--messages", "10", stdout=StringIO())
        assert Config.current().failure_rate == 0.0

    def test_sandbox_seed_refuses_nonsense(self, db):
        with pytest.raises(CommandError, match="negative"):
            call_command("sandbox_seed", "--messages", "-1", stdout=StringIO())
        with pytest.raises(CommandError, match="customers"):
            call_command("sandbox_seed", "--customers", "0", stdout=StringIO())

    def test_sandbox_live_ticks(self, sandbox_data):
        out = StringIO()
        call_command("sandbox_live", "--ticks", "3", "--interval", "0", "--seed", "1", "-v", "2", stdout=out)
        lines = [line for line in out.getvalue().splitlines() if "new incoming" in line]
        assert len(lines) == 3
        assert CoworkerMessage.objects.count() >= 403

    def test_sandbox_live_is_quiet_at_the_default_verbosity(self, sandbox_data):
        out = StringIO()
        call_command("sandbox_live", "--ticks", "2", "--interval", "0", "--seed", "1", stdout=out)
        assert "new incoming" not in out.getvalue()


class TestConfigCommand:
    def run(self, *args) -> str:
        out = StringIO()
        call_command("sandbox_config", *args, stdout=out)
        return out.getvalue()

    def test_every_knob_has_an_option(self, db):
        knobs = {field.name for field in Config._meta.concrete_fields if not field.primary_key}
        assert knobs == set(sandbox_config.OPTIONS)
        shown = self.run()
        assert all(name in shown for name in knobs)

    def test_sets_the_given_knobs_and_keeps_the_others(self, db):
        services.configure(latency_ms=7)
        out = self.run(
            "--dir-convention", "learn", "--sort-direction-echo", "word", "--businesses-denied-status", "403",
            "--failure-rate", "0.25", "--truncate-rate", "0.5", "--rate-per-second", "9", "--token-expires-in", "60",
            "--refresh-expires-in", "120", "--require-two-factor",
        )
        config = Config.current()
        assert (config.dir_convention, config.sort_direction_echo, config.businesses_denied_status) == ("learn", "word", 403)
        assert (config.failure_rate, config.truncate_rate, config.rate_per_second) == (0.25, 0.5, 9)
        assert (config.token_expires_in, config.refresh_expires_in, config.require_two_factor) == (60, 120, True)
        assert config.latency_ms == 7
        assert "'learn'" in out and "403" in out

    def test_none_and_default_clear_the_nullable_knobs(self, db):
        services.configure(businesses_denied_status=404, rate_per_second=3, require_two_factor=True)
        self.run("--businesses-denied-status", "none", "--rate-per-second", "default", "--no-require-two-factor")
        config = Config.current()
        assert (config.businesses_denied_status, config.rate_per_second, config.require_two_factor) == (None, None, False)

    def test_defaults(self, db):
        services.configure(dir_convention="learn", sort_direction_echo="omit", failure_rate=1.0, latency_ms=5)
        self.run("--defaults", "--latency-ms", "3")
        config = Config.current()
        assert (config.dir_convention, config.sort_direction_echo, config.failure_rate) == ("developers", "integer", 0.0)
        assert config.latency_ms == 3

    def test_keyword_call(self, db):
        call_command("sandbox_config", dir_convention="learn", businesses_denied_status=401, stdout=StringIO())
        assert (Config.current().dir_convention, Config.current().businesses_denied_status) == ("learn", 401)

    @pytest.mark.parametrize(
        "args",
        [["--dir-convention", "sideways"], ["--sort-direction-echo", "ASC"], ["--businesses-denied-status", "200"],
         ["--failure-rate", "1.5"], ["--latency-ms", "-1"], ["--rate-per-second", "0"]],
    )
    def test_refuses_nonsense(self, db, args):
        with pytest.raises(CommandError):
            self.run(*args)
        assert not Config.objects.exists()

    def test_the_api_follows(self, sandbox_data, api):
        self.run("--dir-convention", "learn", "--sort-direction-echo", "omit")
        data = api("spaces/coworkermessages", dir=1).json()
        assert "CurrentSortDirection" not in data
        assert [r["Id"] for r in data["Records"]] == services.message_ids()[::-1][:25]
        self.run("--businesses-denied-status", "403")
        assert api("sys/businesses").status_code == 403


class TestLive:
    def test_tick_adds_incoming_mail_and_keeps_healthy_accounts_checked(self, sandbox_data):
        before = CoworkerMessage.objects.count()
        line = live.tick(random.Random(3))
        assert "new incoming" in line
        assert CoworkerMessage.objects.count() > before
        newest = CoworkerMessage.objects.order_by("-id").first()
        assert newest.updated_on > NOW
        healthy = EmailAccount.objects.get(profile="healthy", id=services.account_ids()[0])
        assert healthy.last_check_time > NOW

    def test_health_moves_over_many_ticks(self, sandbox_data):
        rng = random.Random(11)
        before = dict(EmailAccount.objects.values_list("id", "error_count"))
        for _ in range(25):
            live.change_health(rng)
        after = dict(EmailAccount.objects.values_list("id", "error_count"))
        assert before != after
        assert EmailAccount.objects.get(profile="stale").last_check_time < NOW  # stale stays stale

    def test_tick_on_an_empty_sandbox(self, db):
        assert "empty" in live.tick(random.Random(1))
