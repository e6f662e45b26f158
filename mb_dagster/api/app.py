"""The FastAPI application: routers, errors, body limit, readiness and /metrics."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from mb_dagster.api import keys, v2, v4
from mb_dagster.api.documents import GenericDocument
from mb_dagster.api.errors import install_error_handlers
from mb_dagster.api.limits_body import BodySizeLimit
from mb_dagster.api.metrics import StoreCollector
from mb_dagster.api.service import Service, Svc

# A spec's limit, plus room for the JSON around it.
MAX_BODY_BYTES = 256 * 1024 + 4096


def create_app(svc: Service | None = None) -> FastAPI:
    svc = svc or Service.from_env()
    app = FastAPI(
        title="Meta-Builder platform API",
        version="4.0.0",
        description="Specs in, planned and built applications out. Every call carries an API key "
                    "(`Authorization: Bearer`); documents and errors are JSON:API-style.",
    )
    app.state.service = svc
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(svc.env.store))
    app.state.metrics_registry = registry
    install_error_handlers(app)
    app.include_router(v2.router)
    app.include_router(v4.router)
    app.include_router(keys.router)

    @app.get("/healthz", response_model=GenericDocument, tags=["ops"])
    def healthz():
        return GenericDocument(data={"type": "health", "id": "api", "attributes": {"status": "ok"}})

    @app.get("/readyz", response_model=GenericDocument, tags=["ops"],
             responses={503: {"model": GenericDocument, "description": "Not ready"}})
    def readyz(svc: Svc):
        checks = readiness(svc)
        ready = all(check["ok"] for check in checks.values())
        body = GenericDocument(data={"type": "readiness", "id": "api",
                                     "attributes": {"ready": ready, "checks": checks}})
        return JSONResponse(body.model_dump(mode="json"), status_code=200 if ready else 503)

    @app.get("/metrics", tags=["ops"], response_class=Response,
             responses={200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}},
                              "description": "Prometheus text format"}})
    def metrics():
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return _with_body_limit(app)


def _with_body_limit(app: FastAPI) -> FastAPI:
    app.add_middleware(BodySizeLimit, max_bytes=MAX_BODY_BYTES)
    return app


def readiness(svc: Service) -> dict[str, dict]:
    """Store, Dagster instance and (when configured) Redis: each reachable or why not."""
    checks: dict[str, dict] = {}
    try:
        svc.env.store.list_builds(limit=1)
        checks["store"] = {"ok": True, "detail": svc.env.store.url}
    except Exception as exc:  # noqa: BLE001 - readiness reports every check, it does not raise
        checks["store"] = {"ok": False, "detail": str(exc).splitlines()[0][:200]}
    try:
        svc.instance().get_runs(limit=1)
        checks["dagster"] = {"ok": True, "detail": type(svc.instance().run_storage).__name__}
    except Exception as exc:  # noqa: BLE001
        checks["dagster"] = {"ok": False, "detail": str(exc).splitlines()[0][:200]}
    if svc.redis_url:
        try:
            ok = svc.limiter.check_storage()
            checks["redis"] = {"ok": ok, "detail": "ping" if ok else "no answer"}
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = {"ok": False, "detail": str(exc).splitlines()[0][:200]}
    return checks
