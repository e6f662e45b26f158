"""Valid sample values: different for every n and inside each field's constraints.

The generated tests build payloads with these functions and the seed script's values come from the
same ones, so both always agree with the validation rules of the schemas.
"""

import datetime as dt
from decimal import ROUND_DOWN, Decimal

BASE_DAY = dt.date(2030, 1, 7)


def text(prefix: str, n: int, max_length: int | None) -> str:
    value = f"{prefix} {n}"
    # Keep the number when cutting: it is what keeps values unique. Text columns have no limit.
    return value if max_length is None or len(value) <= max_length else value[-max_length:].strip() or str(n)[-max_length:]


def email(n: int, max_length: int = 254) -> str:
    value = f"person{n}@example.com"
    return value if len(value) <= max_length else f"p{n}@ex.io"


def phone(n: int) -> str:
    return f"+1 555 {n % 10_000_000:07d}"


def url(n: int, max_length: int = 2048) -> str:
    value = f"https://example.com/items/{n}"
    return value if len(value) <= max_length else f"https://ex.io/{n}"


def number(n: int, low: int, high: int) -> int:
    return low + n % (high - low + 1)


def amount(n: int, low: str, high: str) -> str:
    lo, hi = Decimal(low), Decimal(high)
    value = (lo + (hi - lo) * Decimal((n % 7) + 1) / Decimal(8)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return str(min(max(value, lo), hi))


def day(n: int, offset: int = 0) -> str:
    return (BASE_DAY + dt.timedelta(days=10 * n + offset)).isoformat()


def moment(n: int, hours: int = 0) -> str:
    start = dt.datetime.combine(BASE_DAY, dt.time(9, 0), tzinfo=dt.UTC)
    return (start + dt.timedelta(days=n, hours=hours)).isoformat()
