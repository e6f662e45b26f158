"""What the API's handlers share: the build environment, the platform store, the rate limiter,
the flag client and (opened on first use) the Dagster instance."""

from __future__ import annotations

import os
import threading
import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from openfeature import api as openfeature
from openfeature.evaluation_context import EvaluationContext

from mb_core.pipeline import BuildEnvironment
from mb_core.platform.flag_provider import StoreFlagProvider
from mb_core.platform.flags import FLAGS
from mb_core.platform.ratelimit import TenantRateLimiter
from mb_core.platform.roles import Action, may, roles_allowed
from mb_core.store.platform import PlatformStore, Principal
from mb_dagster.api.errors import ApiError

DEFAULT_DAGSTER_UI = "http://127.0.0.1:3000"


@dataclass
class Service:
    env: BuildEnvironment
    limiter: TenantRateLimiter
    dagster_ui_url: str = DEFAULT_DAGSTER_UI
    redis_url: str | None = None
    platform: PlatformStore = field(init=False)
    flag_domain: str = field(init=False)
    _instance: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.platform = PlatformStore(self.env.store)
        # A domain of its own: several services (tests) in one process keep their own provider.
        self.flag_domain = f"mb-{uuid.uuid4().hex[:8]}"
        openfeature.set_provider(StoreFlagProvider(self.platform.flag_values), domain=self.flag_domain)

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
        client = openfeature.get_client(domain=self.flag_domain)
        context = EvaluationContext(targeting_key=tenant, attributes={"tenant": tenant, "run_id": run_id})
        definition = FLAGS[key]
        if definition.kind is bool:
            return client.get_boolean_value(key, definition.default, context)
        if definition.kind is int:
            return client.get_integer_value(key, definition.default, context)
        return client.get_float_value(key, definition.default, context)

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


def caller(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
           svc: Annotated[Service, Depends(service)]) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "unauthenticated", "no API key: send `Authorization: Bearer <key>`",
                       headers={"WWW-Authenticate": "Bearer"})
    principal = svc.platform.authenticate(credentials.credentials)
    if principal is None:
        raise ApiError(401, "unauthenticated", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})
    return principal


def allowed(action: Action):
    """A dependency: the caller, when their role may do `action`; 401/403 otherwise."""

    def check(principal: Annotated[Principal, Depends(caller)]) -> Principal:
        if not may(principal.role, action):
            who = ", ".join(role.value for role in roles_allowed(action))
            raise ApiError(403, "forbidden",
                           f"role {principal.role.value} may not {action.value.replace('_', ' ')} "
                           f"(allowed: {who})")
        return principal

    return check


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
