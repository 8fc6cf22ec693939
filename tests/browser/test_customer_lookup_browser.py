"""The customer field in a real Chromium: type a name, choose with the keyboard or the pointer, and
the inbox is filtered by that customer (customer=<CoworkerId> in the URL, their name in the heading)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from inbox.models import CoworkerMessage
from inbox.sync.customers import refresh_customers
from tests.mailbox.test_customer_lookup import BASE_TIME, make_message

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PEOPLE = [
    (31, "Anna Virtanen", "anna@example.fi", "Lumen SA"),
    (32, "Joanna Smith", "jo@example.com", "Acme Ltd"),
    (33, "Zoë Ærøskøbing", "zoe@example.dk", "Kōbō KK"),
    (34, "Борис Пастернак", "boris@example.ru", None),
]


@pytest.fixture
def customers(db, settings):
    settings.INBOX_COUNTS_CACHE_SECONDS = 0
    cache.clear()
    rows = [
        make_message(coworker_id=pk, coworker_full_name=name, coworker_email=email, coworker_company_name=company,
                     subject=f"From {name} #{n}", created_on=BASE_TIME + dt.timedelta(minutes=10 * i + n))
        for i, (pk, name, email, company) in enumerate(PEOPLE) for n in range(3)
    ]
    CoworkerMessage.objects.bulk_create(rows)
    refresh_customers()


def field(page):
    return page.locator("#id_customer")


def listbox(page):
    return page.locator("#customer-listbox")


def suggest(page, typed: str, count: int):
    """Type ``typed`` into the customer field (emptied first); its ``count`` options, once shown
    for the whole text (those of a shorter prefix may be on show first, on a busy machine)."""
    box = field(page)
    box.click()
    box.fill("")
    box.type(typed, delay=30)
    expect(listbox(page)).to_have_attribute("data-query", typed.strip()[:100])
    options = listbox(page).locator("[role=option]")
    expect(options).to_have_count(count)
    return options


def test_type_arrow_down_enter_filters_by_that_customer(signed_in_page, customers):
    page = signed_in_page
    page.goto("/")
    page.wait_for_load_state("networkidle")
    box = field(page)
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")
    suggest(page, "zoe", 1)
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(page.locator("#customer-status")).to_have_text("1 customer matches")
    page.keyboard.press("ArrowDown")
    option = listbox(page).locator("[role=option]").first
    expect(option).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", "customer-option-33")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]customer=33(&|$)"))
    expect(page.locator("h1.list-title")).to_have_text("Zoë Ærøskøbing")
    expect(box).to_have_value("Zoë Ærøskøbing")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(listbox(page)).to_be_hidden()
    expect(page.locator("#rows > li.msg")).to_have_count(3)
    assert "Zoë" not in page.url and "zoe" not in page.url  # the number only, never the text
    # A reload keeps it: the field shows the name, the heading names the customer.
    page.reload()
    expect(field(page)).to_have_value("Zoë Ærøskøbing")
    expect(page.locator("h1.list-title")).to_have_text("Zoë Ærøskøbing")
    assert page.errors == []


def test_arrows_move_through_the_options_and_escape_closes(signed_in_page, customers):
    page = signed_in_page
    page.goto("/")
    box = field(page)
    box.click()
    box.type("ann", delay=30)
    options = listbox(page).locator("[role=option]")
    expect(options).to_have_count(2)
    expect(options.nth(0)).to_contain_text("Anna Virtanen")  # a word starts with "ann"
    expect(page.locator("#customer-status")).to_have_text("2 customers match")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(options.nth(1)).to_have_attribute("aria-selected", "true")
    expect(options.nth(0)).to_have_attribute("aria-selected", "false")
    page.keyboard.press("ArrowUp")
    expect(box).to_have_attribute("aria-activedescendant", "customer-option-31")
    page.keyboard.press("Escape")
    expect(listbox(page)).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_be_focused()
    expect(box).to_have_value("ann")
    assert "customer=" not in page.url
    page.keyboard.press("Escape")  # a second Esc puts back what the filter is (nothing)
    expect(box).to_have_value("")


def test_enter_on_a_text_several_customers_match_asks_which_one(signed_in_page, customers):
    """Five people can share a name: Enter on typed text picked the first match without saying
    so. Now one match is chosen at once; several open the suggestions with the first highlighted,
    and say so, and only a second Enter (or the arrows) chooses."""
    page = signed_in_page
    page.goto("/")
    box = field(page)
    box.click()
    page.keyboard.type("ann")  # no pause: Enter waits for the suggestions
    page.keyboard.press("Enter")
    options = listbox(page).locator("[role=option]")
    expect(options).to_have_count(2)
    expect(listbox(page)).to_be_visible()
    expect(box).to_have_attribute("aria-activedescendant", "customer-option-31")
    expect(page.locator("#customer-status")).to_have_text("Choose one: 2 customers match")
    assert "customer=" not in page.url
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]customer=32(&|$)"))
    expect(page.locator("h1.list-title")).to_have_text("Joanna Smith")
    box.fill("")
    box.type("ann", delay=30)
    expect(options).to_have_count(2)
    page.keyboard.press("Enter")  # the suggestions are there already: the same question
    expect(box).to_have_attribute("aria-activedescendant", "customer-option-31")
    expect(page).to_have_url(re.compile(r"[?&]customer=32(&|$)"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]customer=31(&|$)"))
    expect(page.locator("h1.list-title")).to_have_text("Anna Virtanen")
    assert page.errors == []


def test_no_match_is_said_and_a_number_still_works(signed_in_page, customers):
    page = signed_in_page
    page.goto("/")
    box = field(page)
    box.click()
    box.type("qwxz", delay=30)
    expect(page.locator("#customer-status")).to_have_text("No customer matches")
    expect(page.locator(".combo-note")).to_contain_text("No customer matches “qwxz”")
    box.fill("")
    box.type("34", delay=30)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]customer=34(&|$)"))
    expect(page.locator("h1.list-title")).to_have_text("Борис Пастернак")
    # Emptying the field drops the filter.
    box.fill("")
    page.keyboard.press("Enter")
    expect(page.locator("h1.list-title")).to_have_text("Inbox")
    assert "customer=" not in page.url


def test_choosing_with_the_pointer(signed_in_page, customers):
    page = signed_in_page
    page.goto("/?direction=incoming")
    box = field(page)
    box.click()
    box.type("пастер", delay=30)
    listbox(page).locator("[role=option]", has_text="Борис Пастернак").click()
    expect(page).to_have_url(re.compile(r"customer=34"))
    expect(page).to_have_url(re.compile(r"direction=incoming"))  # composes with the other filters
    expect(page.locator("h1.list-title")).to_have_text("Борис Пастернак · received")  # the view's direction too
    # The clear button drops the customer and keeps the rest.
    page.get_by_role("button", name="Clear the customer").click()
    expect(page).not_to_have_url(re.compile(r"customer="))
    expect(page).to_have_url(re.compile(r"direction=incoming"))
    expect(page.locator("h1.list-title")).to_have_text("Received")
    expect(field(page)).to_have_value("")
    expect(field(page)).to_be_focused()
    expect(page.get_by_role("button", name="Clear the customer")).to_be_hidden()


def test_a_company_typed_in_the_customer_field_filters_by_the_whole_company(signed_in_page, customers):
    page = signed_in_page
    page.goto("/?customer=33")
    box = field(page)
    expect(box).to_have_value("Zoë Ærøskøbing")
    options = suggest(page, "acme", 2)  # the company, then its one customer
    expect(options.first).to_contain_text("Company · 1 customer")
    expect(page.locator("#customer-status")).to_have_text("1 customer matches, and 1 company")
    page.keyboard.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "customer-company-1")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]company=Acme(\+|%20)Ltd(&|$)"))
    assert "customer=" not in page.url  # everyone of the company, not the customer chosen before
    expect(page.locator("h1.list-title")).to_have_text("Acme Ltd")
    expect(page.locator("#id_company")).to_have_value("Acme Ltd")
    expect(box).to_have_value("")
    expect(box).to_be_focused()
    expect(page.locator("#rows > li.msg")).to_have_count(3)
    page.go_back()
    expect(page).to_have_url(re.compile(r"customer=33"))
    expect(field(page)).to_have_value("Zoë Ærøskøbing")
    expect(page.locator("#id_company")).to_have_value("")
    assert page.errors == []


def test_a_customer_chosen_drops_the_company_filter(signed_in_page, customers):
    """A company and a customer not at it left the list empty (customer=33&company=Acme Ltd)."""
    page = signed_in_page
    page.goto("/?company=Acme+Ltd")
    expect(page.locator("#rows > li.msg")).to_have_count(3)
    suggest(page, "zoe", 1)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]customer=33(&|$)"))
    assert "company=" not in page.url
    expect(page.locator("#id_company")).to_have_value("")
    expect(page.locator("#rows > li.msg")).to_have_count(3)
    # A number typed does the same.
    page.goto("/?company=Acme+Ltd")
    field(page).click()
    field(page).type("31", delay=30)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"[?&]customer=31(&|$)"))
    assert "company=" not in page.url
    assert page.errors == []


def test_without_javascript_the_field_takes_a_number(new_page, staff_user, customers):
    page = new_page(staff_user, java_script_enabled=False)
    page.goto("/")
    page.fill("#id_customer", "31")
    page.click("text=Apply filters")
    expect(page).to_have_url(re.compile(r"customer=31"))
    expect(page.locator("h1.list-title")).to_have_text("Anna Virtanen")
    page.click("text=Find a customer by name")
    page.fill("#lookup-q", "acme")
    page.click("button:text('Find')")
    page.click("text=Joanna Smith")
    expect(page).to_have_url(re.compile(r"customer=32"))


def test_back_and_forward_show_the_customer_of_the_address(signed_in_page, customers):
    page = signed_in_page
    page.goto("/")
    box = field(page)
    for typed, pk, name in (("zoe", 33, "Zoë Ærøskøbing"), ("борис", 34, "Борис Пастернак")):
        box.click()
        box.fill("")
        box.type(typed, delay=30)
        expect(listbox(page).locator("[role=option]")).to_have_count(1)
        page.keyboard.press("ArrowDown")
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(rf"customer={pk}"))
        expect(page.locator("h1.list-title")).to_have_text(name)
    page.go_back()
    expect(page).to_have_url(re.compile(r"customer=33"))
    expect(page.locator("h1.list-title")).to_have_text("Zoë Ærøskøbing")
    expect(field(page)).to_have_value("Zoë Ærøskøbing")
    expect(page.locator("#id_customer_value")).to_have_value("33")
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"customer="))
    expect(field(page)).to_have_value("")
    expect(page.locator("#id_customer_value")).to_have_value("")
    page.go_forward()
    expect(page).to_have_url(re.compile(r"customer=33"))
    expect(field(page)).to_have_value("Zoë Ærøskøbing")
    # htmx reports the requests that Back cut short (the live poll's) as errors: nothing else may appear.
    assert [e for e in page.errors if not re.match(r"htmx:(sendAbort|afterRequest), \[object HTMLDivElement\]", e)] == []


def test_a_key_pressed_before_the_suggestions_arrive_waits_for_them(signed_in_page, customers):
    page = signed_in_page
    page.goto("/?customer=33")
    box = field(page)
    expect(box).to_have_value("Zoë Ærøskøbing")
    box.click()
    box.fill("")
    page.keyboard.type("пастер")  # no pause: the suggestions for it are not there yet
    page.keyboard.press("Enter")  # the best match, once they are
    expect(page).to_have_url(re.compile(r"customer=34"))
    expect(page.locator("h1.list-title")).to_have_text("Борис Пастернак")
    box.fill("")
    page.keyboard.type("virt")
    page.keyboard.press("ArrowDown")  # the first suggestion, once they are there
    expect(box).to_have_attribute("aria-activedescendant", "customer-option-31")
    assert "customer=34" in page.url  # nothing chosen yet


def test_keys_pressed_while_the_suggestions_are_on_their_way_ask_once(signed_in_page, customers):
    """ArrowDown then Enter straight after typing: the suggestions already asked for are waited
    for, not asked again (htmx would abort the first request and log it as an error)."""
    page = signed_in_page
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    asked = []
    page.on("request", lambda request: asked.append(request.url) if "/customers/lookup/" in request.url else None)
    failed = []
    page.on("requestfailed", lambda r: failed.append((r.url, r.failure)))
    page.goto("/")
    box = field(page)
    box.click()
    page.keyboard.type("Zoë")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"customer=33"))
    expect(page.locator("h1.list-title")).to_have_text("Zoë Ærøskøbing")
    page.wait_for_load_state("networkidle")
    assert errors == [] and failed == []
    assert sum(1 for url in asked if "q=Zo%C3%AB" in url) == 1, asked


def test_tab_from_a_field_just_emptied_goes_on_to_the_next_control(signed_in_page, customers):
    """Emptying the field hides its ×, the control Tab goes to next: focus went to <body>."""
    page = signed_in_page
    page.goto("/?customer=33")
    box = field(page)
    expect(box).to_have_value("Zoë Ærøskøbing")
    box.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")
    page.keyboard.press("Tab")
    expect(page).not_to_have_url(re.compile(r"customer="))
    page.wait_for_timeout(200)
    focused = page.evaluate("document.activeElement === document.body ? 'body' : document.activeElement.outerHTML.slice(0, 80)")
    assert focused != "body"
    assert page.evaluate("!!document.activeElement.closest('#filters')")  # the next filter control
    assert page.evaluate("document.activeElement.hidden") is False


def test_tab_away_from_text_matching_one_customer_chooses_them(signed_in_page, customers):
    """Typed, the one match suggested, Tab: that customer is the filter (the text used to vanish
    with no filter applied); focus goes on to the next control."""
    page = signed_in_page
    page.goto("/")
    suggest(page, "Joanna Smith", 1)
    page.keyboard.press("Tab")
    expect(page).to_have_url(re.compile(r"[?&]customer=32(&|$)"))
    expect(page.locator("h1.list-title")).to_have_text("Joanna Smith")
    expect(field(page)).to_have_value("Joanna Smith")
    assert page.evaluate("document.activeElement !== document.body && document.activeElement.id !== 'id_customer'")


def test_tab_away_from_text_matching_several_keeps_the_filter_and_says_so(signed_in_page, customers):
    page = signed_in_page
    page.goto("/?customer=33")
    suggest(page, "anna", 2)  # Anna Virtanen and Joanna Smith
    page.keyboard.press("Tab")
    expect(field(page)).to_have_value("Zoë Ærøskøbing")  # what the filter is, as the address says
    expect(page).to_have_url(re.compile(r"[?&]customer=33(&|$)"))
    expect(page.locator("#customer-status")).to_have_text("No customer chosen for “anna”: still Zoë Ærøskøbing")
