"""Security/Compliance: the controls every generated app carries, and an explainable risk score.

The score is a sum of named contributions (personal data, money, health data...), each with the
evidence that triggered it, capped at 100; `risk_notes` lists them so a reviewer sees why a build
waits for approval. Calibrated so that a plain CRM (contacts + deals) stays under the default
approval threshold of 50 and a patient-records app with payments and uploads goes over it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.agents.base import AgentDefinition, AgentRole
from mb_core.agents.io import SecurityInput
from mb_core.models import FieldType, RiskFinding, RiskFlag, ScaffoldPlan, SecurityControl
from mb_core.spec.injection import INJECTION_REASON
from mb_core.spec.vocabulary import dropped_reasons, words

BASE_POINTS = 5  # any generated app with a database and an API
POINTS: dict[RiskFlag, int] = {
    RiskFlag.pii: 15,
    RiskFlag.money: 15,
    RiskFlag.auth: 10,
    RiskFlag.uploads: 15,
    RiskFlag.external_calls: 10,
    RiskFlag.health_data: 30,
    RiskFlag.destructive: 10,
    RiskFlag.prompt_injection: 25,
}

_MONEY = {"amount", "price", "cost", "total", "balance", "salary", "fee", "budget", "income",
          "expense", "revenue", "payment", "invoice", "wage", "refund", "deposit", "tax",
          "converted_amount", "subtotal", "discount", "profit", "rent", "fare"}
_MONEY_ENTITIES = {"invoice", "payment", "order", "customer_order", "transaction", "expense",
                   "income", "budget", "subscription", "refund", "payout", "deal", "opportunity"}
_UPLOAD_WORDS = {"upload", "uploads", "attachment", "attachments", "file", "files", "document",
                 "documents", "photo", "photos", "image", "images", "avatar", "scan", "scans",
                 "file_url", "resume_url", "image_url", "photo_url"}
_AUTH_WORDS = {"account", "accounts", "login", "password", "credential", "credentials", "sign",
               "signup", "token", "sso", "oauth", "authentication", "registration"}
_DESTRUCTIVE = re.compile(r"\b(?:bulk|mass|batch)[ -](?:delete|deletion|remove|update|edit)|"
                          r"\bdelete all\b|\berase all\b|\bpurge\b|\bwipe\b|\btruncate\b", re.IGNORECASE)


@dataclass(frozen=True)
class RiskContribution:
    flag: RiskFlag
    points: int
    evidence: str

    @property
    def note(self) -> str:
        return f"{self.flag.value} +{self.points}: {self.evidence}"


def _words_of(name: str) -> set[str]:
    return set(name.split("_")) | {name}


def risk_contributions(plan: ScaffoldPlan) -> list[RiskContribution]:
    """What the plan touches, one contribution per risk flag (pure)."""
    found: list[RiskContribution] = []

    def add(flag: RiskFlag, evidence: list[str]) -> None:
        if evidence:
            shown = ", ".join(dict.fromkeys(evidence))
            found.append(RiskContribution(flag, POINTS[flag], shown[:160]))

    fields = [(e.name, f) for e in plan.entities for f in e.fields]
    add(RiskFlag.pii, [f"{e}.{f.name}" for e, f in fields if f.pii])
    add(RiskFlag.money, [f"{e}.{f.name}" for e, f in fields if f.type == FieldType.decimal
                         and _words_of(f.name) & _MONEY]
        + [e.name for e in plan.entities if e.name in _MONEY_ENTITIES])
    auth_reason = dropped_reasons()["user"]
    add(RiskFlag.auth, [d.phrase for d in plan.decisions if auth_reason in d.reason
                        and set(re.findall(r"[a-z]+", d.phrase.lower())) & _AUTH_WORDS]
        + [f"{e}.{f.name}" for e, f in fields if _words_of(f.name) & {"password", "token"}])
    add(RiskFlag.uploads, [e.name for e in plan.entities if _words_of(e.name) & _UPLOAD_WORDS]
        + [f"{e}.{f.name}" for e, f in fields if f.name in _UPLOAD_WORDS
           or f.type == FieldType.url and _words_of(f.name) & _UPLOAD_WORDS])
    add(RiskFlag.external_calls, list(plan.external_services))
    health = words("health_words")
    add(RiskFlag.health_data, [e.name for e in plan.entities if _words_of(e.name) & health]
        + [f"{e}.{f.name}" for e, f in fields if _words_of(f.name) & health])
    add(RiskFlag.destructive, [m.group(0) for d in plan.decisions
                               for m in [_DESTRUCTIVE.search(d.phrase)] if m]
        + [m.group(0) for m in [_DESTRUCTIVE.search(plan.summary)] if m])
    add(RiskFlag.prompt_injection, [d.phrase for d in plan.decisions
                                    if d.reason.startswith(INJECTION_REASON)])
    return found


def score_risk(contributions: list[RiskContribution]) -> int:
    return min(100, BASE_POINTS + sum(c.points for c in contributions))


# Points of what the review of the generated tree finds. Each of these also holds the build for a
# reviewer whatever the sum (`effective_risk`): a CI file that reaches the internet or reads
# secrets is a change a person signs off, not one a score averages away.
FINDING_POINTS: dict[RiskFlag, int] = {
    RiskFlag.verdict_tampering: 50,
    RiskFlag.tool_shadowing: 50,
    RiskFlag.ci_network: 30,
    RiskFlag.ci_secrets: 30,
    RiskFlag.ci_pull_request_target: 40,
    RiskFlag.ci_permissions: 20,
}


def effective_risk(plan_score: int, findings: list[RiskFinding], threshold: int) -> int:
    """The plan's risk raised by the tree's findings, and at least the approval threshold when
    there is any finding (pure)."""
    if not findings:
        return plan_score
    raised = plan_score + sum(FINDING_POINTS.get(f, 25) for f in {x.flag for x in findings})
    return min(100, max(raised, threshold))


def finding_notes(findings: list[RiskFinding]) -> list[str]:
    """One line per finding, with the points its flag adds: for the PR body and the report."""
    return [f"{f.note} (+{FINDING_POINTS.get(f.flag, 25)}"
            + (", refused)" if f.blocking else ", needs a reviewer)") for f in findings]


def security_controls(plan: ScaffoldPlan) -> list[SecurityControl]:
    entities = [e.name for e in plan.entities]
    pii = [f"{e.name}.{f.name}" for e in plan.entities for f in e.fields if f.pii]
    return [
        SecurityControl(name="rbac", applies_to=[r.name for r in plan.roles],
                        description="every endpoint checks the caller's role against the "
                                    "planned permissions; unknown roles are refused"),
        SecurityControl(name="tenant_scoping", applies_to=entities,
                        description="every row carries tenant_id; every query filters on the "
                                    "caller's tenant, so tenants never see each other's rows"),
        SecurityControl(name="pii_redaction", applies_to=pii,
                        description="personal fields are masked in logs and audit entries"),
        SecurityControl(name="rate_limit", applies_to=["*"],
                        description="requests per client and minute are capped; excess gets 429"),
        SecurityControl(name="audit_log", applies_to=entities,
                        description="each create, update, delete and transition is recorded "
                                    "with who, when and what changed (PII redacted)"),
        SecurityControl(name="input_validation", applies_to=entities,
                        description="request bodies are validated by pydantic schemas: types, "
                                    "lengths, ranges and enum choices; unknown keys refused"),
    ]


def secure_plan(plan: ScaffoldPlan) -> ScaffoldPlan:
    contributions = risk_contributions(plan)
    score = score_risk(contributions)
    notes = [f"base +{BASE_POINTS}: a generated app with a database and an API"]
    notes += [c.note for c in contributions]
    notes.append(f"risk score {score}/100")
    return plan.model_copy(update={
        "security_controls": security_controls(plan),
        "risk_score": score,
        "risk_flags": [c.flag for c in contributions],
        "risk_notes": notes,
    })


def offline_answer(inp: SecurityInput) -> ScaffoldPlan:
    return secure_plan(inp.plan)


DEFINITION = AgentDefinition(
    role=AgentRole.security,
    input_model=SecurityInput,
    output_model=ScaffoldPlan,
    offline_answer=offline_answer,
    purpose="Add RBAC, tenant scoping, PII redaction, rate limits, audit log and input "
            "validation to the plan, and score its risk from 0 to 100 with named reasons.",
)
