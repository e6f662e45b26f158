"""Golden tasks through Dagster: the golden check, the suite driver and `mb golden`."""

GOLDEN_TENANT = "golden"  # the tenant every golden-task build is accounted to (`mb list` marks them)
