"""Quality gates as blocking, partitioned asset checks on `eval_report`.

The evidence is computed once, in mb_core.pipeline.produce_eval_report, and stored on the report;
each check only reads its gate from the report and shows the evidence. A failed ERROR check is
blocking: the run fails and nothing downstream of the report materializes in it.
"""

# No `from __future__ import annotations`: Dagster reads the check functions' annotations as types.

import warnings

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    MetadataValue,
    PreviewWarning,
    asset_check,
)

from mb_core.models import CheckSeverity, EvalReport, QualityCheckResult
from mb_core.quality import GATES
from mb_core.requirements.trace import CHECK_NAME as REQUIREMENTS_CHECK
from mb_dagster.build.assets import eval_report
from mb_dagster.partitions import builds_partitions

# Partitioned checks are a preview API, used on purpose (DESIGN.md): say so once, here, not per import.
warnings.filterwarnings("ignore", category=PreviewWarning, message=".*partitions_def on an AssetCheckSpec")

WARN_CHECKS = {
    "results_table_valid": "the test-results table meets its Great Expectations suite",
    "confidence": "confidence v4 is not low",
}


def gate_metadata(gate: QualityCheckResult) -> dict:
    return {
        "summary": MetadataValue.md(f"**{gate.name}**: {gate.summary}"),
        "evidence": MetadataValue.json(gate.evidence),
    }


def confidence_metadata(report: EvalReport) -> dict:
    """Confidence v4 as run-panel metadata (also usable on the eval_report materialization)."""
    if report.confidence is None:
        return {"confidence": "not scored"}
    c = report.confidence
    return {
        "confidence_score": c.score,
        "confidence_level": c.level.value,
        "confidence_metrics": MetadataValue.json(c.metrics),
        "risk_signals": MetadataValue.json(report.risk_signals),
    }


def gate_check_result(report: EvalReport, name: str) -> AssetCheckResult:
    """The check's verdict from the gate stored on the report (a missing gate fails)."""
    gate = next((c for c in report.checks if c.name == name), None)
    if gate is None:
        return AssetCheckResult(
            passed=False, severity=AssetCheckSeverity.ERROR,
            description=f"{name}: the eval report of iteration {report.iteration} holds no such gate",
            metadata={"iteration": report.iteration},
        )
    severity = (AssetCheckSeverity.ERROR if gate.severity == CheckSeverity.error
                else AssetCheckSeverity.WARN)
    return AssetCheckResult(passed=gate.passed, severity=severity,
                            description=f"{name}: {gate.summary}",
                            metadata={**gate_metadata(gate), "iteration": report.iteration})


def confidence_check_result(report: EvalReport) -> AssetCheckResult:
    c = report.confidence
    passed = c is not None and c.level.value != "low"
    text = (f"confidence {c.score}/100 ({c.level.value})" if c is not None else "not scored")
    if report.risk_signals:
        text += f"; signals: {', '.join(report.risk_signals[:8])}"
    return AssetCheckResult(passed=passed, severity=AssetCheckSeverity.WARN, description=text,
                            metadata={**confidence_metadata(report), "iteration": report.iteration})


def _gate_check(name: str, description: str):
    @asset_check(asset=eval_report, name=name, description=description, blocking=True,
                 partitions_def=builds_partitions)
    def gate(context: AssetCheckExecutionContext, eval_report: EvalReport) -> AssetCheckResult:
        return gate_check_result(eval_report, name)

    return gate


@asset_check(asset=eval_report, name="results_table_valid", description=WARN_CHECKS[
    "results_table_valid"], partitions_def=builds_partitions)
def results_table_valid(context: AssetCheckExecutionContext,
                        eval_report: EvalReport) -> AssetCheckResult:
    return gate_check_result(eval_report, "results_table_valid")


@asset_check(asset=eval_report, name="confidence", description=WARN_CHECKS["confidence"],
             partitions_def=builds_partitions)
def confidence(context: AssetCheckExecutionContext, eval_report: EvalReport) -> AssetCheckResult:
    return confidence_check_result(eval_report)


def requirements_check_result(report: EvalReport) -> AssetCheckResult:
    """Every requirement implemented and tested. Unmet requirements hold a build that otherwise
    passed at the approval gate (a person decides), so the failed check is then a WARN that
    names them and the run is not failed; on a build that failed anyway it is an ERROR."""
    result = gate_check_result(report, REQUIREMENTS_CHECK)
    if result.passed or not report.passed or not any(c.name == REQUIREMENTS_CHECK for c in report.checks):
        return result
    return AssetCheckResult(passed=False, severity=AssetCheckSeverity.WARN,
                            description=f"{result.description} (held at the approval gate)",
                            metadata=result.metadata)


@asset_check(asset=eval_report, name=REQUIREMENTS_CHECK, blocking=True,
             description="every requirement the spec states is implemented and exercised by a "
                         "passing generated test; otherwise the build waits for approval",
             partitions_def=builds_partitions)
def requirements_covered(context: AssetCheckExecutionContext,
                         eval_report: EvalReport) -> AssetCheckResult:
    return requirements_check_result(eval_report)


quality_gate_checks = [_gate_check(name, description) for name, description in GATES.items()]
eval_report_checks = [*quality_gate_checks, requirements_covered, results_table_valid, confidence]
