"""The full-text index: kept in step with the mirror by the database itself, on both databases."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from inbox.models import CoworkerMessage
from inbox.mailbox.search import apply_search, search_terms
from inbox.platform.search import fts5_query, tsquery
from inbox.mailbox.counts import message_counts
from inbox.mailbox.filters import InboxFilters
from tests.factories import build_message

pytestmark = pytest.mark.django_db


def found(text: str) -> list[int]:
    return sorted(apply_search(CoworkerMessage.objects.all(), text).values_list("pk", flat=True))


def test_terms_are_words_only():
    assert search_terms('OR "x" NEAR(a b) -c * ana@example.com') == ["or", "x", "near", "a", "b", "c", "ana", "example", "com"]
    assert search_terms("!!! ???") == []
    assert search_terms("Ключи КЛЮЧИ") == ["ключи"]
    assert fts5_query(["ab", "cd"]) == '"ab"* "cd"*'
    assert tsquery(["ab", "cd"]) == "'ab':* & 'cd':*"
    # A single letter is a whole word, not the start of most of the index.
    assert fts5_query(["a", "bc"]) == '"a" "bc"*'
    assert tsquery(["a", "bc"]) == "'a' & 'bc':*"


def test_each_searched_field_is_indexed():
    CoworkerMessage.objects.bulk_create([
        build_message(id=1, subject="Quarterly zephyr", body_text=""),
        build_message(id=2, subject="", body_text="the zephyr blows"),
        build_message(id=3, subject="x", body_text="y", coworker_full_name="Zephyrine Moss"),
        build_message(id=4, subject="x", body_text="y", coworker_email="zephyr@winds.example"),
        build_message(id=5, subject="x", body_text="y", coworker_company_name="Zephyr Ltd"),
        build_message(id=6, subject="unrelated", body_text="nothing", coworker_full_name=None,
                      coworker_email=None, coworker_company_name=None),
    ])
    assert found("zephyr") == [1, 2, 3, 4, 5]
    assert found("zeph") == [1, 2, 3, 4, 5]  # prefix
    assert found("zephyr blows") == [2]  # every word required
    assert found("winds.example") == [4]


def test_words_written_with_a_hyphen_or_apostrophe_are_found_typed_whole():
    """Both indexes cut "Wi-Fi" into wi and fi; its joined form is indexed beside the text."""
    CoworkerMessage.objects.bulk_create([
        build_message(id=1, subject="The Wi-Fi is down", body_text=""),
        build_message(id=2, subject="x", body_text="Your check-in is at 9"),
        build_message(id=3, subject="x", body_text="y", coworker_full_name="Siobhán O’Brien"),
        build_message(id=4, subject="x", body_text="wifi and checkin, written whole"),
        build_message(id=5, subject="Wi fi", body_text="two words"),
    ])
    assert found("wifi") == [1, 4]
    assert found("wi fi") == [1, 5]  # as before: the parts, as words
    assert found("wi-fi") == found("Wi‐Fi") == [1, 4]  # typed joined too: Wi-Fi and WiFi alike
    assert found("checkin") == found("check-in") == [2, 4]
    assert found("obrien") == found("o'brien") == found("O’Brien") == [3]
    assert found("brien") == [3]
    assert found("wif") == [1, 4]  # the start of the joined word, like any word


def test_a_typed_word_with_a_hyphen_or_apostrophe_is_one_term_but_numbers_stay_parts():
    assert search_terms("wi-fi O'Brien check‐in") == ["wifi", "obrien", "checkin"]
    assert search_terms("2024-05-01 555-0100") == ["2024", "05", "01", "555", "0100"]
    assert search_terms("-x y- 'quoted'") == ["x", "y", "quoted"]  # not inside a word: not joined


def test_a_synced_message_is_found_by_its_joined_words():
    """The sync derives the joined words with the body's text (not only the tests' factory)."""
    from inbox.nexudus.records import parse_message
    from inbox.sync.upsert import apply_message_page
    from tests.sync.test_upsert import raw_message

    apply_message_page([parse_message(raw_message(1, Subject="Re: Wi-Fi", Body="<p>The e-mail of <b>O'Neil</b></p>"))])
    message = CoworkerMessage.objects.get()
    assert message.search_joined == "email oneil wifi"
    assert found("wifi") == found("email") == found("oneil") == [message.pk]
    # An edit in Nexudus takes the old joined words out of the index and puts the new ones in.
    apply_message_page([parse_message(raw_message(1, Subject="Re: parking", Body="<p>nothing joined</p>",
                                                  UpdatedOn="2025-06-01T10:00:00Z"))])
    assert found("wifi") == [] and CoworkerMessage.objects.get().search_joined == ""


def test_bulk_upsert_updates_and_deletes_keep_the_index_in_step():
    """The sync writes with INSERT ... ON CONFLICT DO UPDATE: the index must follow (triggers on
    SQLite, the generated column on PostgreSQL)."""
    CoworkerMessage.objects.bulk_create([build_message(id=10, subject="alpha original")])
    assert found("alpha") == [10]
    CoworkerMessage.objects.bulk_create(
        [build_message(id=10, subject="bravo replaced"), build_message(id=11, subject="alpha new")],
        update_conflicts=True, unique_fields=["id"], update_fields=["subject", "body_text"],
    )
    assert found("bravo") == [10]
    assert found("alpha") == [11]
    assert found("original") == []
    CoworkerMessage.objects.filter(pk=11).update(body_text="charlie")
    assert found("charlie") == [11] and found("alpha") == [11]
    CoworkerMessage.objects.filter(pk=10).delete()
    assert found("bravo") == []


def test_unchanged_upserts_do_not_touch_the_index():
    CoworkerMessage.objects.bulk_create([build_message(id=20, subject="delta")])
    for _ in range(3):
        CoworkerMessage.objects.bulk_create(
            [build_message(id=20, subject="delta", is_new_message=True)],
            update_conflicts=True, unique_fields=["id"], update_fields=["subject", "is_new_message"],
        )
    assert found("delta") == [20]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO inbox_message_fts(inbox_message_fts) VALUES ('integrity-check')")


def test_search_inside_counts_and_subqueries(staff_user):
    """The search condition follows the table alias when Django nests the view as a subquery."""
    CoworkerMessage.objects.bulk_create([build_message(id=30, subject="echo", is_new_message=True),
                                         build_message(id=31, subject="foxtrot")])
    counts = message_counts(user=staff_user, filters=InboxFilters(q="echo"))
    assert (counts.total, counts.unread) == (1, 1)


def test_both_plans_give_the_same_rows_on_either_database(staff_user, monkeypatch):
    """Rare words and common words are written differently (see inbox/platform/search.py); whichever the
    probe picks, the list and the counts are the same."""
    from inbox.platform import search

    CoworkerMessage.objects.bulk_create(
        [build_message(id=300 + i, subject="india common" if i % 2 else "india", is_new_message=i % 3 == 0)
         for i in range(40)]
    )
    answers = []
    for few in (True, False):
        monkeypatch.setattr(search, "_matches_fewer_than", lambda *args, few=few: few)
        rows = list(apply_search(CoworkerMessage.objects.order_by("-created_on", "-id"), "india common").values_list("pk", flat=True))
        counts = message_counts(user=staff_user, filters=InboxFilters(q="india common"))
        answers.append((rows, counts.total, counts.unread))
    assert answers[0] == answers[1]
    assert len(answers[0][0]) == 20


def test_the_probe_tells_rare_from_common():
    from inbox.platform import search

    CoworkerMessage.objects.bulk_create([build_message(id=400 + i, subject="juliet") for i in range(12)])
    CoworkerMessage.objects.bulk_create([build_message(id=500, subject="kilo")])
    probe = search._pg_probe if connection.vendor == "postgresql" else search._sqlite_probe
    rare = tsquery(["kilo"]) if connection.vendor == "postgresql" else fts5_query(["kilo"])
    common = tsquery(["juliet"]) if connection.vendor == "postgresql" else fts5_query(["juliet"])
    assert probe("default", rare, 10) is True
    assert probe("default", common, 10) is False


def test_the_database_objects_of_the_inbox_survive_every_migration():
    """The search index, its triggers, the tally and the filter indexes are made by raw SQL in
    migrations 0002-0005. On SQLite a later migration that alters the messages table rebuilds it
    (create, copy, drop, rename) and silently drops them all: this test, run on a database built
    from every migration, catches that (re-create them in that migration)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT type, name FROM sqlite_master WHERE tbl_name IN ('inbox_coworkermessage', 'inbox_message_fts', 'inbox_message_tally')")
            names = {name for _, name in cursor.fetchall()}
            expected = {"inbox_message_fts", "inbox_message_fts_ai", "inbox_message_fts_ad", "inbox_message_fts_au",
                        "inbox_message_tally", "inbox_tally_ai", "inbox_tally_ad", "inbox_tally_au"}
            cursor.execute("SELECT name FROM sqlite_master WHERE name = 'inbox_message_fts_vocab'")
            names |= {row[0] for row in cursor.fetchall()}
            expected.add("inbox_message_fts_vocab")
            expected.add("msg_flags")
        else:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'inbox_coworkermessage'")
            names = {row[0] for row in cursor.fetchall()}
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'inbox_coworkermessage'::regclass")
            names |= {row[0] for row in cursor.fetchall()}
            expected = {"inbox_msg_search", "inbox_tally_insert_delete", "inbox_tally_update", "inbox_tally_truncate"}
    expected |= {"msg_newest", "msg_dir_newest", "msg_account_newest", "msg_customer_newest", "msg_counts_id",
                 "msg_account_received_newest"}
    assert expected <= names, f"missing: {sorted(expected - names)}"


# --- A message's Nexudus Id typed in the search -------------------------------------------------


def test_a_message_id_typed_in_the_search_names_that_message(staff_client):
    """An Id copied from Nexudus ("1234567", "#1234567") offers its message above the list (which
    still lists the messages containing the number), on the page and after a filter's swap; the
    subject and name are escaped text; a deleted message, another number or words offer nothing."""
    CoworkerMessage.objects.bulk_create([
        build_message(id=1234567, subject="<b>Parking</b> pass", body_text="x", coworker_full_name="Anna Virtanen"),
        build_message(id=2, subject="Invoice 1234567", body_text="y"),
        build_message(id=3, subject="Gone", body_text="z", deleted_at="2026-01-01T00:00:00Z"),
    ])

    def notice(query: str, **headers) -> str:
        html = staff_client.get("/", {"q": query}, **headers).content.decode()
        found = re.search(r'<p class="notice by-id">(.*?)</p>', html, re.S)
        return found.group(1) if found else ""

    page = notice("1234567")
    assert 'href="/messages/1234567/"' in page
    assert "&lt;b&gt;Parking&lt;/b&gt; pass" in page and "<b>" not in page
    assert "from <bdi dir=\"auto\">Anna Virtanen</bdi>" in page
    assert notice(" #1234567 ") == page
    assert 'href="/messages/1234567/"' in notice("1234567", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results")
    html = staff_client.get("/", {"q": "1234567"}).content.decode()
    assert 'id="msg-2"' in html  # the text match is still listed
    CoworkerMessage.objects.bulk_create([build_message(id=8080, subject="Keys", body_text="k")])
    alone = staff_client.get("/", {"q": "8080"}).content.decode()  # no text holds the number
    assert 'href="/messages/8080/"' in alone
    assert "No other messages match these filters." in alone and "No messages match" not in alone
    for other in ("3", "999", "1234567 parking", "12345678901234567890123", "١٢٣"):
        assert notice(other) == "", other
