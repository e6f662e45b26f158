"""Principals, keys, API specs and runs, audit and flags: every query is tenant-bound."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mb_core.errors import InvalidState
from mb_core.models import BuildRun, BuildStatus, SpecMode
from mb_core.platform.flags import FlagError, FlagScope, resolve
from mb_core.store import InvalidRecord
from mb_core.store.platform import PlatformStore, UnknownRecord, token_hash
from mb_core.store.platform_tables import api_keys


@pytest.fixture
def platform(store):
    return PlatformStore(store)


def test_a_key_is_kept_only_as_its_hash_and_authenticates_until_revoked(platform, store, clock):
    alice = platform.create_principal("acme", "alice", "admin")
    issued = platform.issue_key("acme", alice.id)
    assert issued.token.startswith("mbk_")
    with store.engine.connect() as conn:
        kept = conn.execute(select(api_keys)).mappings().one()
    assert issued.token not in [str(v) for v in kept.values()]
    assert kept["token_sha256"] == token_hash(issued.token)

    assert platform.authenticate(issued.token) == alice
    assert platform.authenticate(issued.token + "x") is None
    assert platform.authenticate("not a key") is None

    clock.advance(5)
    revoked = platform.revoke_key("acme", issued.key.id)
    assert revoked.revoked_at == clock.now
    assert platform.authenticate(issued.token) is None
    with pytest.raises(InvalidState, match="already revoked"):
        platform.revoke_key("acme", issued.key.id)


def test_another_tenant_never_sees_principals_keys_specs_or_runs(platform):
    alice = platform.create_principal("acme", "alice", "owner")
    key = platform.issue_key("acme", alice.id)
    spec = platform.create_spec("acme", "Build a library with books and loans", SpecMode.freeform, alice.id)
    run = platform.submit_run("acme", spec.id, BuildRun(id="b-acme-1", tenant="acme", spec_text=spec.text),
                              alice.id)
    assert run.status is BuildStatus.submitted

    with pytest.raises(UnknownRecord):
        platform.get_principal("globex", alice.id)
    with pytest.raises(UnknownRecord):
        platform.issue_key("globex", alice.id)
    with pytest.raises(UnknownRecord):
        platform.revoke_key("globex", key.key.id)
    with pytest.raises(UnknownRecord):
        platform.get_spec("globex", spec.id)
    with pytest.raises(UnknownRecord):
        platform.record_plan("globex", spec.id, "{}", alice.id)
    with pytest.raises(UnknownRecord):
        platform.get_run("globex", run.id)
    with pytest.raises(UnknownRecord):
        platform.submit_run("globex", spec.id, BuildRun(id="b-globex-1", tenant="globex", spec_text="x"), "u")
    assert platform.spec_of_run("globex", run.id) is None
    assert platform.list_runs("globex") == []
    assert platform.list_keys("globex") == []
    assert platform.list_principals("globex") == []
    assert [r.id for r in platform.list_runs("acme")] == [run.id]
    assert platform.spec_of_run("acme", run.id).spec_id == spec.id


def test_a_run_for_an_unknown_spec_creates_no_build(platform, store):
    with pytest.raises(UnknownRecord):
        platform.submit_run("acme", "s-missing", BuildRun(id="b-x", tenant="acme", spec_text="x"), "u")
    assert store.list_builds() == []


def test_principal_names_are_unique_per_tenant_and_roles_are_checked(platform):
    platform.create_principal("acme", "alice", "member")
    platform.create_principal("globex", "alice", "viewer")
    with pytest.raises(InvalidState, match="already has a user"):
        platform.create_principal("acme", "alice", "admin")
    with pytest.raises(InvalidRecord, match="unknown role"):
        platform.create_principal("acme", "bob", "superuser")
    assert platform.find_principal("globex", "alice").role.value == "viewer"


def test_audit_redacts_personal_data_and_lists_only_the_tenants_entries(platform, clock):
    platform.audit("acme", "u1", "spec.create", "spec", "s1", detail="asked by jo@example.org")
    clock.advance(1)
    platform.audit("acme", "u1", "run.approve", "run", "b20250314-093015-7f3a2c91", outcome="denied")
    platform.audit("globex", "u2", "spec.create", "spec", "s2")
    entries = platform.list_audit("acme")
    assert [e.action for e in entries] == ["run.approve", "spec.create"]
    assert entries[1].detail == "asked by [email]"
    assert entries[0].target_id == "b20250314-093015-7f3a2c91"
    assert [e.tenant for e in platform.list_audit("globex")] == ["globex"]


def test_flags_most_specific_scope_wins(platform):
    owner = platform.create_principal("acme", "alice", "owner")
    spec = platform.create_spec("acme", "Build a library", SpecMode.freeform, owner.id)
    platform.submit_run("acme", spec.id, BuildRun(id="b-1", tenant="acme", spec_text="x"), owner.id)
    key = "FEATURE_META_V4_CANARY_PERCENT"
    assert resolve(platform.flag_values("acme", "b-1"), key, "acme", "b-1") == (0, None)
    platform.set_flag(key, 10, "platform")
    platform.set_flag(key, 30, "tenant", tenant="acme")
    platform.set_flag(key, 70, "run", tenant="acme", run_id="b-1")
    assert resolve(platform.flag_values("acme", "b-1"), key, "acme", "b-1") == (70, FlagScope.run)
    assert resolve(platform.flag_values("acme"), key, "acme") == (30, FlagScope.tenant)
    assert resolve(platform.flag_values("globex"), key, "globex") == (10, FlagScope.platform)
    platform.set_flag(key, 40, "tenant", tenant="acme")  # replaces, never duplicates
    assert [v.value for v in platform.flag_values("acme") if v.scope is FlagScope.tenant] == [40]
    assert platform.clear_flag(key, "run", tenant="acme", run_id="b-1")
    assert resolve(platform.flag_values("acme", "b-1"), key, "acme", "b-1") == (40, FlagScope.tenant)


def test_flag_values_are_checked_and_run_scope_stays_in_its_tenant(platform):
    with pytest.raises(FlagError, match="at most 100"):
        platform.set_flag("FEATURE_META_V4_CANARY_PERCENT", 150, "platform")
    with pytest.raises(FlagError, match="unknown flag"):
        platform.set_flag("NO_SUCH_FLAG", True, "platform")
    with pytest.raises(UnknownRecord):
        platform.set_flag("META_V4_CHAOS_ENABLED", True, "run", tenant="globex", run_id="b-nope")
    assert platform.flag_values("acme") == []


def test_promoting_a_run_makes_it_the_only_promoted_run_of_its_spec(platform, clock):
    owner = platform.create_principal("acme", "alice", "owner")
    spec = platform.create_spec("acme", "Build a library", SpecMode.freeform, owner.id)
    for build_id in ("b-1", "b-2"):
        platform.submit_run("acme", spec.id, BuildRun(id=build_id, tenant="acme", spec_text="x"), owner.id)
    platform.promote_run("acme", "b-1", owner.id)
    clock.advance(1)
    promoted = platform.promote_run("acme", "b-2", owner.id)
    assert promoted.promoted_at == clock.now and promoted.promoted_by == owner.id
    assert platform.spec_of_run("acme", "b-1").promoted_at is None
    with pytest.raises(InvalidState, match="not started from a spec"):
        platform.promote_run("globex", "b-2", owner.id)
