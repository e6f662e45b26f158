"""Alembic environment and revisions of the store; run through `Store.migrate()`."""
