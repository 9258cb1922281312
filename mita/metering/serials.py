"""Serial numbers as people write them: a range ("30001" to "30010", "WM-030001" to "WM-030010", the prefix and the
zero padding kept), a pasted list (one per line), or both ("WM-030001 .. WM-030010" on a line). Pure: no database."""

import re

from django.utils.translation import gettext as _

from mita.metering.errors import MeteringError

MAX_BATCH = 10_000
TRAILING_DIGITS = re.compile(r"^(?P<prefix>.*?)(?P<digits>\d+)$")
# A range on one line: "A .. B", "A to B", "A – B" or "A - B" (a dash with spaces: "WM-030001" has its own dash).
RANGE_ON_A_LINE = re.compile(r"^\s*(?P<first>\S+)\s*(?:\.\.|\s-\s|\s–\s|\sto\s)\s*(?P<last>\S+)\s*$", re.IGNORECASE)


def _split(serial: str, field: str) -> tuple[str, str]:
    match = TRAILING_DIGITS.match(serial)
    if match is None:
        raise MeteringError(
            _("A serial range needs serials ending in digits (%(serial)s does not).") % {"serial": serial},
            code="range_invalid",
            fields={field: [_("End it in digits, e.g. WM-030001.")]},
        )
    return match.group("prefix"), match.group("digits")


def serial_range(first: str, last: str) -> list[str]:
    """The serials from `first` to `last`, both included: the same prefix, numbers counted up, zero padded to the
    width of `first` ("WM-030001".."WM-030003" -> WM-030001, WM-030002, WM-030003). At most MAX_BATCH."""
    first, last = (first or "").strip(), (last or "").strip()
    if not first or not last:
        missing = "serial_from" if not first else "serial_to"
        raise MeteringError(
            _("Give the first and the last serial."), code="range_invalid", fields={missing: [_("Required.")]}
        )
    prefix, first_digits = _split(first, "serial_from")
    last_prefix, last_digits = _split(last, "serial_to")
    if prefix.upper() != last_prefix.upper():
        raise MeteringError(
            _("The first and last serials have different prefixes (%(first)s, %(last)s).")
            % {"first": prefix or "-", "last": last_prefix or "-"},
            code="range_invalid",
            fields={"serial_to": [_("Use the prefix %(prefix)s.") % {"prefix": prefix or "-"}]},
        )
    start, end = int(first_digits), int(last_digits)
    if end < start:
        raise MeteringError(
            _("The last serial (%(last)s) comes before the first (%(first)s).") % {"first": first, "last": last},
            code="range_invalid",
            fields={"serial_to": [_("At least %(first)s.") % {"first": first}]},
        )
    if end - start + 1 > MAX_BATCH:
        raise MeteringError(
            _("%(count)s meters in one batch: at most %(max)s; split it.")
            % {"count": f"{end - start + 1:,}", "max": f"{MAX_BATCH:,}"},
            code="batch_too_large",
            fields={"serial_to": [_("At most %(max)s meters.") % {"max": f"{MAX_BATCH:,}"}]},
        )
    width = len(first_digits)
    return [f"{prefix}{number:0{width}d}" for number in range(start, end + 1)]


def serials_parse(text: str, field: str = "serials") -> list[str]:
    """Serials pasted one per line (commas and semicolons also separate them); a line may be a range ("A .. B")."""
    serials: list[str] = []
    for line in (text or "").splitlines():
        if match := RANGE_ON_A_LINE.match(line):
            serials.extend(serial_range(match.group("first"), match.group("last")))
            continue
        serials.extend(part.strip() for part in re.split(r"[,;\t]", line) if part.strip())
    if len(serials) > MAX_BATCH:
        raise MeteringError(
            _("%(count)s meters in one batch: at most %(max)s; split it.")
            % {"count": f"{len(serials):,}", "max": f"{MAX_BATCH:,}"},
            code="batch_too_large",
            fields={field: [_("At most %(max)s meters.") % {"max": f"{MAX_BATCH:,}"}]},
        )
    too_long = [serial for serial in serials if len(serial) > 60]
    if too_long:
        raise MeteringError(
            _("A serial number has at most 60 characters: %(serial)s.") % {"serial": too_long[0][:70]},
            code="serial_invalid",
            fields={field: [_("At most 60 characters.")]},
        )
    return serials


def repeated(serials: list[str]) -> list[str]:
    """The serials written more than once (whatever their case), each named once, in the order they came."""
    seen: set[str] = set()
    twice: dict[str, str] = {}
    for serial in serials:
        folded = serial.upper()
        if folded in seen:
            twice.setdefault(folded, serial)
        seen.add(folded)
    return list(twice.values())


def named(serials: list[str], shown: int = 20) -> str:
    """'A, B, C and 12 more' for messages."""
    if len(serials) <= shown:
        return ", ".join(serials)
    return _("%(list)s and %(count)s more") % {"list": ", ".join(serials[:shown]), "count": len(serials) - shown}
