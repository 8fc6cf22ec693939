"""Finding a customer by name, e-mail, company or number (the customer field's suggestions), the
customers table behind it, and the inbox naming the customer it is filtered by."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inbox.folding import fold, search_key
from inbox.mailbox.customers import LOOKUP_LIMIT, customer_name, lookup_customers
from inbox.models import CoworkerMessage, Customer
from tests.factories import build_message
from inbox.sync import customers
from inbox.sync.customers import kept_by_sync, note_written, refresh_customers

pytestmark = pytest.mark.django_db

BASE_TIME = dt.datetime(2025, 3, 10, 9, 0, tzinfo=dt.UTC)


def make_message(**fields) -> CoworkerMessage:
    """An unsaved message (tests/factories.py) with the customer fields these tests are about."""
    defaults = dict(
        coworker_id=7001, coworker_full_name="Zoë Ærøskøbing", coworker_email="zoe@example.dk",
        coworker_company_name="Kōbō KK", email_account=None, created_on=BASE_TIME,
    )
    return build_message(**{**defaults, **fields})

# (CoworkerId, name, e-mail, company, minutes after BASE_TIME of their newest message)
PEOPLE = [
    (1, "Anna Virtanen", "anna.virtanen@example.fi", "Lumen SA", 10),
    (2, "Joanna Smith", "jo@example.com", "Acme Ltd", 50),  # "ann" inside a word, more recent
    (3, "Zoë Ærøskøbing", "zoe@example.dk", "Kōbō KK", 20),
    (4, "Борис Пастернак", "boris@example.ru", None, 30),
    (5, "محمّد الحدّاد", "m.haddad@example.ae", "Café Nord", 40),
    (6, "中村 太郎", "nakamura@example.jp", "株式会社ルーメン", 45),
    (7, None, "nameless@example.org", None, 5),  # Nexudus sent no name
    (8, "Seán O’Brien", "sean@example.ie", "Acme Ltd", 15),
]


def _store(people=PEOPLE) -> None:
    rows = []
    for pk, name, email, company, minutes in people:
        for back in (0, 60 * 24):  # two messages each: the newest names them
            rows.append(make_message(
                coworker_id=pk, coworker_full_name=name, coworker_email=email, coworker_company_name=company,
                created_on=BASE_TIME + dt.timedelta(minutes=minutes) - dt.timedelta(minutes=back),
            ))
    CoworkerMessage.objects.bulk_create(rows)
    refresh_customers()


@pytest.fixture
def people():
    _store()


def found(query: str) -> list[int]:
    return [c.pk for c in lookup_customers(query=query).matches]


# --- Folding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("typed, stored", [
    ("zoe", "Zoë"), ("ZOË", "zoë"), ("aeroskobing", "Ærøskøbing"), ("muller", "Müller"), ("strasse", "Straße"),
    ("lodz", "Łódź"), ("борис", "БОРИС"), ("иорк", "Йорк"), ("محمد", "مُحَمَّد"), ("obrien", "O’Brien"),
    ("jean luc", "Jean-Luc"), ("abc", "ＡＢＣ"), ("istanbul", "İstanbul"),
])
def test_folding_sets_case_and_accents_aside(typed, stored):
    assert fold(typed) == fold(stored)


def test_folding_keeps_what_changes_a_word_in_other_scripts():
    assert fold("ガンダム") != fold("カンタム")  # Japanese voicing marks are letters' sounds, not accents
    assert fold("中村") == "中村"
    assert search_key("Anna Virtanen", None, "", "Kōbō KK") == " anna virtanen kobo kk"


# --- Matching --------------------------------------------------------------------------------------


def test_a_name_without_its_accents_or_in_any_case_finds_the_customer(people):
    assert found("zoe") == [3]
    assert found("ZOË ærø") == [3]
    assert found("aeroskobing") == [3]
    assert found("virtanen") == [1]
    assert found("anna virt") == [1]
    assert found("virtanen anna") == [1]  # every word, in any order
    assert found("obrien") == [8] and found("O'Brien") == [8]


def test_non_latin_scripts_match_by_any_part(people):
    assert found("пастернак") == [4]
    assert found("БОРИС") == [4]
    assert found("астерн") == [4]  # inside a word
    assert found("الحداد") == [5]  # written without the shadda the name has
    assert found("中村") == [6]
    assert found("太郎") == [6]
    assert found("村") == [6]  # CJK: no spaces between words, any part matches
    assert found("ルーメン") == [6]  # the company, in katakana


def test_e_mail_and_company_match(people):
    assert found("anna.virtanen@example.fi") == [1]
    assert found("boris@") == [4]
    assert found("nameless") == [7]
    assert found("kobo") == [3]
    assert found("cafe nord") == [5]
    assert found("acme") == [2, 8]  # both of Acme, the most recently in touch first


def companies(query: str) -> list[tuple[str, int, bool]]:
    return [(c.name, c.customers, c.starts) for c in lookup_customers(query=query).companies]


def test_a_company_whose_name_holds_the_words_is_suggested_with_its_customers(people):
    assert companies("acme") == [("Acme Ltd", 2, True)]  # the text starts its name: offered first
    assert companies("ACME ltd") == [("Acme Ltd", 2, True)]
    assert companies("ltd") == [("Acme Ltd", 2, False)]  # a later word of it: after the people
    assert companies("cafe") == [("Café Nord", 1, True)]  # accents aside, as the names
    assert companies("ルーメン") == [("株式会社ルーメン", 1, False)]  # any part, in a script without spaces
    assert companies("lumen") == [("Lumen SA", 1, True)]
    # A person found by their name or e-mail does not bring their company along.
    assert companies("anna") == [] and companies("sean") == [] and companies("example") == []
    assert companies("seán acme") == []  # the words are split between the name and the company
    assert companies("4") == [] and companies("qwxz") == []
    assert companies("a") == []  # one letter: every company has one
    # One or two letters: the start of a word, as for people ("lt" starts Ltd, not inside Saltwater).
    _store(PEOPLE + [(60, "Pia Salt", "pia@example.se", "Saltwater AB", 1)])
    assert [c[0] for c in companies("lt")] == ["Acme Ltd"]
    assert [c[0] for c in companies("sa")] == ["Lumen SA", "Saltwater AB"]


def test_at_most_a_few_companies_those_with_most_customers_first(people):
    more = [(200 + i, f"Ida Nord {i}", f"ida{i}@example.se", f"Nord {i % 5}", 1) for i in range(9)]
    _store(PEOPLE + more)
    found_companies = companies("nord")
    assert len(found_companies) == 3
    assert found_companies[0][:2] == ("Nord 0", 2) and found_companies[1][:2] == ("Nord 1", 2)


def test_word_starts_come_first_then_the_most_recent(people):
    # Joanna (50 min) is more recent than Anna (10 min), but "ann" starts Anna's name.
    assert found("ann") == [1, 2]
    # Every customer has "example": no word starts with it, so all by recency (newest message first).
    assert found("example") == [2, 6, 5, 4, 3, 8, 1, 7]


def test_one_or_two_letters_match_the_start_of_a_word(people):
    assert found("vi") == [1]  # Virtanen
    assert found("an") == [1]  # Anna, not Joanna
    assert found("jo sm") == [2]
    assert found("z") == [3]
    assert found("村") == [6]  # but a script without spaces: anywhere


def test_postgresql_indexes_the_key_for_parts_of_words():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL index (SQLite reads the table)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'customer_search_trgm'")
        (definition,) = cursor.fetchone()
    assert "gin" in definition and "gin_trgm_ops" in definition


def test_no_match_and_nonsense(people):
    lookup = lookup_customers(query="nobody-like-this")
    assert (lookup.matches, lookup.total) == ([], 0)
    assert found("") == [] and found("   ") == [] and found("%") == [] and found("_") == []
    assert found("a%n") == []  # LIKE's wildcards are text here


def test_a_number_is_the_customer_of_that_number_first(people):
    assert found("4") == [4]
    assert found("#4") == [4]
    lookup = lookup_customers(query="98765")
    assert lookup.matches == [] and lookup.number == 98765  # Enter still filters by it


def test_at_most_a_few_are_shown_and_all_are_counted(people):
    more = [(100 + i, f"Anders Example {i}", f"anders{i}@example.net", None, 100 + i) for i in range(12)]
    _store(PEOPLE + more)
    lookup = lookup_customers(query="ander")
    assert len(lookup.matches) == LOOKUP_LIMIT and lookup.total == 12 and lookup.more == 4
    assert [c.pk for c in lookup.matches] == [111, 110, 109, 108, 107, 106, 105, 104]


def test_the_lookup_page_lists_more_than_the_suggestions(staff_client, people):
    """Without JavaScript the lookup is a page to read: twelve matches are twelve links, not the
    eight suggestions with no way to the other four."""
    more = [(100 + i, f"Anders Example {i}", f"anders{i}@example.net", None, 100 + i) for i in range(12)]
    _store(PEOPLE + more)
    html = staff_client.get("/customers/lookup/", {"q": "ander"}).content.decode()
    assert len(re.findall(r'href="/\?customer=(\d+)"', html)) == 12
    assert "12 customers match" in html and "most recently in touch" not in html
    suggested = staff_client.get("/customers/lookup/", {"q": "ander"}, HTTP_HX_REQUEST="true").content.decode()
    assert len(re.findall(r'data-value="(\d+)"', suggested)) == 8 and "8 of 12 shown" in suggested


def test_the_heading_name_of_a_customer():
    _store()
    assert customer_name(1) == "Anna Virtanen"
    assert customer_name(7) == "nameless@example.org"
    assert customer_name(424242) == "Customer 424242"
    assert customer_name(None) == ""


# --- The table and its upkeep ----------------------------------------------------------------------


def test_the_table_follows_the_live_messages(people):
    anna = Customer.objects.get(pk=1)
    assert (anna.full_name, anna.email, anna.company, anna.message_count) == (
        "Anna Virtanen", "anna.virtanen@example.fi", "Lumen SA", 2)
    assert anna.last_message_at == BASE_TIME + dt.timedelta(minutes=10)
    assert Customer.objects.get(pk=7).full_name == ""
    assert Customer.objects.count() == len(PEOPLE)

    # Anna's name changes in Nexudus: her next message carries the new one.
    new = make_message(coworker_id=1, coworker_full_name="Anna Korhonen", coworker_email=None,
                       coworker_company_name="Lumen SA", created_on=BASE_TIME + dt.timedelta(hours=5))
    new.save()
    # Boris's messages are all deleted in Nexudus (the full sync marks them).
    CoworkerMessage.objects.filter(coworker_id=4).update(deleted_at=BASE_TIME)
    refresh_customers([1, 4, None])
    anna = Customer.objects.get(pk=1)
    assert (anna.full_name, anna.email, anna.message_count) == ("Anna Korhonen", "anna.virtanen@example.fi", 3)
    assert anna.last_message_at == BASE_TIME + dt.timedelta(hours=5)
    assert found("korhonen") == [1] and found("virtanen") == [1]  # the e-mail still says Virtanen
    assert not Customer.objects.filter(pk=4).exists() and found("boris") == []


def test_after_a_sync_the_customers_it_wrote_are_refreshed(people, monkeypatch):
    late = make_message(coworker_id=3, coworker_full_name="Zoë Nielsen", created_on=BASE_TIME + dt.timedelta(days=1))
    other = make_message(coworker_id=555, coworker_full_name="Brand New", coworker_email="new@example.com",
                         created_on=BASE_TIME + dt.timedelta(days=1))
    CoworkerMessage.objects.bulk_create([late, other])
    asked = []
    monkeypatch.setattr(customers, "refresh_customers", lambda ids: asked.append(ids) or refresh_customers(ids))
    note_written([3])  # outside a sync: nothing is kept
    with kept_by_sync(full=False):
        note_written([3, None])
        note_written([555, 3])
    assert asked == [{3, 555}]
    assert Customer.objects.get(pk=3).full_name == "Zoë Nielsen"
    assert found("brand") == [555]
    # A full sync recomputes every customer (it also marks deleted messages).
    Customer.objects.filter(pk=2).update(full_name="stale", search_key=" stale")
    CoworkerMessage.objects.filter(coworker_id=555).update(deleted_at=BASE_TIME)
    with kept_by_sync(full=True):
        pass
    assert Customer.objects.get(pk=2).full_name == "Joanna Smith"
    assert not Customer.objects.filter(pk=555).exists()


# --- The pages -------------------------------------------------------------------------------------

OPTION = re.compile(r'<li id="customer-option-(\d+)" role="option"')


def test_the_lookup_answers_options_for_htmx(staff_client, people):
    response = staff_client.get("/customers/lookup/", {"q": "zoe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert OPTION.findall(html) == ["3"]
    assert 'data-label="Zoë Ærøskøbing"' in html and 'data-value="3"' in html
    assert 'data-status="1 customer matches"' in html
    assert "<html" not in html


HOSTILE = '<img src=x onerror="alert(1)">&amp;'


def test_the_options_escape_what_nexudus_and_the_person_typed(staff_client):
    _store([(41, f"Eve {HOSTILE}", f"eve{HOSTILE}@example.com", f"Evil {HOSTILE}", 5)])
    for typed in ("eve", f"eve {HOSTILE}", f"qwxz {HOSTILE}"):
        html = staff_client.get("/customers/lookup/", {"q": typed}, HTTP_HX_REQUEST="true").content.decode()
        assert "<img" not in html and 'onerror="' not in html
        assert "&amp;amp;" in html  # the text's own "&amp;", escaped once
    assert OPTION.findall(html) == [] and "No customer matches “qwxz &lt;img src=x" in html  # typed, escaped
    html = staff_client.get("/customers/lookup/", {"q": "eve"}, HTTP_HX_REQUEST="true").content.decode()
    assert OPTION.findall(html) == ["41"]
    assert 'data-label="Eve &lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;amp;"' in html
    assert '<bdi>Evil &lt;img src=x onerror=&#34;alert(1)&#34;&gt;&amp;amp;</bdi>' in html


def test_the_lookup_costs_the_same_queries_however_many_match(staff_client, people, django_assert_num_queries):
    staff_client.get("/customers/lookup/", {"q": "x"}, HTTP_HX_REQUEST="true")  # the session, warmed
    with django_assert_num_queries(3):  # the session, the user, the customers (no company says "example")
        staff_client.get("/customers/lookup/", {"q": "example"}, HTTP_HX_REQUEST="true")
    more = [(300 + i, f"Ola Example {i}", f"ola{i}@example.no", f"Example Co {i}", 100) for i in range(30)]
    _store(PEOPLE + more)
    with django_assert_num_queries(4):  # and, one of them at an Example Co, the companies
        staff_client.get("/customers/lookup/", {"q": "example"}, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(3):  # nobody matches: no companies asked for
        staff_client.get("/customers/lookup/", {"q": "qwxz"}, HTTP_HX_REQUEST="true")
    with django_assert_num_queries(3):  # a number: a customer's, not a company's name
        staff_client.get("/customers/lookup/", {"q": "301"}, HTTP_HX_REQUEST="true")


def test_the_options_offer_the_company_and_say_so(staff_client, people):
    html = staff_client.get("/customers/lookup/", {"q": "acme"}, HTTP_HX_REQUEST="true").content.decode()
    assert OPTION.findall(html) == ["2", "8"]
    company = html.index('id="customer-company-1" role="option"')
    assert company < html.index('id="customer-option-2"')  # "acme" starts its name: first
    assert 'data-company="Acme Ltd" data-label="Acme Ltd"' in html and "Company · 2 customers" in html
    assert 'data-status="2 customers match, and 1 company"' in html
    html = staff_client.get("/customers/lookup/", {"q": "ltd"}, HTTP_HX_REQUEST="true").content.decode()
    assert html.index('id="customer-company-1"') > html.index('id="customer-option-8"')  # after the people
    # Without JavaScript: a link to the inbox filtered by the company.
    html = staff_client.get("/customers/lookup/", {"q": "cafe"}).content.decode()
    assert 'href="/?company=Caf%C3%A9%20Nord"' in html and "1 customer" in html
    html = staff_client.get("/", {"company": "Café Nord"}).content.decode()
    ids = {int(i) for i in re.findall(r'<li id="msg-(\d+)"', html)}
    assert ids == set(CoworkerMessage.objects.filter(coworker_id=5).values_list("pk", flat=True))


def test_the_lookup_says_when_nothing_matches(staff_client, people):
    html = staff_client.get("/customers/lookup/", {"q": "qwxz"}, HTTP_HX_REQUEST="true").content.decode()
    assert OPTION.findall(html) == []
    assert 'data-status="No customer matches"' in html and "No customer matches “qwxz”" in html
    html = staff_client.get("/customers/lookup/", {"q": "31337"}, HTTP_HX_REQUEST="true").content.decode()
    assert "press Enter to filter by customer number 31337" in html


def test_control_characters_are_left_out_not_echoed_as_an_empty_name(staff_client, people):
    """``?q=%00`` said: No customer matches “”."""
    assert lookup_customers(query="\x00").query == ""
    assert lookup_customers(query="ander\x00son\x07").query == "anderson"
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        html = staff_client.get("/customers/lookup/", {"q": "\x00"}, **headers).content.decode()
        assert "No customer matches" not in html and "“”" not in html


def test_without_javascript_the_lookup_is_a_page_of_links(staff_client, people):
    response = staff_client.get("/customers/lookup/", {"q": "acme"})
    html = response.content.decode()
    assert response.status_code == 200 and "<h1>Find a customer</h1>" in html
    assert re.findall(r'href="/\?customer=(\d+)"', html) == ["2", "8"]


def test_the_lookup_needs_a_signed_in_person(client, people):
    response = client.get("/customers/lookup/", {"q": "zoe"})
    assert response.status_code in (302, 403)
    assert "Ærøskøbing" not in response.content.decode()


def test_the_inbox_filtered_by_a_customer_names_them(staff_client, people):
    html = staff_client.get("/", {"customer": "3"}).content.decode()
    assert re.search(r'<h1 class="list-title">\s*Zoë Ærøskøbing\s*</h1>', html)
    # The field: the number for a browser without JavaScript, the name for the script to show.
    assert 'name="customer"' in html and 'value="3"' in html and 'data-label="Zoë Ærøskøbing"' in html
    html = staff_client.get("/", {"customer": "3"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="results").content.decode()
    assert re.search(r'<h1 class="list-title">\s*Zoë Ærøskøbing\s*</h1>', html)
    html = staff_client.get("/", {"customer": "999999"}).content.decode()
    assert re.search(r'<h1 class="list-title">\s*Customer 999999\s*</h1>', html)


def test_a_page_naming_its_customer_three_times_reads_the_name_once(staff_client, people):
    for headers in ({}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}):
        with CaptureQueriesContext(connection) as queries:
            html = staff_client.get("/", {"customer": "3"}, **headers).content.decode()
        assert html.count("Zoë Ærøskøbing") >= 2  # the title and the heading (and the field on the page)
        named = [q["sql"] for q in queries.captured_queries if '"inbox_customer"' in q["sql"]]
        assert len(named) == 1, named


def test_a_number_still_filters_as_before(staff_client, people):
    html = staff_client.get("/", {"customer": "4"}).content.decode()
    ids = {int(i) for i in re.findall(r'<li id="msg-(\d+)"', html)}
    assert ids == set(CoworkerMessage.objects.filter(coworker_id=4).values_list("pk", flat=True))
    html = staff_client.get("/", {"customer": "Anna"}).content.decode()
    assert "is not a customer number — ignored" in html
