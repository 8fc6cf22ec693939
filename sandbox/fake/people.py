"""Customers (Nexudus coworkers): Latin and non-Latin names, companies, and the nulls Nexudus allows."""

from __future__ import annotations

import random

from sandbox.fake.ids import FIRST_COWORKER_ID
from sandbox.models import Coworker, EmailAccount

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
