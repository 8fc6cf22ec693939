"""Finding a customer by name, e-mail, company or number: the suggestions of the customer field.

Reads the customers table (``Customer``, kept by the messages sync: ``inbox/sync/customers.py``).
Both the typed text and the table's ``search_key`` are folded the same way (``inbox/folding.py``),
so matching ignores letter case and accents in any script, and is a plain substring test that
both databases answer alike (``LIKE '%...%'``, escaped by Django): CJK names have no spaces to
split words on, so a part of a name must be found anywhere.

A word of one or two letters matches only the start of a word ("mu": Müller, not Samuel), save in
scripts written without spaces. The companies whose own name holds every word are suggested too
(choosing one filters the inbox by ``company=``, everyone of that company), when one of the
customers found is at one of them: typing a company into the customer field otherwise offers its
people one by one. Ordered usefully: the customer whose number was typed, then the
customers with a word starting with the text ("ann" → Anna before Joanna), then the rest; within
each, the most recently written to first. One query (and one more when companies are suggested): the matches, their order, the first ``limit`` and how many match
(a window count) in one pass over the table (20,000 customers: 2-4 ms on SQLite), or over
PostgreSQL's trigram index of the key (``inbox/platform/customer_search.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, Q, Value, When, Window

from inbox.folding import fold
from inbox.models import Customer

LOOKUP_LIMIT = 8  # suggested as the person types
PAGE_LIMIT = 50  # listed on the lookup's own page (without JavaScript): a page to read, not a menu
COMPANY_LIMIT = 3  # companies suggested beside the customers
COMPANY_SCAN = 50  # the companies of the matching customers looked at (those with most customers)
MIN_COMPANY_TEXT = 2  # characters typed before companies are suggested
MAX_LOOKUP_LENGTH = 100  # characters of the typed text that are used
MAX_ID = 2**63 - 1
MAX_WORDS = 6
MIN_ANYWHERE = 3  # shorter words match the start of a word only


@dataclass(frozen=True)
class CompanyMatch:
    """A company whose name holds every typed word, as Nexudus spells it, and its customers."""

    name: str
    customers: int
    starts: bool = False  # the typed text starts the company's name: offered before the people


@dataclass(frozen=True)
class CustomerLookup:
    """What a person typed, the first matches (best first) and how many customers match in all."""

    query: str
    matches: list[Customer] = field(default_factory=list)
    total: int = 0
    number: int | None = None  # the text is a customer number (Enter filters by it, matched or not)
    companies: list[CompanyMatch] = field(default_factory=list)

    @property
    def companies_first(self) -> list[CompanyMatch]:
        return [c for c in self.companies if c.starts]

    @property
    def companies_after(self) -> list[CompanyMatch]:
        return [c for c in self.companies if not c.starts]

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.matches))


def _unspaced(char: str) -> bool:
    """A letter of a script written without spaces between words (CJK, kana, Thai, Khmer ...)."""
    code = ord(char)
    return (0x0E00 <= code <= 0x109F or 0x1780 <= code <= 0x17FF or 0x3040 <= code <= 0x30FF
            or 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or code >= 0x20000)


def _anywhere(word: str) -> bool:
    """Whether ``word`` is looked for anywhere, or only at the start of a word: one or two letters
    start too many words' insides to be useful ("mu" is Müller, not Samuel), and a trigram index
    serves only word starts for them. Scripts without spaces are always looked for anywhere."""
    return len(word) >= MIN_ANYWHERE or any(_unspaced(c) for c in word)


def typed_id(text: str) -> int | None:
    """A Nexudus Id as a person types one ("1234567", "#1234567"), or None."""
    text = text.strip().lstrip("#")
    if text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID:
        return int(text)
    return None


def lookup_customers(*, query: str, limit: int = LOOKUP_LIMIT) -> CustomerLookup:
    """The customers matching ``query`` (every word of it, in name, e-mail or company)."""
    # Control characters (a NUL from a hand-made address) are no part of a name: left out, they
    # are not echoed back as an empty-looking “” either.
    query = "".join(c for c in (query or "") if c.isprintable() or c.isspace()).strip()[:MAX_LOOKUP_LENGTH]
    folded = fold(query)
    number = typed_id(query)
    if not folded and number is None:
        return CustomerLookup(query=query)
    words = folded.split()[:MAX_WORDS]
    matching = Q()
    for word in words:
        matching &= Q(search_key__contains=word if _anywhere(word) else " " + word)
    rank = [When(search_key__contains=" " + folded, then=Value(1))] if folded else []
    if number is not None:
        matching |= Q(pk=number)
        rank.insert(0, When(pk=number, then=Value(2)))
    rows = list(
        Customer.objects.filter(matching)
        .annotate(
            rank=Case(*rank, default=Value(0), output_field=IntegerField()),
            total=Window(Count("pk")),
        )
        .only("id", "full_name", "email", "company", "last_message_at", "message_count")
        .order_by("-rank", "-last_message_at", "-id")[:limit]
    )
    # Companies are looked for when one of the customers found is at a company whose name holds
    # the words (a text that starts a word of a company's name ranks its customers first, with the
    # people whose own names start so): not for a name alone, a number (a customer's, as typed) or
    # a single letter. The second query reads every matching customer (~3 ms over 20,000 on SQLite).
    wants_companies = (rows and words and number is None and len(folded) >= MIN_COMPANY_TEXT
                       and any(_company_holds(row.company, words) for row in rows))
    companies = _companies(matching, words, folded) if wants_companies else []
    return CustomerLookup(query=query, matches=rows, total=rows[0].total if rows else 0, number=number,
                          companies=companies)


def _company_holds(company: str, words: list[str]) -> bool:
    """Whether a company's own name (folded) holds every word, as the lookup matches words."""
    key = " " + fold(company) if company else ""
    return bool(key) and all(_holds(key, word) for word in words)


def _holds(key: str, word: str) -> bool:
    """Whether folded text ``key`` (with a leading space) holds ``word`` as the lookup matches it."""
    return (word if _anywhere(word) else " " + word) in key


def _companies(matching: Q, words: list[str], folded: str) -> list[CompanyMatch]:
    """The companies, among the matching customers', whose own name holds every word: the ones
    with most customers first. One query (the customers' companies, grouped), then the words are
    tested against each company's folded name here: the table keeps one key for all three fields."""
    found = []
    groups = (
        Customer.objects.filter(matching).exclude(company="")
        .values_list("company").annotate(n=Count("pk")).order_by("-n", "company")[:COMPANY_SCAN]
    )
    for name, n in groups:
        if _company_holds(name, words):
            found.append(CompanyMatch(name=name, customers=n, starts=fold(name).startswith(folded)))
            if len(found) == COMPANY_LIMIT:
                break
    return found


def customer_name(coworker_id: int | None) -> str:
    """What to call customer ``coworker_id`` in a heading: their name, else e-mail, else their number."""
    if coworker_id is None:
        return ""
    row = Customer.objects.filter(pk=coworker_id).values_list("full_name", "email").first()
    if row and (row[0] or row[1]):
        return row[0] or row[1]
    return f"Customer {coworker_id}"
