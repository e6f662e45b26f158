"""Cost- and SLA-aware scheduling: which queue, priority, iteration cap and model a build gets,
whether its tenant may queue it, and whether it met its tier's time targets. Pure decisions."""

from mb_core.scheduling.admission import TenantBudgetSpent, admission_refusal, admit
from mb_core.scheduling.model_choice import ModelChoice, ModelStats, choose_model
from mb_core.scheduling.sla import SlaReport, SlaViolation, sla_report
from mb_core.scheduling.tiers import (
    PRIORITY_TAG,
    QUEUE_TAG,
    SLA_TAG,
    TIER_POLICIES,
    Queue,
    SlaTier,
    TierPolicy,
    policy_for,
    queue_for,
    run_tags,
    run_tags_for,
    tier_of,
)

__all__ = [
    "PRIORITY_TAG", "QUEUE_TAG", "SLA_TAG", "TIER_POLICIES", "ModelChoice", "ModelStats", "Queue",
    "SlaReport", "SlaTier", "SlaViolation", "TenantBudgetSpent", "TierPolicy", "admission_refusal",
    "admit", "choose_model", "policy_for", "queue_for", "run_tags", "run_tags_for", "sla_report",
    "tier_of",
]
