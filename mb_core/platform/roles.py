"""Roles and what each may do: owner and admin create, execute and approve; member plans; viewer
reads. One table, asked by every driver (API, CLI) before it acts."""

from __future__ import annotations

from enum import Enum


class Role(str, Enum):
    owner = "owner"
    admin = "admin"
    member = "member"
    viewer = "viewer"


class Action(str, Enum):
    read = "read"  # specs, runs, timelines, stats
    plan = "plan"  # generate a plan for a spec
    create_spec = "create_spec"
    run = "run"  # start a build
    decide = "decide"  # approve, reject, promote
    cancel = "cancel"
    read_audit = "read_audit"
    manage_flags = "manage_flags"
    manage_keys = "manage_keys"


_READ = frozenset({Action.read})
_MEMBER = _READ | {Action.plan}
_ADMIN = _MEMBER | {Action.create_spec, Action.run, Action.decide, Action.cancel, Action.read_audit,
                    Action.manage_flags, Action.manage_keys}

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.viewer: _READ,
    Role.member: _MEMBER,
    Role.admin: _ADMIN,
    Role.owner: _ADMIN,
}


def may(role: Role | str, action: Action | str) -> bool:
    """Whether a principal of `role` may do `action`. Unknown roles may do nothing."""
    try:
        return Action(action) in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def roles_allowed(action: Action | str) -> list[Role]:
    """The roles that may do `action` (for error messages and documentation)."""
    return [role for role in Role if may(role, action)]
