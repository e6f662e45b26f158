"""`mb serve`, `mb users`, `mb keys`, `mb flags`: the platform API and who may call it."""

from __future__ import annotations

import json
import os

import click

from mb_core.platform.flags import FLAGS, FlagError, FlagScope, resolve
from mb_core.platform.roles import Role


def _platform():
    from mb_core.pipeline import BuildEnvironment
    from mb_core.store.platform import PlatformStore

    return PlatformStore(BuildEnvironment.open().store)


def _operator() -> str:
    # Changes made on the builder's machine are the operator's; the audit keeps who that was.
    return f"cli:{os.environ.get('USER', 'operator')}"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True, help="uvicorn worker processes.")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the platform API (v2 and v4 endpoints, /readyz, /metrics, /openapi.json)."""
    import uvicorn

    from mb_core.settings import Settings
    from mb_dagster.deploy.preflight import check_services

    check_services(Settings.from_env())  # a wrong PostgreSQL or Redis URL: one line, no server
    click.echo(f"Meta-Builder API on http://{host}:{port}  (OpenAPI: /openapi.json; "
               f"rate limits on {os.environ.get('MB_REDIS_URL') or 'memory'})")
    uvicorn.run("mb_dagster.api.asgi:app", host=host, port=port, workers=workers, log_level="warning")


@click.group()
def users() -> None:
    """Users of the API: each in one tenant, with one role."""


@users.command(name="create")
@click.argument("name")
@click.option("--tenant", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def users_create(name: str, tenant: str, role: str) -> None:
    platform = _platform()
    principal = platform.create_principal(tenant, name, role)
    platform.audit(tenant, _operator(), "user.create", "user", principal.id, detail=f"role {role}")
    click.echo(f"created user {principal.id} ({name}, {role} in {tenant}); "
               f"give them a key: mb keys create {name} --tenant {tenant}")


@users.command(name="list")
@click.option("--tenant", required=True)
def users_list(tenant: str) -> None:
    for principal in _platform().list_principals(tenant):
        click.echo(f"{principal.id:<20} {principal.role.value:<7} {principal.name}")


@click.group()
def keys() -> None:
    """API keys: shown once when made, kept only as a hash, revocable."""


@keys.command(name="create")
@click.argument("user")
@click.option("--tenant", required=True)
def keys_create(user: str, tenant: str) -> None:
    platform = _platform()
    principal = platform.find_principal(tenant, user)
    issued = platform.issue_key(tenant, principal.id)
    platform.audit(tenant, _operator(), "key.create", "key", issued.key.id, detail=f"for {principal.id}")
    click.echo(f"key {issued.key.id} for {user} ({principal.role.value} in {tenant}); it is shown only now:")
    click.echo(issued.token)


@keys.command(name="revoke")
@click.argument("key_id")
@click.option("--tenant", required=True)
def keys_revoke(key_id: str, tenant: str) -> None:
    platform = _platform()
    platform.revoke_key(tenant, key_id)
    platform.audit(tenant, _operator(), "key.revoke", "key", key_id)
    click.echo(f"revoked {key_id}")


@keys.command(name="list")
@click.option("--tenant", required=True)
def keys_list(tenant: str) -> None:
    for key in _platform().list_keys(tenant):
        state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "live"
        click.echo(f"{key.id:<20} {key.principal_id:<20} {state}")


@click.group()
def flags() -> None:
    """Feature flags at platform, tenant or run scope (the most specific wins)."""


def _scope_args(scope: str, tenant: str | None, run: str | None) -> dict:
    from mb_core.errors import InvalidSettings

    if scope != "platform" and not tenant:
        raise InvalidSettings(f"a {scope} flag needs --tenant")
    if scope == "run" and not run:
        raise InvalidSettings("a run flag needs --run")
    return {"tenant": tenant or "", "run_id": run or ""}


@flags.command(name="set")
@click.argument("key", type=click.Choice(list(FLAGS)))
@click.argument("value")
@click.option("--scope", type=click.Choice([s.value for s in FlagScope]), default="platform", show_default=True)
@click.option("--tenant")
@click.option("--run")
def flags_set(key: str, value: str, scope: str, tenant: str | None, run: str | None) -> None:
    """Set KEY to VALUE (JSON: true, 25, 2.5)."""
    from mb_core.errors import InvalidSettings

    try:
        parsed = json.loads(value)
    except ValueError:
        raise InvalidSettings(f"{value!r} is not a value: use true, false or a number") from None
    platform = _platform()
    where = _scope_args(scope, tenant, run)
    try:
        stored = platform.set_flag(key, parsed, scope, updated_by=_operator(), **where)
    except FlagError as exc:
        raise InvalidSettings(str(exc)) from None
    platform.audit(where["tenant"] or "*", _operator(), "flag.set", "flag", f"{key}@{scope}",
                   detail=f"value {stored.value}")
    click.echo(f"{key} = {json.dumps(stored.value)} at {scope} scope"
               + (f" for {where['tenant']}" if where["tenant"] else "")
               + (f" run {where['run_id']}" if where["run_id"] else ""))


@flags.command(name="clear")
@click.argument("key", type=click.Choice(list(FLAGS)))
@click.option("--scope", type=click.Choice([s.value for s in FlagScope]), default="platform", show_default=True)
@click.option("--tenant")
@click.option("--run")
def flags_clear(key: str, scope: str, tenant: str | None, run: str | None) -> None:
    platform = _platform()
    where = _scope_args(scope, tenant, run)
    cleared = platform.clear_flag(key, scope, **where)
    if cleared:
        platform.audit(where["tenant"] or "*", _operator(), "flag.clear", "flag", f"{key}@{scope}")
    click.echo(f"{key} cleared at {scope} scope" if cleared else f"{key} had no value at {scope} scope")


@flags.command(name="list")
@click.option("--tenant", default="", help="Show what applies to this tenant.")
@click.option("--run", default="", help="... and this run.")
def flags_list(tenant: str, run: str) -> None:
    values = _platform().flag_values(tenant, run)
    for key in FLAGS:
        value, scope = resolve(values, key, tenant, run)
        click.echo(f"{key:<32} {json.dumps(value):<10} ({scope.value if scope else 'default'})")
