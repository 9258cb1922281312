"""`mita bench search --customers N`: N customers with their connections and search words, written in bulk (COPY
on PostgreSQL, executemany on SQLite) into a scratch database, then a mix of searches (hits and misses of every
kind) through `mita.customers.search.customer_search`, the function the list page and the API call. One JSON
line: build time, row counts, and p50/p95/p99 milliseconds per kind of query and overall.
"""

import dataclasses
import datetime
import os
import random
import tempfile
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from mita.accounts.roles import Role
from mita.core.bench import Benchmark, database_vendor, percentile, register_bench, scratch_database
from mita.customers.models import Connection, Customer, SearchTerm
from mita.customers.search import connection_term, customer_search, customer_terms
from mita.registry.bench_world import bench_operator
from mita.registry.models import Operator

FIRST_NAMES = [
    "Jeanne",
    "Eric",
    "Alice",
    "Jean",
    "Claude",
    "Marie",
    "Emmanuel",
    "Grace",
    "Patrick",
    "Diane",
    "Olivier",
    "Aline",
    "Eric",
    "Josiane",
    "Innocent",
    "Chantal",
    "Vincent",
    "Solange",
    "Fabrice",
    "Clementine",
    "Theogene",
    "Angelique",
    "Pacifique",
    "Esperance",
    "Jean-Pierre",
    "Immaculee",
    "Didier",
    "Yvonne",
    "Celestin",
    "Beatrice",
    "Evariste",
    "Divine",
    "Gaspard",
    "Nadine",
    "Faustin",
    "Sandrine",
    "Felix",
    "Agnes",
    "Samuel",
    "Ruth",
    "David",
    "Esther",
    "Joseph",
    "Mary",
    "John",
    "Sarah",
    "Peter",
    "Anna",
    "Paul",
    "Naomi",
    "Daniel",
    "Rebecca",
    "Gilbert",
    "Liliane",
    "Alphonse",
    "Claudine",
    "Gerard",
    "Denise",
]
SYLLABLES = "ka ma ni ra ba ga ha mu ru bi ye zi ki to mbo nga shi bwa nda nzi se we yi gi ra"
STARTS = ("U", "Mu", "Ha", "Ni", "I", "Nd", "Ka", "Ru", "Bi", "Ny", "Tu", "Se")
BANKS = ("Bank of Kigali", "Equity Bank", "I&M Bank", "BPR", "Access Bank", "Umwalimu SACCO")
PROPERTY_TYPES = [choice.value for choice in Connection.PropertyType]


class BenchAccess:
    """A customer care clerk of the bench's operator, as the search sees them (mita.core.access.Access)."""

    def __init__(self, operator: Operator) -> None:
        self.user: Any = None
        self.operator: Any = operator
        self.roles: frozenset[str] = frozenset({Role.CUSTOMER_CARE})

    def operator_ids(self) -> Collection[int] | None:
        return frozenset({self.operator.pk})

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


def add_arguments(parser: Any) -> None:
    parser.add_argument("--customers", type=int, default=1_000_000, help="Customers to make (default 1,000,000).")
    parser.add_argument("--queries", type=int, default=200, help="Searches timed per kind of query (default 200).")
    parser.add_argument("--seed", type=int, default=5, help="Random seed of the data and the queries (default 5).")


def _surnames(rng: random.Random, count: int) -> list[str]:
    syllables = SYLLABLES.split()
    names: set[str] = set()
    while len(names) < count:
        names.add(rng.choice(STARTS) + "".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))))
    return sorted(names)


@dataclasses.dataclass
class Population:
    """What the queries are drawn from: values the build wrote (hits) alongside its row counts."""

    customers: int = 0
    connections: int = 0
    terms: int = 0
    samples: dict[str, list[str]] = dataclasses.field(default_factory=dict)

    def sample(self, kind: str, value: str, rng: random.Random) -> None:
        bucket = self.samples.setdefault(kind, [])
        if len(bucket) < 2000:
            bucket.append(value)
        elif rng.random() < 0.01:
            bucket[rng.randrange(len(bucket))] = value


def _columns(model: Any) -> list[str]:
    """Every column of the model's table, as the model has them now (apps that add fields need no change here)."""
    return [field.column for field in model._meta.concrete_fields]


def _left_out(model: Any) -> dict[str, Any]:
    """What a column the build does not fill gets: NULL where nullable, else the field's default, else ""."""
    values: dict[str, Any] = {}
    for field in model._meta.concrete_fields:
        if field.null:
            values[field.column] = None
        elif field.has_default() and not callable(field.default):
            values[field.column] = field.get_default()
        else:
            values[field.column] = ""
    return values


LEFT_OUT: dict[str, Any] = {}


def _row(columns: Sequence[str], **values: Any) -> tuple[Any, ...]:
    if not LEFT_OUT:
        LEFT_OUT.update(_left_out(Customer) | _left_out(Connection))
    return tuple(values.get(column, LEFT_OUT.get(column, "")) for column in columns)


def _people(
    operator: Operator, count: int, first_id: int, rng: random.Random, population: Population
) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]]:
    """Per customer: its row, its connections' rows and its search words' rows (ids chosen here)."""
    surnames = _surnames(rng, 4000)
    villages = _surnames(random.Random(rng.random()), 3000)
    now = timezone.now()
    connection_id = first_id
    phones: list[str] = []
    for index in range(count):
        customer_id = first_id + index
        number = f"{operator.prefix}-C-{index + 1:07d}"
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(surnames)}"
        if rng.random() < 0.15:
            name += f" {rng.choice(surnames)}"
        if phones and rng.random() < 0.05:  # a landlord, a school: one phone behind several customers
            phone = rng.choice(phones[-500:])
        else:
            phone = f"+2507{rng.choice('2389')}{rng.randrange(10_000_000):07d}"
            phones.append(phone)
        id_number = f"1{rng.randrange(1950, 2006)}{rng.randrange(10**11):011d}" if rng.random() < 0.8 else ""
        village = rng.choice(villages)
        street = f"KG {rng.randrange(1, 900)} St" if rng.random() < 0.3 else ""
        house = str(rng.randrange(1, 400)) if rng.random() < 0.5 else ""
        bank_name, bank_account = ("", "")
        if rng.random() < 0.4:
            bank_name, bank_account = rng.choice(BANKS), f"{rng.randrange(10**12):012d}"
        customer = _row(
            CUSTOMER_COLUMNS,
            id=customer_id,
            operator_id=operator.pk,
            sequence_number=index + 1,
            number=number,
            kind="person",
            name=name,
            phone=phone,
            id_type="national_id" if id_number else "",
            id_number=id_number,
            village=village,
            street=street,
            house=house,
            bank_name=bank_name,
            bank_account=bank_account,
            status="active",
            created_at=now,
            updated_at=now,
        )
        roll = rng.random()
        connection_count = 0 if roll < 0.02 else 1 if roll < 0.87 else 2 if roll < 0.97 else rng.randint(3, 5)
        connections = []
        terms: list[tuple[Any, ...]] = [
            (operator.pk, customer_id, None, kind, term)
            for kind, term in customer_terms(
                number=number,
                name=name,
                phone=phone,
                id_number=id_number,
                village=village,
                street=street,
                house=house,
                bank_account=bank_account,
            )
        ]
        for _ in range(connection_count):
            connection_number = f"{operator.prefix}-{connection_id:07d}"
            connections.append(
                _row(
                    CONNECTION_COLUMNS,
                    id=connection_id,
                    operator_id=operator.pk,
                    number=connection_number,
                    customer_id=customer_id,
                    utility="water",
                    property_type=rng.choice(PROPERTY_TYPES),
                    metered=True,
                    status="active",
                    created_at=now,
                )
            )
            terms.append((operator.pk, customer_id, connection_id, "connection", connection_term(connection_number)))
            population.sample("connection_number", connection_number, rng)
            connection_id += 1
        population.sample("customer_number", number, rng)
        population.sample("name_start", name.split()[0][:3], rng)
        population.sample("word_inside_name", name.split()[-1], rng)
        if len(name.split()[-1]) >= 6:  # found on PostgreSQL only (trigram); a miss on SQLite, by design
            population.sample("fragment_inside_name", name.split()[-1][1:5], rng)
        population.sample("phone_e164", phone, rng)
        population.sample("phone_national", "0" + phone[4:10], rng)
        if id_number:
            population.sample("national_id", id_number, rng)
        population.sample("village", village, rng)
        if bank_account:
            population.sample("bank_account", bank_account, rng)
        population.customers += 1
        population.connections += len(connections)
        population.terms += len(terms)
        yield customer, connections, terms


CUSTOMER_COLUMNS = _columns(Customer)
CONNECTION_COLUMNS = _columns(Connection)
TERM_COLUMNS = ["operator_id", "customer_id", "connection_id", "kind", "term"]
TABLES = (
    (Customer._meta.db_table, CUSTOMER_COLUMNS),
    (Connection._meta.db_table, CONNECTION_COLUMNS),
    (SearchTerm._meta.db_table, TERM_COLUMNS),
)


def _write(rows: Iterable[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]]) -> None:
    """Write every row in bulk: PostgreSQL COPY (three streams, one per table), SQLite executemany by batches."""
    if connection.vendor == "postgresql":
        _copy(rows)
        return
    batches: tuple[list[Any], list[Any], list[Any]] = ([], [], [])
    with connection.cursor() as cursor:

        def flush() -> None:
            for (table, columns), batch in zip(TABLES, batches, strict=True):
                if batch:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", batch)  # noqa: S608
                    batch.clear()

        for customer, connections, terms in rows:
            batches[0].append(customer)
            batches[1].extend(connections)
            batches[2].extend(terms)
            if len(batches[0]) >= 5000:
                flush()
        flush()


def _copy(rows: Iterable[tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]]) -> None:
    """COPY customers first (connections and words point at them); the others wait in temporary files."""

    def line(values: Sequence[Any]) -> str:
        return "\t".join("\\N" if value is None else str(value) for value in values) + "\n"

    raw = connection.connection  # psycopg's own connection: COPY FROM STDIN
    with (
        tempfile.TemporaryFile("w+") as connection_lines,
        tempfile.TemporaryFile("w+") as term_lines,
        raw.cursor() as cursor,
    ):
        (table, columns) = TABLES[0]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for customer, connections, terms in rows:
                copy.write(line(customer))
                for values in connections:
                    connection_lines.write(line(values))
                for values in terms:
                    term_lines.write(line(values))
        for (table, columns), lines in zip(TABLES[1:], (connection_lines, term_lines), strict=True):
            lines.seek(0)
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                while chunk := lines.read(1 << 20):
                    copy.write(chunk)


def _build(operator: Operator, count: int, rng: random.Random) -> Population:
    """The rows, in one transaction. On PostgreSQL the word index's indexes are dropped for the load and made
    again after it is committed (one sort instead of ten million inserts into a B-tree); a superuser also skips
    the foreign-key triggers during the load, the rows being consistent by construction. Then ANALYZE."""
    population = Population()
    first_id = 1 + max(Customer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0, 1_000)
    postgresql = connection.vendor == "postgresql"
    indexes: list[tuple[str, str]] = []
    with transaction.atomic(), connection.cursor() as cursor:
        if postgresql:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cursor.fetchone()[0]:
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT LIKE %s",
                [SearchTerm._meta.db_table, "%pkey"],
            )
            indexes = list(cursor.fetchall())
            for name, _definition in indexes:
                cursor.execute(f'DROP INDEX "{name}"')
        _write(_people(operator, count, first_id, rng, population))
    if postgresql:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, _columns in TABLES:
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return population


def _queries(population: Population, per_kind: int, rng: random.Random) -> list[tuple[str, str]]:
    """(kind, query) pairs: hits drawn from what was written, and misses of the same shapes."""
    queries: list[tuple[str, str]] = []
    for kind, values in sorted(population.samples.items()):
        queries += [(kind, rng.choice(values)) for _ in range(per_kind)]
    letters = "BCDFGJKLPQVWXZ"
    queries += [("miss_name", "".join(rng.choice(letters) for _ in range(7))) for _ in range(per_kind)]
    queries += [("miss_number", f"ZZ-{rng.randrange(10**6):06d}") for _ in range(per_kind)]
    queries += [("miss_phone", f"+25070{rng.randrange(10**7):07d}") for _ in range(per_kind)]
    rng.shuffle(queries)
    return queries


def _measure(access: BenchAccess, queries: list[tuple[str, str]]) -> dict[str, Any]:
    timings: dict[str, list[float]] = {}
    found: dict[str, int] = {}
    for _kind, query in queries[:50]:  # warm-up: the first touches of the indexes are not what users see
        customer_search(access=access, query=query)
    for kind, query in queries:
        started = time.perf_counter()
        results = customer_search(access=access, query=query)
        timings.setdefault(kind, []).append((time.perf_counter() - started) * 1000)
        found[kind] = found.get(kind, 0) + (1 if results.groups else 0)
    every = sorted(value for values in timings.values() for value in values)

    def figures(values: list[float]) -> dict[str, float]:
        values = sorted(values)
        return {
            "p50_ms": round(percentile(values, 0.50), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "p99_ms": round(percentile(values, 0.99), 2),
            "max_ms": round(values[-1], 2) if values else 0.0,
        }

    return {
        "overall": {"queries": len(every), **figures(every)},
        "kinds": {
            kind: {"queries": len(values), "found": found[kind], **figures(values)}
            for kind, values in sorted(timings.items())
        },
    }


def run(options: dict[str, Any]) -> dict[str, Any]:
    count, per_kind = options["customers"], options["queries"]
    if count < 10 or per_kind < 1:
        raise SystemExit("--customers must be at least 10 and --queries at least 1.")
    rng = random.Random(options["seed"])
    with scratch_database(keep=options["keep"]):
        with transaction.atomic():
            operator = bench_operator()
        started = time.perf_counter()
        population = _build(operator, count, rng)
        build_seconds = time.perf_counter() - started
        access = BenchAccess(operator)
        load_before = os.getloadavg()[0]
        measured = _measure(access, _queries(population, per_kind, rng))
        # The machine's 1-minute load around the timings: on a shared machine it explains the tail.
        load = [round(load_before, 2), round(os.getloadavg()[0], 2), os.cpu_count()]
        return {
            "bench": "search",
            "database": database_vendor(),
            "customers": Customer.objects.filter(operator=operator).count(),
            "connections": Connection.objects.filter(operator=operator).count(),
            "search_terms": population.terms,
            "build_seconds": round(build_seconds, 1),
            "load_average_before_after_cpus": load,
            "built_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
            **measured,
        }


register_bench(
    Benchmark(
        name="search",
        help="Customer search on N customers (default 1,000,000): p50/p95/p99 per kind of query.",
        add_arguments=add_arguments,
        run=run,
    )
)
