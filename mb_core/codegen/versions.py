"""Versions the generated requirements pin: the ones the generated tests are checked against here.

tests/core/codegen asserts they match the installed packages, so an upgrade cannot drift silently.
"""

PINNED: tuple[tuple[str, str], ...] = (
    ("alembic", "1.20.1"),
    ("fastapi", "0.165.0"),
    ("fastapi_offline", "1.7.7"),  # Swagger UI and ReDoc assets: /docs and /redoc work offline
    ("httpx", "0.28.1"),
    ("pydantic", "2.14.3"),
    ("pydantic-settings", "2.16.3"),  # the settings read `.env`
    ("pytest", "9.2.0"),
    ("python-dotenv", "1.2.4"),  # pydantic-settings reads `.env` with it
    ("SQLAlchemy", "2.1.9"),
    ("starlette", "1.10.0"),
    ("uvicorn", "0.54.0"),
)

# Only the tests need these: requirements-dev.txt, not the runtime requirements.txt.
DEV_ONLY = frozenset({"httpx", "pytest"})
RUNTIME = tuple((name, version) for name, version in PINNED if name not in DEV_ONLY)
DEV = tuple((name, version) for name, version in PINNED if name in DEV_ONLY)

# Tools the CI workflow installs next to the requirements.
TOOLS: dict[str, str] = {"ruff": "0.17.6", "bandit": "1.9.4"}
