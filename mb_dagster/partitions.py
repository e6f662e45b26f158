from dagster import DynamicPartitionsDefinition

# One partition per build id; the submission sensor and the CLI add them.
builds_partitions = DynamicPartitionsDefinition(name="builds")
