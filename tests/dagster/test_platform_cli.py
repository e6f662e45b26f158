"""`mb users`, `mb keys`, `mb flags`: what they write, what they audit, how they refuse."""

from __future__ import annotations

from click.testing import CliRunner

from mb_core.pipeline import BuildEnvironment
from mb_core.store.platform import PlatformStore
from mb_dagster.cli import main


def _platform() -> PlatformStore:
    return PlatformStore(BuildEnvironment.open().store)


def test_users_keys_and_flags_are_written_and_audited_once(mb_home):
    runner = CliRunner()
    assert runner.invoke(main, ["users", "create", "ana", "--tenant", "acme", "--role", "admin"]).exit_code == 0
    made = runner.invoke(main, ["keys", "create", "ana", "--tenant", "acme"])
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    platform = _platform()
    principal = platform.authenticate(token)
    assert principal is not None and principal.name == "ana" and principal.tenant == "acme"
    key_id = platform.list_keys("acme")[0].id
    assert runner.invoke(main, ["keys", "revoke", key_id, "--tenant", "acme"]).exit_code == 0
    assert platform.authenticate(token) is None
    flag = runner.invoke(main, ["flags", "set", "FEATURE_META_V4_CANARY_PERCENT", "25", "--scope", "tenant",
                                "--tenant", "acme"])
    assert flag.exit_code == 0, flag.output
    listed = runner.invoke(main, ["flags", "list", "--tenant", "acme"]).output
    assert "FEATURE_META_V4_CANARY_PERCENT   25         (tenant)" in listed
    actions = sorted(entry.action for entry in platform.list_audit("acme"))
    assert actions == ["flag.set", "key.create", "key.revoke", "user.create"]
    assert token not in str([entry.detail for entry in platform.list_audit("acme")])


def test_bad_input_is_one_line_and_writes_nothing(mb_home):
    runner = CliRunner()
    bad_role = runner.invoke(main, ["users", "create", "ana", "--tenant", "acme", "--role", "root"])
    assert bad_role.exit_code != 0
    unknown = runner.invoke(main, ["keys", "create", "nobody", "--tenant", "acme"])
    assert unknown.exit_code == 1 and unknown.output.strip() == "error: no user named nobody in tenant acme"
    too_big = runner.invoke(main, ["flags", "set", "FEATURE_META_V4_CANARY_PERCENT", "250"])
    assert too_big.exit_code == 1
    assert too_big.output.strip() == "error: FEATURE_META_V4_CANARY_PERCENT is at most 100, not 250"
    no_tenant = runner.invoke(main, ["flags", "set", "META_V4_CHAOS_ENABLED", "true", "--scope", "tenant"])
    assert no_tenant.exit_code == 1 and "needs --tenant" in no_tenant.output
    platform = _platform()
    assert platform.list_principals("acme") == [] and platform.flag_values("acme") == []
    assert platform.list_audit("acme") == [] and platform.list_audit("*") == []
