"""Running the builder beyond one process: the production instance, its services, run workers."""
