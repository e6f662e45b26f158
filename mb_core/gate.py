"""The approval gate: which builds may release on their own and which wait for a person."""

from __future__ import annotations

from mb_core.models import ApprovalDecision, ApprovalGate, EvalReport, RequirementStatus


def gate_for(build_id: str, risk_score: int, threshold: int, report: EvalReport) -> ApprovalGate:
    """Auto-approve below the risk threshold when every requirement is met; otherwise wait. A
    failing build never reaches release."""
    if not report.passed:
        return ApprovalGate(
            build_id=build_id,
            risk_score=risk_score,
            threshold=threshold,
            decision=ApprovalDecision.rejected,
            decided_by="gate",
            reason=f"evaluation failed: {report.failure_summary or 'tests did not pass'}",
        )
    unmet = [r for r in report.requirements if r.status != RequirementStatus.met]
    if unmet:
        listed = "; ".join(f"{r.requirement} {r.kind} \"{r.quote[:50]}\" ({r.status.value})"
                           for r in unmet[:5])
        more = f" and {len(unmet) - 5} more" if len(unmet) > 5 else ""
        return ApprovalGate(
            build_id=build_id,
            risk_score=risk_score,
            threshold=threshold,
            decision=ApprovalDecision.pending,
            reason=f"{len(unmet)} of {len(report.requirements)} requirement(s) not met: {listed}"
            f"{more}; run `mb approve {build_id}` to release what was built or "
            f"`mb reject {build_id}`",
        )
    held = [f for f in report.risk_findings if not f.blocking]
    if risk_score < threshold and not held:
        return ApprovalGate(
            build_id=build_id,
            risk_score=risk_score,
            threshold=threshold,
            decision=ApprovalDecision.auto_approved,
            decided_by="gate",
            reason=f"risk {risk_score} is below the threshold {threshold}",
        )
    return ApprovalGate(
        build_id=build_id,
        risk_score=risk_score,
        threshold=threshold,
        decision=ApprovalDecision.pending,
        reason=f"risk {risk_score} is at or above the threshold {threshold}"
        + (f" ({'; '.join(f.note for f in held[:3])}"
           + (f"; and {len(held) - 3} more" if len(held) > 3 else "") + ")" if held else "")
        + f": run `mb approve {build_id}` or `mb reject {build_id}`",
    )
