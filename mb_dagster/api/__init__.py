"""`mb serve`: the platform API over the same mb_core functions the CLI uses."""
