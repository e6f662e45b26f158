"""The Dagster face of Meta-Builder: assets, checks, sensors, jobs, resources and the `mb` CLI."""
