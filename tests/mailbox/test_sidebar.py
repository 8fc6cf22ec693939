"""The sidebar's lists of mail accounts (``inbox/mailbox/sidebar.py``, drawn by Jinja2): the
filter's choices and the counts' facets, escaped, linked into their view and marked when chosen."""

from __future__ import annotations

import re
from html import unescape

import pytest

from inbox.mailbox.counts import AccountCount, MessageCounts
from inbox.mailbox.sidebar import account_facets_html
from tests.factories import make_account, make_message

pytestmark = pytest.mark.django_db

EVIL = '<script>alert(1)</script>"\'&'
HX = {"HX-Request": "true"}


def _accounts():
    evil = make_account(display_name=EVIL, email_address="evil@example.com")
    desk = make_account(display_name="Front desk", email_address="desk@example.com")
    for _ in range(1234 // 100):
        make_message(email_account_id=desk.pk, email_account_display_name="Front desk")
    make_message(email_account_id=evil.pk, email_account_display_name=EVIL)
    return evil, desk


def test_the_filters_choices_escape_names_and_select_the_chosen_account(staff_client):
    evil, desk = _accounts()
    html = staff_client.get(f"/?account={desk.pk}").content.decode()
    select = re.search(r'<select id="id_account".*?</select>', html, re.S).group(0)
    assert "<script" not in select and "&lt;script&gt;" in select
    options = re.findall(r'<option value="([^"]*)" ?(selected)?>([^<]*)</option>', select)
    assert ("", "", "All accounts") in options
    assert (str(desk.pk), "selected", "Front desk") in options
    assert (str(evil.pk), "", unescape("&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;")) in [
        (v, s, unescape(label)) for v, s, label in options
    ]
    assert options[-1][0] == "none"  # the default-settings choice, last
    assert len([o for o in options if o[1]]) == 1
    # "NONE" in the URL is the same choice as "none"
    select = re.search(r'<select id="id_account".*?</select>', staff_client.get("/?account=NONE").content.decode(), re.S)
    assert re.search(r'<option value="none" selected>', select.group(0))


def test_an_account_that_is_no_current_one_is_named_in_the_choices(staff_client):
    """/?account=99999: the form says the view the list shows (it said "All accounts", and the
    next change of another filter dropped the account)."""
    _accounts()
    html = staff_client.get("/?account=99999").content.decode()
    select = re.search(r'<select id="id_account".*?</select>', html, re.S).group(0)
    options = re.findall(r'<option value="([^"]*)" ?(selected)?>([^<]*)</option>', select)
    assert ("99999", "selected", "Account 99999 (not a current account)") in options
    assert len([o for o in options if o[1]]) == 1
    select = re.search(r'<select id="id_account".*?</select>', staff_client.get("/").content.decode(), re.S).group(0)
    assert "not a current account" not in select


def test_an_account_that_is_no_id_is_ignored_by_the_form_as_by_the_list(staff_client):
    """/?account=abc: the list shows every account and says "abc" was ignored; the form says
    "All accounts", so the next change of another filter does not send "abc" (and its error) again."""
    _accounts()
    html = staff_client.get("/?account=abc&unread=1").content.decode()
    assert "is not a mail account" in html
    select = re.search(r'<select id="id_account".*?</select>', html, re.S).group(0)
    assert "abc" not in select and " selected" not in select


def test_the_choices_are_the_live_accounts_in_name_order_as_they_are_now():
    """The choices' query is compiled once; what it reads is read anew at every call."""
    from django.utils import timezone

    from inbox.mailbox.selectors import account_choices

    zed = make_account(display_name="Zed desk", email_address="zed@example.com")
    ann = make_account(display_name="Ann desk", email_address="ann@example.com")
    gone = make_account(display_name="Gone desk", email_address="gone@example.com", deleted_at=timezone.now())
    assert account_choices()[:2] == [(str(ann.pk), "Ann desk"), (str(zed.pk), "Zed desk")]
    assert str(gone.pk) not in dict(account_choices())
    type(zed).objects.filter(pk=zed.pk).update(display_name="Aaron desk")
    assert [label for _, label in account_choices()][:2] == ["Aaron desk", "Ann desk"]


def test_the_counts_facets_escape_names_link_into_the_view_and_count(staff_client):
    evil, desk = _accounts()
    html = staff_client.get("/inbox/counts/?direction=incoming", headers=HX).content.decode()
    facets = re.search(r'<ul class="facets accounts".*?</ul>', html, re.S).group(0)
    assert "<script" not in facets and "&lt;script&gt;" in facets
    items = re.findall(r'<li( class="selected")?><a href="([^"]+)" title="([^"]*)">([^<]*)</a> '
                       r'<span class="count" data-account="([^"]+)">([^<]+)</span></li>', facets)
    by_account = {account: (selected, unescape(href), unescape(name), count) for selected, href, _, name, account, count in items}
    assert by_account[str(desk.pk)] == ("", f"/?direction=incoming&account={desk.pk}", "Front desk", "12")
    assert by_account[str(evil.pk)][2] == EVIL and by_account[str(evil.pk)][3] == "1"
    chosen = staff_client.get(f"/inbox/counts/?account={desk.pk}", headers=HX).content.decode()
    assert re.search(rf'<li class="selected"><a href="/\?account={desk.pk}"', chosen)


def test_big_counts_are_grouped_and_capped_counts_say_at_least():
    for capped, suffix in ((False, ""), (True, "+")):
        accounts = [AccountCount(account=7, name="Front desk", count=12345, querystring="account=7", selected=True, at_least=capped),
                    AccountCount(account="none", name="Default settings", count=3, querystring="account=none", at_least=capped)]
        html = str(account_facets_html(MessageCounts(total=0, unread=0, incoming=0, outgoing=0, accounts=accounts,
                                                     capped=capped)))
        assert f'<li class="selected"><a href="/?account=7" title="Front desk">Front desk</a> <span class="count" data-account="7">12,345{suffix}</span></li>' in html
        assert f'<li><a href="/?account=none" title="Default settings">Default settings</a> <span class="count" data-account="none">3{suffix}</span></li>' in html
    # Each account's own: the chosen one counted exactly beside others counted among the first found.
    accounts = [AccountCount(account=7, name="Front desk", count=151, querystring="account=7", selected=True),
                AccountCount(account=8, name="Hello", count=40, querystring="account=8", at_least=True)]
    html = str(account_facets_html(MessageCounts(total=151, unread=0, incoming=0, outgoing=0, accounts=accounts, accounts_capped=True)))
    assert 'data-account="7">151<' in html and 'data-account="8">40+<' in html
