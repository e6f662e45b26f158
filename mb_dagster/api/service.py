"""What the API's handlers share: the build environment, the platform store, the rate limiter,
the flag client and (opened on first use) the Dagster instance."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from mb_core.pipeline import BuildEnvironment
from mb_core.platform.ratelimit import TenantRateLimiter
from mb_core.platform.roles import Action, may, roles_allowed
from mb_core.store.platform import PlatformStore, Principal
from mb_dagster.api.dagster_runs import DagsterRunIndex
from mb_dagster.api.errors import ApiError

DEFAULT_DAGSTER_UI = "http://127.0.0.1:3000"


@dataclass
class Service:
    env: BuildEnvironment
    limiter: TenantRateLimiter
    dagster_ui_url: str = DEFAULT_DAGSTER_UI
    redis_url: str | None = None
    platform: PlatformStore = field(init=False)
    dagster_runs: DagsterRunIndex = field(init=False)
    _instance: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.platform = PlatformStore(self.env.store)
        self.dagster_runs = DagsterRunIndex(self.instance)

    @classmethod
    def from_env(cls, env: BuildEnvironment | None = None, environ: dict[str, str] | None = None) -> Service:
        environ = dict(os.environ if environ is None else environ)
        redis_url = environ.get("MB_REDIS_URL") or None
        storage = redis_url or "memory://"
        return cls(env=env or BuildEnvironment.open(), limiter=TenantRateLimiter(storage),
                   dagster_ui_url=(environ.get("MB_DAGSTER_UI_URL") or DEFAULT_DAGSTER_UI).rstrip("/"),
                   redis_url=redis_url)

    def instance(self):
        with self._lock:
            if self._instance is None:
                from mb_dagster.instance import open_instance

                self._instance = open_instance(self.env.settings)
            return self._instance

    def flag(self, key: str, tenant: str, run_id: str = "") -> Any:
        """A flag's value for this tenant (and run) through the OpenFeature client."""
        return self.platform.flag(key, tenant, run_id)

    def limit(self, kind: str, tenant: str) -> None:
        decision = self.limiter.hit(kind, tenant)
        if not decision.allowed:
            raise ApiError(429, "rate_limited",
                           f"tenant {tenant} made {decision.limit} {kind} requests this hour; "
                           f"try again in {decision.retry_after_s} s",
                           headers={"Retry-After": str(decision.retry_after_s)})


_bearer = HTTPBearer(auto_error=False, description="An API key made with `mb keys create`.")


def service(request: Request) -> Service:
    return request.app.state.service


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
           svc: Annotated[Service, Depends(service)]) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "no API key: send `Authorization: Bearer <key>`",
                       headers={"WWW-Authenticate": "Bearer"})
    principal = svc.platform.authenticate(credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthenticated", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})
    request.state.principal = principal  # the error handlers audit a refusal with who asked
    return principal


def allowed(action: Action):
    """A dependency: the caller, when their role may do `action`; 401/403 otherwise."""

    def check(request: Request, principal: Annotated[Principal, Depends(caller)],
              svc: Annotated[Service, Depends(service)]) -> Principal:
        request.state.action = action
        if not may(principal.role, action):
            who = ", ".join(role.value for role in roles_allowed(action))
            message = (f"role {principal.role.value} may not {action.value.replace('_', ' ')} "
                       f"(allowed: {who})")
            svc.platform.audit(principal.tenant, principal.id, f"api.{action.value}", "endpoint",
                               endpoint_of(request), "denied", message)
            raise ApiError(403, "forbidden", message)
        return principal

    return check


def endpoint_of(request: Request) -> str:
    """"METHOD /path/{template}" of the route asked (no ids, so no other tenant's data)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"[:64]


# Handler parameters: `principal: Reader` is the caller, when their role may read.
Svc = Annotated[Service, Depends(service)]
Reader = Annotated[Principal, Depends(allowed(Action.read))]
Planner = Annotated[Principal, Depends(allowed(Action.plan))]
SpecCreator = Annotated[Principal, Depends(allowed(Action.create_spec))]
Runner = Annotated[Principal, Depends(allowed(Action.run))]
Decider = Annotated[Principal, Depends(allowed(Action.decide))]
Canceller = Annotated[Principal, Depends(allowed(Action.cancel))]
Auditor = Annotated[Principal, Depends(allowed(Action.read_audit))]
FlagManager = Annotated[Principal, Depends(allowed(Action.manage_flags))]
KeyManager = Annotated[Principal, Depends(allowed(Action.manage_keys))]
