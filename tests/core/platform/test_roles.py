from mb_core.platform.roles import Action, Role, may, roles_allowed


def test_owner_and_admin_create_execute_and_approve():
    for role in (Role.owner, Role.admin):
        for action in Action:
            assert may(role, action), (role, action)


def test_member_plans_and_reads_only():
    assert {a for a in Action if may(Role.member, a)} == {Action.read, Action.plan}


def test_viewer_reads_only():
    assert {a for a in Action if may(Role.viewer, a)} == {Action.read}


def test_unknown_roles_and_actions_may_nothing():
    assert not may("superuser", Action.read)
    assert not may(Role.owner, "drop_tables")
    assert roles_allowed(Action.decide) == [Role.owner, Role.admin]
