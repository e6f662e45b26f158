"""Golden tasks through Dagster: the golden check, the suite driver and `mb golden`."""
