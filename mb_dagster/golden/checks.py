"""The golden check: a golden build's eval report compared with its task's expectations.

A run launched for a golden task carries the tag `mb/golden=<task>`; any other build passes the
check as "not a golden build". ERROR severity, not blocking: a golden mismatch is an evaluation
finding for `mb golden`, not a reason to hold a build that passed its quality gates.
"""

# No `from __future__ import annotations`: Dagster reads the check's annotations as types.

import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from mb_core.golden import compare, golden_dir, load_golden_tasks, observe_build
from mb_core.models import EvalReport
from mb_dagster.build.assets import eval_report
from mb_dagster.partitions import builds_partitions

# Partitioned checks are a preview API, used on purpose (DESIGN.md): say so once, here, not per import.
warnings.filterwarnings("ignore", category=PreviewWarning, message=".*partitions_def on an AssetCheckSpec")
from mb_dagster.resources import MetaBuilderResource

GOLDEN_TAG = "mb/golden"


@asset_check(asset=eval_report, name="golden_expectations", partitions_def=builds_partitions,
             description="a golden build shows what its golden task expects")
def golden_expectations(context: AssetCheckExecutionContext, eval_report: EvalReport,
                        mb: MetaBuilderResource) -> AssetCheckResult:
    name = context.run.tags.get(GOLDEN_TAG)
    if not name:
        return AssetCheckResult(passed=True, description="not a golden build",
                                metadata={"golden_task": ""})
    task = load_golden_tasks(golden_dir(), only=[name])[0]
    result = compare(task, observe_build(mb.environment(), context.partition_key))
    text = "matches its expectations" if result.ok else "; ".join(result.mismatches)
    return AssetCheckResult(
        passed=result.ok, severity=AssetCheckSeverity.ERROR,
        description=f"golden task {name}: {text}"[:1000],
        metadata={
            "golden_task": name,
            "mismatches": MetadataValue.md("\n".join(f"- {m}" for m in result.mismatches) or "none"),
            "observation": MetadataValue.json(result.observation.model_dump(mode="json")),
        },
    )
