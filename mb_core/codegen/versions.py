"""Versions the generated requirements pin: the ones the generated tests are checked against here.

tests/core/codegen asserts they match the installed packages, so an upgrade cannot drift silently.
"""

PINNED: tuple[tuple[str, str], ...] = (
    ("alembic", "1.20.1"),
    ("fastapi", "0.165.0"),
    ("httpx", "0.28.1"),
    ("pydantic", "2.14.3"),
    ("pytest", "9.2.0"),
    ("SQLAlchemy", "2.1.9"),
    ("starlette", "1.10.0"),
    ("uvicorn", "0.54.0"),
)

# Tools the CI workflow installs next to the requirements.
TOOLS: dict[str, str] = {"ruff": "0.17.6", "bandit": "1.9.4"}
