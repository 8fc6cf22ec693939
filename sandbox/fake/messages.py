"""Message rows: conversations in several languages, replies quoting the question, automated mail.

``MessageFactory`` builds one row (a tuple in ``COLUMNS`` order, ready for a bulk insert) for a
customer's thread; ``sandbox/generate.py`` decides when each is sent and in which thread.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sandbox.fake.accounts import LOCATIONS
from sandbox.fake.ids import guid
from sandbox.fake.people import language_of
from sandbox.models import Coworker, EmailAccount

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
