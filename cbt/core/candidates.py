"""Candidate identity rules: the 18-digit resident ID number (GB 11643) and admission tickets."""

from __future__ import annotations

import re
from datetime import date

ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
TICKET = re.compile(r"^[A-Za-z0-9-]{4,32}$")


def normalise_id_number(value: str) -> str:
    return value.strip().upper()


def id_check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def valid_id_number(value: str) -> bool:
    """Format, birth date and ISO 7064 MOD 11-2 check character of a resident ID number."""
    value = normalise_id_number(value)
    if not ID_NUMBER.match(value):
        return False
    try:
        date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return value[17] == id_check_char(value[:17])


def make_id_number(region: str, born: date, sequence: int) -> str:
    """A well-formed ID number (for demo data): region code, birth date, 3-digit sequence, check char."""
    first17 = f"{region}{born:%Y%m%d}{sequence % 1000:03d}"
    return first17 + id_check_char(first17)


def valid_ticket(value: str) -> bool:
    return bool(TICKET.match(value))
