"""The two template engines (``inbox/templating.py``): the inbox's pages are Jinja2, the others
Django's template language, and both draw the same chrome; a misspelt name in a Jinja2 template is
an error; the CSRF token of a Jinja2 page works in every form on it."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.test import Client
from django.urls import reverse
from jinja2 import UndefinedError

from inbox.mailbox.preferences import density_for

pytestmark = pytest.mark.django_db


def chrome_of(html: str) -> dict[str, str]:
    """The parts both layouts draw: the head's shared assets, the top bar, the live region."""
    head = re.search(r"<head>(.*?)<title>", html, re.S).group(1)
    topbar = re.search(r'<header class="topbar">.*?</header>', html, re.S).group(0)
    topbar = re.sub(r'value="[^"]+"', 'value="<csrf>"', topbar)  # masked anew per response
    topbar = re.sub(r'\s*aria-current="page"\s*', " ", topbar)  # marks the page being shown
    return {"head": " ".join(head.split()), "topbar": " ".join(topbar.split()), "announcer": 'id="announcer"' in html}


@pytest.mark.parametrize("who", ["staff_client", "admin_client_"])
def test_both_layouts_draw_the_same_chrome(request, who):
    """The inbox (Jinja2's layout.html) and the customer search page (Django's base.html) share
    chrome.html's macros: same assets, same navigation for the same person."""
    client = request.getfixturevalue(who)
    inbox = client.get(reverse("inbox-index")).content.decode()
    other = client.get(reverse("customer-lookup")).content.decode()
    assert chrome_of(inbox) == chrome_of(other)
    assert "Sign out" in chrome_of(inbox)["topbar"]
    assert ('href="/sync/"' in inbox) == (who == "admin_client_")
    assert '<a href="/" aria-current="page">Inbox</a>' in inbox


def test_the_signed_out_chrome_has_no_menu(client):
    html = client.get(reverse("login")).content.decode()
    assert '<header class="topbar">' in html and "Sign out" not in html and "menu-toggle" not in html


def test_a_misspelt_name_in_a_jinja2_template_is_an_error():
    """StrictUndefined: a typo fails the tests instead of drawing nothing."""
    template = engines["jinja2"].from_string("{{ filtres.querystring() }}")
    with pytest.raises(UndefinedError):
        template.render({})


def test_every_form_of_the_inbox_page_takes_its_csrf_token(staff_user):
    """The page masks its token once (as Django's template language does) for the sign-out form,
    the bulk marks, the density control and htmx's header: each is accepted."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    html = client.get(reverse("inbox-index")).content.decode()
    tokens = set(re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html))
    header = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    assert len(tokens) == 1 and tokens == {header}
    response = client.post(reverse("inbox-density"), {"density": "compact", "csrfmiddlewaretoken": header})
    assert response.status_code == 302
    assert density_for(user=staff_user) == "compact"
    response = client.post(reverse("inbox-density"), {"density": "comfortable"}, HTTP_X_CSRFTOKEN=header)
    assert response.status_code == 302
    assert density_for(user=staff_user) == "comfortable"


def test_jinja2s_url_is_djangos_reverse_under_any_script_prefix_and_urlconf(settings):
    """``url()`` remembers what it reversed; what it gives is still Django's answer for the
    script prefix (a deployment under /helpdesk/) and the URLconf in force."""
    from django.urls import get_script_prefix, set_script_prefix

    from inbox.templating import url

    assert url("inbox-index") == reverse("inbox-index") == "/"
    assert url("message-detail", 42) == reverse("message-detail", args=[42])
    before = get_script_prefix()
    set_script_prefix("/helpdesk/")
    try:
        assert url("inbox-index") == "/helpdesk/"
        assert url("message-detail", 42) == reverse("message-detail", args=[42])
        assert reverse("message-detail", args=[42]).startswith("/helpdesk/")
    finally:
        set_script_prefix(before)
    assert url("inbox-index") == "/"
    settings.ROOT_URLCONF = "tests.mailbox.other_urls"
    assert url("inbox-index") == "/elsewhere/"


def test_jinja2s_static_is_djangos_for_the_storage_in_force(settings):
    """``static()`` remembers what it found; a new storage (``STORAGES`` changed) is asked again."""
    from django.templatetags.static import static as django_static

    from inbox.templating import static

    assert static("css/app.css") == django_static("css/app.css")
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"base_url": "https://cdn.example.com/assets/"},
        },
    }
    assert static("css/app.css") == "https://cdn.example.com/assets/css/app.css"
