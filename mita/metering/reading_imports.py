"""Importing files of readings: check (every row judged, nothing recorded), confirm (queued for the worker), record
(through readings_record, source "import", in chunks with progress) and report. Each row's key is made from the
connection, register and read date, so the same file recorded twice records nothing new (replays) and a row whose
index changed since is a conflict, reported, with nothing lost (docs/metering-imports.md)."""

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from mita.core.audit import audit_record
from mita.core.bulk import among, collector_paused, instances_insert
from mita.core.jobs import job_advance, job_create, job_fail, job_finish, job_start
from mita.core.prepared import prepared_cursor
from mita.core.processes import ProcessFailed, alongside, fork_safe, in_processes
from mita.metering.errors import MeteringError
from mita.metering.models import Reading, ReadingImport, ReadingImportRow
from mita.metering.reading_checked import Checked, reading_key
from mita.metering.reading_files import FileRow, ReadingFile, reading_file_read
from mita.metering.reading_lookups import rows_changed_since, rows_resolve
from mita.metering.readings import readings_keyed, readings_record

RECORD_CHUNK = 5_000  # rows per readings_record call: one transaction each, progress between them
RECORD_PROCESSES = 2  # processes recording chunks at once on PostgreSQL (see _recorded)
# a checked file's content and kept rows, written apart from the rest of the import (reading_import_check)
FILE_KEEP = "UPDATE metering_readingimport SET content = %s, checked = %s WHERE id = %s"
CHECK_HALVES_PAST = 20_000  # records: a larger file is checked in two halves at once on PostgreSQL (see _checked)
ROW_BATCH = 2_000


def _error_rows(reading_import: ReadingImport, rows: Iterable[FileRow]) -> list[ReadingImportRow]:
    return [
        ReadingImportRow(
            operator_id=reading_import.operator_id,
            reading_import=reading_import,
            number=row.number,
            connection_number=row.connection_number,
            meter_serial=row.meter_serial,
            outcome=ReadingImportRow.Outcome.ERROR,
            errors=row.errors,
        )
        for row in rows
        if row.errors
    ]


def reading_import_check(*, operator: Any, acting_user: Any, file_name: str, content: bytes) -> ReadingImport:
    """Read and check a file; saves the import and the rows with errors, never a reading."""
    with collector_paused():  # as when it is recorded: a row's objects live until the check ends
        read = reading_file_read(file_name=file_name, content=content)
        checked, blank = _checked(operator, read)
        reading_import = ReadingImport(
            operator=operator,
            file_name=(file_name or "upload")[:255],
            file_format=read.file_format,
            digest=hashlib.sha256(content).hexdigest(),
            columns=read.columns,
            ignored_columns=read.ignored_columns,
            created_by=acting_user,
        )
        kept = checked.kept()
        reading_import.rows_valid = len(checked)
        reading_import.rows_error = len(checked.errors)
        reading_import.rows_blank = blank
        reading_import.rows_total = len(checked) + len(checked.errors) + blank
        with_errors = checked.errors
        # The rows let go while the collector still sleeps: the first allocation after it wakes would otherwise walk
        # every object made since it slept (a tenth of a second for 100,000 rows), all of them garbage by then.
        del read, checked
    with transaction.atomic():
        reading_import.save()
        # The file and what the check kept go as values apart from the statement, bound by the server (in binary on
        # PostgreSQL): Django writes a value into the statement's text, and a 3 MB file quoted as text cost a tenth
        # of a second to write and parse.
        with prepared_cursor() as cursor:
            cursor.execute(FILE_KEEP, [content, kept, reading_import.pk])
        reading_import.content, reading_import.checked = content, kept
        instances_insert(_error_rows(reading_import, with_errors))
        audit_record(
            actor=acting_user,
            action="metering.reading_import_checked",
            target=reading_import,
            detail={
                "file": reading_import.file_name,
                "rows": reading_import.rows_total,
                "valid": reading_import.rows_valid,
                "errors": reading_import.rows_error,
            },
        )
    return reading_import


def _checked(operator: Any, read: ReadingFile) -> tuple[Checked, int]:
    """The file's rows read and looked up, the good ones by column, and how many are blank. A large file on
    PostgreSQL, outside a transaction, in a process of one thread (core.processes.fork_safe), is checked in two
    halves at once, the second in a forked process (core.processes.alongside): each half's Python on its own core,
    their look-ups on the database together. Two readings of one day are then looked for across the whole file."""

    def share(start: int, stop: int | None) -> tuple[Checked, int]:
        rows = read.rows(start, stop)
        rows_resolve(operator=operator, rows=rows)
        return Checked.of(rows), sum(1 for row in rows if row.blank)

    records = len(read.records)
    halves = connection.vendor == "postgresql" and not connection.in_atomic_block and records > CHECK_HALVES_PAST
    if halves and fork_safe():
        half = records // 2
        try:
            (second, blank_second), (first, blank_first) = alongside(lambda: share(half, None), lambda: share(0, half))
        except ProcessFailed as error:
            raise MeteringError(str(error), code="import_failed") from None
        checked, blank = Checked.joined([first, second]), blank_first + blank_second
    else:
        checked, blank = share(0, None)
    checked.duplicates_refused()
    return checked, blank


def _check_again(operator: Any, rows: list[FileRow]) -> None:
    """Rows checked before, whose connection's meter, reader or register changed since: looked up again now."""
    for row in rows:
        row.connection_id = row.meter_id = row.reader_id = row.installation_id = None
    rows_resolve(operator=operator, rows=rows)


def _runnable(reading_import: ReadingImport) -> None:
    if reading_import.status == ReadingImport.Status.DONE:
        raise MeteringError(
            _("This file is already recorded. Upload it again to record it again (what was recorded is replayed)."),
            code="import_done",
            status=409,
        )
    if reading_import.is_busy:
        raise MeteringError(_("This file is being recorded; wait for it to finish."), code="import_busy", status=409)
    if not reading_import.rows_valid:
        raise MeteringError(
            _("No row of this file can be recorded: fix the errors and upload it again."), code="import_empty"
        )


def reading_import_confirm(*, reading_import: ReadingImport, acting_user: Any) -> ReadingImport:
    """Record a checked file in the background (the worker; at once under the immediate backend)."""
    from mita.metering.tasks_imports import reading_import_task

    with transaction.atomic():
        reading_import = ReadingImport.objects.select_for_update().defer("content", "checked").get(pk=reading_import.pk)
        _runnable(reading_import)
        reading_import.job = job_create(
            kind="metering.reading_import",
            title=_("Readings from %(file)s") % {"file": reading_import.file_name},
            total=reading_import.rows_total,
            operator=reading_import.operator,
            created_by=acting_user,
        )
        reading_import.status = ReadingImport.Status.QUEUED
        reading_import.run_by = acting_user
        reading_import.save(update_fields=["job", "status", "run_by"])
        # The task's row commits with the import's status (the database backend): never one without the other.
        reading_import_task.enqueue(reading_import_id=reading_import.pk)
    reading_import.refresh_from_db()
    return reading_import


def reading_import_run(*, reading_import_id: int, acting_user: Any = None) -> ReadingImport:
    """Record a file: read and check it again against what is saved now, then record its good rows through
    readings_record in chunks of RECORD_CHUNK (each one transaction; a crash loses at most one chunk, and running
    again replays what was recorded), and keep the report: counts, and the rows that need attention."""
    with transaction.atomic():
        reading_import = (
            ReadingImport.objects.select_for_update()
            .select_related("operator")
            .defer("content")  # read only when the import kept no checked rows
            .get(pk=reading_import_id)
        )
        if reading_import.status == ReadingImport.Status.DONE:
            _runnable(reading_import)
        reading_import.status = ReadingImport.Status.RUNNING
        reading_import.started_at = timezone.now()
        reading_import.run_by = reading_import.run_by or acting_user
        reading_import.save(update_fields=["status", "started_at", "run_by"])
    acting_user = acting_user or reading_import.run_by
    if reading_import.job_id:
        job_start(job_id=reading_import.job_id, total=reading_import.rows_total)
    try:
        with collector_paused():
            problems, tally = _record(reading_import, acting_user)
    except Exception as error:
        ReadingImport.objects.filter(pk=reading_import.pk).update(
            status=ReadingImport.Status.FAILED, finished_at=timezone.now(), message=str(error)[:500]
        )
        if reading_import.job_id:
            job_fail(job_id=reading_import.job_id, message=str(error))
        raise
    with transaction.atomic():
        reading_import = ReadingImport.objects.select_for_update().defer("content", "checked").get(pk=reading_import.pk)
        ReadingImportRow.objects.filter(reading_import=reading_import).delete()
        instances_insert(problems)
        for field, value in tally.items():
            setattr(reading_import, field, value)
        reading_import.status = ReadingImport.Status.DONE
        reading_import.finished_at = timezone.now()
        reading_import.message = ""
        reading_import.checked = b""  # recorded: the file itself stays, for the record
        reading_import.save()  # the fields loaded (not the file), and the checked rows cleared
        audit_record(
            actor=acting_user,
            action="metering.readings_imported",
            target=reading_import,
            detail={
                "file": reading_import.file_name,
                "created": reading_import.rows_created,
                "replayed": reading_import.rows_replayed,
                "refused": reading_import.rows_refused,
                "review": reading_import.rows_review,
                "errors": reading_import.rows_error,
            },
        )
    if reading_import.job_id:
        job_finish(
            job_id=reading_import.job_id,
            message=_("%(created)s readings recorded, %(replayed)s already there, %(refused)s refused.")
            % {
                "created": reading_import.rows_created,
                "replayed": reading_import.rows_replayed,
                "refused": reading_import.rows_refused,
            },
        )
    return reading_import


def _record(reading_import: ReadingImport, acting_user: Any) -> tuple[list[ReadingImportRow], dict[str, Any]]:
    operator = reading_import.operator
    checked = Checked.read(bytes(reading_import.checked or b""))
    if checked is None:  # an import checked before the check kept its rows: read and check the file again
        read = reading_file_read(file_name=reading_import.file_name, content=bytes(reading_import.content))
        checked, blank = _checked(operator, read)
        total = len(checked) + len(checked.errors) + blank
        positions = list(range(len(checked)))
    else:
        # What the check found stands where nothing it relied on changed since: the readers and registers are checked
        # here, each row's installation by readings_record under the meter states' locks (installation_changed).
        total, blank = reading_import.rows_total, reading_import.rows_blank
        positions = _still_good(operator, checked)
    tally: dict[str, Any] = {"rows_created": 0, "rows_replayed": 0, "rows_refused": 0, "rows_review": 0}
    review: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    problems: list[ReadingImportRow] = []
    conflicts: list[tuple[FileRow, str]] = []
    changed: list[FileRow] = []

    def record(rows: Checked, positions: list[int], *, installation_checked: bool) -> None:
        # A connection's rows all in one chunk, where readings_record checks each against the one before (oldest
        # first), and two chunks never touch the same meter state; by connection, so that a chunk's states lie
        # together. The rows are sorted and cut by position: no object is made per row here.
        connection_ids = rows.columns["connection_id"]
        positions.sort(key=connection_ids.__getitem__)
        chunks = chunks_by_connection(positions, connection_ids, RECORD_CHUNK)
        for chunk, done in _recorded(
            operator, rows, chunks, installation_checked=installation_checked, acting_user=acting_user
        ):
            tally["rows_created"] += done.created
            tally["rows_replayed"] += done.replayed
            for position, found in done.notable:
                if found.code == "installation_changed":
                    changed.append(rows.row(position))
                else:
                    _tally(reading_import, rows.row(position), found, tally, review, refused, problems, conflicts)
            if reading_import.job_id and installation_checked:
                job_advance(job_id=reading_import.job_id, by=len(chunk))

    record(checked, positions, installation_checked=True)
    if changed:  # a meter swapped or removed since the check: those rows are looked up and recorded as they are now
        _check_again(operator, changed)
        again = Checked.of(changed)
        again.duplicates_refused()
        record(again, list(range(len(again))), installation_checked=False)
        checked.errors += again.errors
    with_errors = checked.errors
    problems += _error_rows(reading_import, with_errors)
    problems += _conflict_rows(reading_import, conflicts)
    problems.sort(key=lambda problem: problem.number)
    errors = len(with_errors)
    tally.update(
        rows_total=total,
        rows_valid=total - errors - blank,
        rows_error=errors,
        rows_blank=blank,
        review_by_anomaly=dict(review),
        refused_by_code=dict(refused),
    )
    return problems, tally


def _still_good(operator: Any, checked: Checked) -> list[int]:
    """The positions of the checked rows to record: all, but for those whose reader or register changed since the
    check and that have an error now (they join the rows with errors); the others of those are looked up again."""
    columns = checked.columns
    changed = rows_changed_since(
        operator=operator, readers=columns["reader"], reader_ids=columns["reader_id"], registers=columns["register"]
    )
    if not changed:
        return list(range(len(checked)))
    rows = [checked.row(position) for position in changed]
    _check_again(operator, rows)
    wrong: set[int] = set()
    for position, row in zip(changed, rows, strict=True):
        if row.errors:
            wrong.add(position)
            checked.errors.append(row)
        else:
            checked.place(position, row)
    return [position for position in range(len(checked)) if position not in wrong]


def chunks_by_connection(positions: list[int], connection_ids: list[int], size: int) -> list[list[int]]:
    """Positions of rows sorted by connection (`connection_ids[position]`) cut into chunks of about `size`, never
    between two rows of one connection."""
    chunks: list[list[int]] = []
    start = 0
    while start < len(positions):
        end = min(start + size, len(positions))
        while end < len(positions) and connection_ids[positions[end]] == connection_ids[positions[end - 1]]:
            end += 1
        chunks.append(positions[start:end])
        start = end
    return chunks


class Outcome(NamedTuple):
    """What the import keeps of a row refused or recorded for review (in this process or sent back from another):
    what _tally reads, the reading in review as its id and anomaly (it is linked from the report)."""

    outcome: str  # "created" (for review) or "refused"
    code: str
    message: str
    reading_id: int | None
    anomaly: str


class ChunkDone(NamedTuple):
    """A chunk's results as sent back: how many rows were recorded and replayed, and the rows that need a line in
    the report (refused, or recorded for review) by position. Not one result per row: the rows that went in are
    counted, not described, and 100,000 results would be pickled, sent and read back for nothing."""

    created: int
    replayed: int
    notable: list[tuple[int, Outcome]]


def _record_chunk(
    operator: Any, checked: Checked, chunk: list[int], *, installation_checked: bool, acting_user: Any
) -> ChunkDone:
    results = readings_record(
        operator=operator,
        rows=checked.inputs(chunk, installation_checked=installation_checked),
        source=Reading.Source.IMPORT,
        acting_user=acting_user,
    )
    created = replayed = 0
    notable: list[tuple[int, Outcome]] = []
    for position, result in zip(chunk, results, strict=True):
        reading = result.reading
        if result.outcome == "replayed":
            replayed += 1
            continue
        if result.outcome == "created":
            created += 1
            assert reading is not None
            if reading.status != Reading.Status.REVIEW:
                continue
        reading_id, anomaly = (None, "") if reading is None else (reading.pk, reading.anomaly)
        notable.append((position, Outcome(result.outcome, result.code, str(result.message), reading_id, anomaly)))
    return ChunkDone(created, replayed, notable)


def _recorded(
    operator: Any, checked: Checked, chunks: list[list[int]], *, installation_checked: bool, acting_user: Any
) -> Iterator[tuple[list[int], ChunkDone]]:
    """Each chunk with what became of it, in the order they are done. On PostgreSQL, outside a transaction, in a
    process of one thread (core.processes.fork_safe: not a threaded web worker running the task at once), the chunks
    are shared among RECORD_PROCESSES forked processes (core.processes), each chunk its own transaction: the
    processes' Python runs on every core while the database serves them. Chunks share no connection, so they lock no
    meter state in common."""
    options = {"installation_checked": installation_checked, "acting_user": acting_user}
    shared = connection.vendor == "postgresql" and not connection.in_atomic_block
    if not shared or RECORD_PROCESSES < 2 or len(chunks) < 2 or not fork_safe():
        for chunk in chunks:
            yield chunk, _record_chunk(operator, checked, chunk, **options)
        return

    def chunk_do(chunk: list[int]) -> ChunkDone:
        return _record_chunk(operator, checked, chunk, **options)

    try:
        for position, done in in_processes(chunk_do, chunks, RECORD_PROCESSES):
            yield chunks[position], done
    except ProcessFailed as error:
        raise MeteringError(str(error), code="import_failed") from None


def _tally(
    reading_import: ReadingImport,
    row: FileRow,
    found: Outcome,
    tally: dict[str, Any],
    review: Counter[str],
    refused: Counter[str],
    problems: list[ReadingImportRow],
    conflicts: list[tuple[FileRow, str]],
) -> None:
    """A row refused or recorded for review: counted, and kept for the report."""
    outcome, code, message, reading_id, anomaly = found

    def problem(kind: str, code: str, message: str, reading_id: int | None = None) -> ReadingImportRow:
        column = "index" if kind == ReadingImportRow.Outcome.CONFLICT else ""
        return ReadingImportRow(
            operator_id=reading_import.operator_id,
            reading_import=reading_import,
            number=row.number,
            connection_number=row.connection_number,
            meter_serial=row.meter_serial,
            outcome=kind,
            code=code,
            errors=[{"column": column, "message": message}],
            reading_id=reading_id,
        )

    if outcome == "refused":
        tally["rows_refused"] += 1
        refused[code] += 1
        if code == "key_reused":
            conflicts.append((row, message))
        else:
            problems.append(problem(ReadingImportRow.Outcome.REFUSED, code, message))
        return
    tally["rows_review"] += 1
    review[anomaly] += 1
    problems.append(
        problem(
            ReadingImportRow.Outcome.REVIEW,
            anomaly,
            _("Recorded; waits in the review queue: %(anomaly)s.") % {"anomaly": _anomaly_label(anomaly)},
            reading_id,
        )
    )


_ANOMALY_LABELS = dict(Reading.Anomaly.choices)


def _anomaly_label(anomaly: str) -> str:
    """An anomaly's label, as get_anomaly_display() says it but without hashing every choice's label on each call
    (about a millisecond: seconds for a file with thousands of readings in review)."""
    return str(_ANOMALY_LABELS.get(anomaly, anomaly))


def _key_of(row: FileRow) -> str:
    assert row.connection_id is not None and row.read_on is not None
    return reading_key(row.connection_id, row.register, row.read_on)


def _conflict_rows(reading_import: ReadingImport, conflicts: list[tuple[FileRow, str]]) -> list[ReadingImportRow]:
    """A row whose key was recorded with another reading: say what was recorded, link to it; nothing is lost."""
    firsts: dict[str, Reading] = {}
    keys = [_key_of(row) for row, _message in conflicts]
    for readings in among(readings_keyed(reading_import.operator_id), "key", keys):
        for reading in readings:
            firsts[reading.key] = reading
    made = []
    for row, message in conflicts:
        first = firsts.get(_key_of(row))
        if first is not None:
            message = _(
                "Recorded before with index %(recorded)s (%(day)s); this file says %(index)s. The recorded reading "
                "stays: to change it, correct it in the review queue."
            ) % {
                "recorded": "-" if first.current_index is None else format(first.current_index.normalize(), "f"),
                "day": first.read_on.isoformat(),
                "index": "-" if row.index is None else format(row.index.normalize(), "f"),
            }
        made.append(
            ReadingImportRow(
                operator_id=reading_import.operator_id,
                reading_import=reading_import,
                number=row.number,
                connection_number=row.connection_number,
                meter_serial=row.meter_serial,
                outcome=ReadingImportRow.Outcome.CONFLICT,
                code="key_reused",
                errors=[{"column": "index", "message": message}],
                reading=first,
            )
        )
    return made


def reading_import_report_csv(*, reading_import: ReadingImport) -> str:
    """The rows that need attention, one line per problem, for a spreadsheet next to the file."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [_("row"), _("connection number"), _("meter serial"), _("outcome"), _("code"), _("column"), _("what to do")]
    )
    rows = ReadingImportRow.objects.filter(reading_import=reading_import).order_by("number")
    for row in rows.iterator(chunk_size=ROW_BATCH):
        for error in row.errors or [{"column": "", "message": ""}]:
            writer.writerow(
                [
                    row.number,
                    row.connection_number,
                    row.meter_serial,
                    row.get_outcome_display(),
                    row.code,
                    error["column"],
                    error["message"],
                ]
            )
    return "\ufeff" + out.getvalue()  # a BOM, so that spreadsheets open it as UTF-8
