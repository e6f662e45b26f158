"""The roles of a blueprint: the plan's roles checked, an admin ensured, workflow actions granted."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mb_core.codegen.columns import ACTIONS
from mb_core.codegen.entities import Entity
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.models import EntitySpec, ScaffoldPlan


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: tuple[tuple[str, tuple[str, ...]], ...]  # entity or "*" -> actions

    def allows(self, entity: str, action: str) -> bool:
        granted = dict(self.permissions)
        return action in granted.get(entity, ()) or action in granted.get("*", ())


def resolve_roles(plan: ScaffoldPlan, specs: dict[str, EntitySpec], notes: list[str]) -> tuple[tuple[Role, ...], str]:
    roles: list[Role] = []
    for spec in plan.roles:
        if not re.match(r"^[a-z][a-z0-9_-]{0,39}$", spec.name):
            raise PlanNotRenderable(f"role name {spec.name!r} must be lowercase letters, digits, - or _")
        if any(r.name == spec.name for r in roles):
            raise PlanNotRenderable(f"role {spec.name!r} appears twice")
        perms = []
        for target in sorted(spec.permissions):
            if target != "*" and target not in specs:
                raise PlanNotRenderable(f"role {spec.name!r} grants access to unknown entity {target!r}")
            granted = {a.value for a in spec.permissions[target]}
            perms.append((target, tuple(a for a in ACTIONS if a in granted)))
        roles.append(Role(name=spec.name, description=spec.description, permissions=tuple(perms)))
    if not roles:
        roles = [
            Role("admin", "Full access, including the audit log.", (("*", ACTIONS),)),
            Role("viewer", "Read-only access.", (("*", ("read",)),)),
        ]
        notes.append("the plan named no roles: generated admin and viewer")

    def is_admin(role: Role) -> bool:
        return all(role.allows(e, a) for e in specs for a in ACTIONS)

    admin = next((r.name for r in roles if r.name == "admin" and is_admin(r)), None) or next(
        (r.name for r in roles if is_admin(r)), None
    )
    if admin is None:
        name = "admin" if not any(r.name == "admin" for r in roles) else "platform_admin"
        roles.append(Role(name, "Full access, including the audit log.", (("*", ACTIONS),)))
        notes.append(f"no role had full access: added {name!r} to read the audit log")
        admin = name
    return tuple(roles), admin


def grant_workflow_actions(roles: tuple[Role, ...], admin: str, entities: dict[str, Entity], notes: list[str]):
    """Each workflow action goes to the roles the plan names (and the admin), else to those who may update."""
    grants: dict[str, dict[str, list[str]]] = {}
    for ent in entities.values():
        for action in ent.workflow.actions if ent.workflow else ():
            known = {r.name for r in roles}
            for name in action.roles:
                if name not in known:
                    raise PlanNotRenderable(f"workflow action {action.name!r} of {ent.name!r} names unknown role {name!r}")
            holders = [r.name for r in roles if (r.name in action.roles or r.name == admin)] if action.roles else [
                r.name for r in roles if r.allows(ent.name, "update")]
            for name in holders:
                grants.setdefault(name, {}).setdefault(ent.name, []).append(action.name)
    if not grants:
        return roles
    out = []
    for role in roles:
        extra = grants.get(role.name, {})
        perms = dict(role.permissions)
        for entity, names in extra.items():
            perms[entity] = tuple(dict.fromkeys([*perms.get(entity, ()), *names]))
        out.append(Role(role.name, role.description, tuple(sorted(perms.items()))))
    return tuple(out)
