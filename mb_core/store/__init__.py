"""Where builds, their steps, approval gates and recorded LLM exchanges are kept (SQLite or
PostgreSQL through SQLAlchemy, schema through Alembic)."""

from mb_core.store import canary_tables as _canary_tables  # noqa: F401  (registers the tables)
from mb_core.store import model_choices as _model_choices  # noqa: F401  (registers the table)
from mb_core.store import platform_tables as _platform_tables  # noqa: F401  (registers the tables)
from mb_core.store import worker_tables as _worker_tables  # noqa: F401  (registers the table)
from mb_core.store.store import (
    BUILD_ID_PATTERN,
    ExchangeRecord,
    InvalidRecord,
    Store,
    StoreUnavailable,
    new_build_id,
)

__all__ = [
    "BUILD_ID_PATTERN",
    "ExchangeRecord",
    "InvalidRecord",
    "Store",
    "StoreUnavailable",
    "new_build_id",
]
