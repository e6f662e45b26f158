import pytest

from mb_core.platform.flags import FLAGS, FlagError, FlagScope, FlagValue, check_flag_value, resolve

KEY = "META_V4_MAX_WORKERS"


def _value(scope, value, tenant="", run_id=""):
    return FlagValue(key=KEY, scope=scope, tenant=tenant, run_id=run_id, value=value)


def test_default_when_nothing_is_set():
    assert resolve([], KEY, "acme") == (FLAGS[KEY].default, None)


def test_run_beats_tenant_beats_platform_whatever_the_order():
    values = [_value(FlagScope.run, 9, "acme", "b1"), _value(FlagScope.platform, 2),
              _value(FlagScope.tenant, 4, "acme")]
    assert resolve(values, KEY, "acme", "b1") == (9, FlagScope.run)
    assert resolve(values, KEY, "acme", "b2") == (4, FlagScope.tenant)
    assert resolve(values, KEY, "acme") == (4, FlagScope.tenant)
    assert resolve(values, KEY, "globex", "b1") == (2, FlagScope.platform)


def test_another_tenants_values_never_apply():
    values = [_value(FlagScope.tenant, 4, "globex"), _value(FlagScope.run, 9, "globex", "b1")]
    assert resolve(values, KEY, "acme", "b1") == (FLAGS[KEY].default, None)


@pytest.mark.parametrize("key,value,message", [
    ("FEATURE_META_V4_ENABLED", "yes", "true or false"),
    ("FEATURE_META_V4_CANARY_PERCENT", 101, "at most 100"),
    ("FEATURE_META_V4_CANARY_PERCENT", 2.5, "whole number"),
    ("META_V4_BUDGET_USD", -1, "at least 0"),
    ("META_V4_MAX_WORKERS", True, "a number"),
    ("UNKNOWN", 1, "unknown flag"),
])
def test_bad_values_are_refused(key, value, message):
    with pytest.raises(FlagError, match=message):
        check_flag_value(key, value)


def test_values_come_back_in_the_flags_type():
    assert check_flag_value("META_V4_BUDGET_USD", 3) == 3.0
    assert isinstance(check_flag_value("META_V4_BUDGET_USD", 3), float)
    assert check_flag_value("FEATURE_META_V4_CANARY_PERCENT", 25.0) == 25
