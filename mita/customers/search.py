"""Customer search (reads only): the word index's words, the prefix and trigram lookups, the cards it shows, and the
registry of extra sources other apps (metering: meter number and brand) fill from their AppConfig.ready().

How it works (docs/customers.md, "Search"): every searchable value of a customer or connection is kept as
normalised words in `SearchTerm` (written by `mita.customers.services`). A query is normalised the same way and
each word is matched as a *prefix* of a word, which is one range of a B-tree index on both databases, with a
LIMIT, so a search never reads more rows than it shows. On PostgreSQL a single word of three letters or more
that found too little is also looked for *inside* name and address words through a trigram (GIN) index.
Nothing here scans `%term%` without an index.
"""

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import phonenumbers
from django.db import connection as db
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from mita.core.access import Access
from mita.core.search import SearchHit, register_search
from mita.customers.models import Connection, Customer, SearchTerm
from mita.customers.selectors import CUSTOMER_READ_ROLES

MAX_TERM = 64  # SearchTerm.term's length
RESULT_CUSTOMERS = 50  # customers shown at most; a broad query says "more" and asks for more letters
CANDIDATES = 500  # words of the longest query word checked for the query's other words
TRIGRAM_MIN = 3  # a trigram index cannot help a shorter fragment
TRIGRAM_KINDS = (SearchTerm.Kind.NAME, SearchTerm.Kind.ADDRESS)  # the kinds of the partial trigram index (0003)
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+")
_LAST_CHAR = "\U0010ffff"  # sorts after any character: [prefix, prefix + this) is every word starting with prefix


# Words ---------------------------------------------------------------------------------------------------------


def _is_word_char(char: str) -> bool:
    # Letters, digits, and the vowel signs of Indic scripts (category M) that belong inside a word.
    return char.isalnum() or unicodedata.category(char).startswith("M")


def search_words(text: str) -> list[str]:
    """The words of a text as the index keeps them: upper case, Latin accents dropped ("Muhozá" -> "MUHOZA"),
    split at anything that is not a letter or a digit, each at most 64 characters."""
    text = text or ""
    if text.isascii():  # most names and every number: the same words, found faster (the benchmark builds 10M)
        return [word.upper()[:MAX_TERM] for word in _ASCII_WORD.findall(text)]
    decomposed = unicodedata.normalize("NFKD", text or "")
    words: list[str] = []
    current: list[str] = []
    for char in decomposed:
        if "\u0300" <= char <= "\u036f":  # a Latin diacritic split off its letter by NFKD: dropped
            continue
        if _is_word_char(char):
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return [unicodedata.normalize("NFC", word).upper()[:MAX_TERM] for word in words]


def search_key(text: str) -> str:
    """A number as the index keeps it: its words joined ("AAL-C-000001" -> "AALC000001", "07 88" -> "0788")."""
    return "".join(search_words(text))[:MAX_TERM]


@lru_cache(maxsize=4096)
def phone_terms(phone: str) -> tuple[str, ...]:
    """An E.164 phone as two words: its digits with the country code ("250788123456") and without it, its
    national significant number ("788123456"), so "+25078…", "25078…", "78…" and, read by `matches`, the
    national "078…" all find it. Country codes are prefix-free: the first 1-3 digits that are one are it."""
    digits = search_key(phone)
    if not digits:
        return ()
    if phone.startswith("+") and digits.isdigit():
        for length in (1, 2, 3):
            if int(digits[:length]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
                return (digits, digits[length:])
    return (digits,)


def _national_significant(key: str) -> str:
    """A phone typed the national way ("0788…"): the digits after the trunk prefix 0, or "" if it is not one."""
    return key[1:] if len(key) >= 4 and key.isdigit() and key.startswith("0") else ""


def customer_terms(
    *,
    number: str,
    name: str,
    phone: str,
    phone_2: str = "",
    id_number: str = "",
    village: str = "",
    street: str = "",
    house: str = "",
    bank_account: str = "",
) -> list[tuple[str, str]]:
    """(kind, term) rows of a customer's own words (their connections' numbers are added per connection)."""
    Kind = SearchTerm.Kind
    rows: list[tuple[str, str]] = [(Kind.CUSTOMER_NUMBER, search_key(number))]
    rows += [(Kind.NAME, word) for word in search_words(name)]
    rows += [(Kind.PHONE, term) for value in (phone, phone_2) for term in phone_terms(value)]
    rows += [(Kind.ID_NUMBER, search_key(id_number)), (Kind.BANK_ACCOUNT, search_key(bank_account))]
    rows += [(Kind.ADDRESS, word) for word in search_words(f"{village} {street}")]
    rows.append((Kind.ADDRESS, search_key(house)))
    seen: set[tuple[str, str]] = set()
    unique = []
    for kind, term in rows:
        if term and (kind, term) not in seen:
            seen.add((kind, term))
            unique.append((str(kind), term))
    return unique


def customer_terms_of(customer: Customer) -> list[tuple[str, str]]:
    return customer_terms(
        number=customer.number,
        name=customer.name,
        phone=customer.phone,
        phone_2=customer.phone_2,
        id_number=customer.id_number,
        village=customer.village,
        street=customer.street,
        house=customer.house,
        bank_account=customer.bank_account,
    )


def connection_term(number: str) -> str:
    return search_key(number)


# Sources -------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Match:
    """A customer found, and the connection the words belonged to (None: the customer's own words)."""

    customer_id: int
    connection_id: int | None


@dataclasses.dataclass(frozen=True)
class SearchSource:
    """Another app's search: `find(operator, words, limit)` returns at most `limit` matches of the operator's
    connections or customers for the query's normalised words (each word a prefix to match), through its own
    indexes. Metering registers one for meter numbers and brands."""

    name: str
    find: Callable[[Any, list[str], int], list[Match]]


_sources: dict[str, SearchSource] = {}


def register_search_source(source: SearchSource) -> None:
    _sources[source.name] = source


def _prefix(term: str) -> Q:
    """Words starting with `term`, as one range of the (operator, term) index. SQLite's LIKE ignores case and so
    its index; a range on the upper-cased words uses it. PostgreSQL's LIKE 'x%' uses the varchar_pattern_ops index
    whatever the database's collation (a range would follow the collation's order, not the characters')."""
    if db.vendor == "postgresql":
        return Q(term__startswith=term)
    return Q(term__gte=term, term__lt=term + _LAST_CHAR)


def _terms(operator: Any) -> QuerySet[SearchTerm]:
    return SearchTerm.objects.filter(operator=operator)


def _rows(queryset: QuerySet[SearchTerm], limit: int) -> list[Match]:
    return [
        Match(customer, connection)
        for customer, connection in queryset.values_list("customer_id", "connection_id")[:limit]
    ]


def _rows_of(lookups: list[QuerySet[SearchTerm]], limit: int) -> list[Match]:
    """The first `limit` rows of each lookup; on PostgreSQL in one statement (UNION ALL of limited selects)."""
    sliced = [lookup.values_list("customer_id", "connection_id")[:limit] for lookup in lookups]
    if len(sliced) > 1 and db.features.supports_slicing_ordering_in_compound:
        return [Match(customer, connection) for customer, connection in sliced[0].union(*sliced[1:], all=True)]
    return [Match(customer, connection) for rows in sliced for customer, connection in rows]


def matches(*, operator: Any, query: str, limit: int = RESULT_CUSTOMERS) -> list[Match]:
    """Who the query finds at the operator, at most `limit` customers in the order found (no ranking: whole query
    as a prefix, then several words, other apps' sources, trigram); a customer may come with several matches,
    one per connection whose number matched."""
    words = search_words(query)
    if not words:
        return []
    key = "".join(words)[:MAX_TERM]
    rows_wanted = limit * 4  # several words of one customer may match; a few more rows than customers
    # The query as one number or phone ("AAL 0001", "0788 123 456"), with a national phone read without its 0 ...
    lookups = [_terms(operator).filter(_prefix(key))]
    if national := _national_significant(key):
        lookups.append(_terms(operator).filter(_prefix(national), kind=SearchTerm.Kind.PHONE))
    found = _rows_of(lookups, rows_wanted)
    # ... or, when that found nobody and there are several words, customers with a word starting with each ("jea
    # uwa" finds Jeanne Uwase): the longest word picks at most CANDIDATES words, whose customers must have the
    # others too (a bounded read).
    if len(words) > 1 and not found:
        longest, *others = sorted(set(words), key=len, reverse=True)
        candidates = _rows(_terms(operator).filter(_prefix(longest)), CANDIDATES)
        customer_ids = {match.customer_id for match in candidates}
        for word in others:
            if not customer_ids:
                break
            having = _terms(operator).filter(_prefix(word), customer_id__in=customer_ids)
            customer_ids &= set(having.values_list("customer_id", flat=True))
        found += [match for match in candidates if match.customer_id in customer_ids]
    for source in _sources.values():
        found += source.find(operator, words, rows_wanted)
    # Inside a word, for a single word of letters only (names and places; numbers match by their start).
    if (
        _customers_in(found) < limit
        and db.vendor == "postgresql"
        and len(words) == 1
        and len(key) >= TRIGRAM_MIN
        and key.isalpha()
    ):
        inside = _terms(operator).filter(kind__in=TRIGRAM_KINDS, term__contains=key)
        found += _rows(inside, rows_wanted)
    return _first_customers(found, limit)


def _customers_in(found: list[Match]) -> int:
    return len({match.customer_id for match in found})


def _first_customers(found: Iterable[Match], limit: int) -> list[Match]:
    kept: list[Match] = []
    customers: set[int] = set()
    seen: set[Match] = set()
    for match in found:
        if match in seen:
            continue
        if match.customer_id not in customers:
            if len(customers) == limit:
                continue
            customers.add(match.customer_id)
        seen.add(match)
        kept.append(match)
    return kept


def customers_matching(*, operator: Any, query: str) -> Q:
    """A filter on Customer for `GET /api/v1/customers?q=` (paginated, so every match): the prefix rules of
    `matches` as semi-joins on the word index, without the trigram pass and other apps' sources."""
    words = search_words(query)
    if not words:
        return Q()
    key = "".join(words)[:MAX_TERM]
    match = Q(pk__in=_terms(operator).filter(_prefix(key)).values("customer_id"))
    if national := _national_significant(key):
        phones = _terms(operator).filter(_prefix(national), kind=SearchTerm.Kind.PHONE)
        match |= Q(pk__in=phones.values("customer_id"))
    if len(words) > 1:
        together = Q()
        for word in set(words):
            together &= Q(pk__in=_terms(operator).filter(_prefix(word)).values("customer_id"))
        match |= together
    return match


def connections_matching(*, operator: Any, query: str) -> Q:
    """A filter on Connection for `GET /api/v1/connections?q=`: the start of the connection's number."""
    key = search_key(query)
    if not key:
        return Q()
    numbers = _terms(operator).filter(_prefix(key), kind=SearchTerm.Kind.CONNECTION_NUMBER)
    return Q(pk__in=numbers.values("connection_id"))


# Cards ---------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Card:
    """One connection (or a customer who has none yet) as the results show it."""

    customer_id: int
    customer_number: str
    owner: str
    phone: str
    address: str
    connection_id: int | None
    connection_number: str
    status: str
    status_label: str
    url: str


@dataclasses.dataclass(frozen=True)
class PhoneGroup:
    """The cards behind one phone: a landlord's or a school's connections together."""

    phone: str
    cards: list[Card]


@dataclasses.dataclass(frozen=True)
class SearchResults:
    query: str
    groups: list[PhoneGroup]
    more: bool  # the query found more customers than shown: type more of it

    @property
    def cards(self) -> list[Card]:
        return [card for group in self.groups for card in group.cards]


def customer_search(*, access: Access, query: str, status: str = "", limit: int = RESULT_CUSTOMERS) -> SearchResults:
    """The search box: the operator's customers and connections the query finds, as cards grouped by phone.

    A customer found by their own words (name, phone, ID, address, bank account, number) shows all their
    connections; one found by a connection's number (or a meter of it) shows that connection. Only the user's
    operator's rows: a regulator or district workspace finds nothing here. `status` keeps, among the customers
    found, those with that status.
    """
    operator = access.operator
    query = (query or "").strip()
    if operator is None or not access.has_role(*CUSTOMER_READ_ROLES):
        return SearchResults(query=query, groups=[], more=False)
    found = matches(operator=operator, query=query, limit=limit + 1)
    customer_ids = list(dict.fromkeys(match.customer_id for match in found))
    more = len(customer_ids) > limit
    customer_ids = customer_ids[:limit]
    whole = {m.customer_id for m in found if m.connection_id is None}
    only = {(m.customer_id, m.connection_id) for m in found if m.connection_id is not None}
    # One query for the customers and their connections (a join), read as tuples: a search makes few round trips.
    rows = Customer.objects.filter(operator=operator, pk__in=customer_ids)
    if status:
        rows = rows.filter(status=status)
    customers: dict[int, tuple[Any, ...]] = {}
    connections: dict[int, list[tuple[int, str, str]]] = {}
    for *customer, connection_id, connection_number, connection_status in rows.values_list(*_CARD_COLUMNS):
        customers[customer[0]] = tuple(customer)
        if connection_id is not None and (customer[0] in whole or (customer[0], connection_id) in only):
            connections.setdefault(customer[0], []).append((connection_id, connection_number, connection_status))
    # Translated once per search, not per card.
    customer_labels = {value: str(label) for value, label in Customer.Status.choices}
    connection_labels = {value: str(label) for value, label in Connection.Status.choices}
    customer_url = _customer_url()
    groups: dict[str, list[Card]] = {}
    for customer_id in customer_ids:
        if customer_id not in customers:  # another status, or a source's match of another operator's customer
            continue
        customer = customers[customer_id]
        url = customer_url(customer_id)
        held = sorted(connections.get(customer_id, []), key=lambda row: row[1])
        cards = [_card(customer, url, (pk, numbered, state, connection_labels[state])) for pk, numbered, state in held]
        if not held:
            cards = [_card(customer, url, (None, "", customer[-1], customer_labels[customer[-1]]))]
        phone = customer[3]
        groups.setdefault(phone, []).extend(cards)
    return SearchResults(
        query=query, groups=[PhoneGroup(phone=phone, cards=cards) for phone, cards in groups.items()], more=more
    )


_CARD_COLUMNS = (
    "pk",
    "number",
    "name",
    "phone",
    "house",
    "street",
    "village",
    "district__name",
    "status",
    "connections__pk",
    "connections__number",
    "connections__status",
)


def _card(customer: tuple[Any, ...], url: str, connection: tuple[int | None, str, str, str]) -> Card:
    """A card from a row of _CARD_COLUMNS's customer part and (connection id, number, status, its label)."""
    customer_id, number, name, phone, house, street, village, district, _status = customer
    connection_id, connection_number, status, label = connection
    return Card(
        customer_id=customer_id,
        customer_number=number,
        owner=name,
        phone=phone,
        address=", ".join(part for part in (house, street, village, district) if part),
        url=url,
        connection_id=connection_id,
        connection_number=connection_number,
        status=status,
        status_label=label,
    )


def _customer_url() -> Callable[[int], str]:
    """The customer page's address for any id, resolved once per search rather than once per card."""
    marker = 987654321
    before, after = reverse("customers:customer_detail", args=[marker]).split(str(marker))
    return lambda customer_id: f"{before}{customer_id}{after}"


# The global search box ------------------------------------------------------------------------------------------


def _global_search(access: Access, query: str) -> list[SearchHit]:
    results = customer_search(access=access, query=query, limit=10)
    return [
        SearchHit(
            kind=_("Connection") if card.connection_id else _("Customer"),
            title=" · ".join(part for part in (card.connection_number, card.owner) if part),
            subtitle=" · ".join(part for part in (card.customer_number, card.phone, card.address) if part),
            url=card.url,
        )
        for card in results.cards
    ]


register_search("customers.customers", _global_search)
