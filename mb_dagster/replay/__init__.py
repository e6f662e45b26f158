"""Re-running past builds from their recorded exchanges: the job, the CLI and its driver."""
