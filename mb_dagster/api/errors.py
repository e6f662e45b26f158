"""Every failure answers a JSON:API error document with one clear line; nothing is half-written."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mb_core.errors import InvalidSpec, InvalidState, MBError, SpecRefused, UnknownBuild
from mb_core.platform.flags import FlagError
from mb_core.store import InvalidRecord, StoreUnavailable
from mb_core.store.platform import UnknownRecord
from mb_dagster.api.documents import ErrorDocument

TITLES = {
    400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
    409: "Conflict", 413: "Payload too large", 415: "Unsupported media type", 422: "Unprocessable content",
    429: "Too many requests", 503: "Service unavailable",
}


class ApiError(Exception):
    def __init__(self, status: int, code: str, detail: str, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail, self.headers = status, code, detail, headers or {}


def error_response(status: int, code: str, detail: str, headers: dict[str, str] | None = None,
                   source: dict[str, str] | None = None) -> JSONResponse:
    body = {"errors": [{"status": str(status), "code": code, "title": TITLES.get(status, "Error"),
                        "detail": detail, **({"source": source} if source else {})}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _status_for(exc: MBError) -> tuple[int, str]:
    if isinstance(exc, (UnknownRecord, UnknownBuild)):
        return 404, "not_found"
    if isinstance(exc, InvalidState):
        return 409, "invalid_state"
    if isinstance(exc, (InvalidSpec, SpecRefused, InvalidRecord)):
        return 422, "invalid_input"
    if isinstance(exc, StoreUnavailable):
        return 503, "store_unavailable"
    return 409, "refused"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(MBError)
    def _mb_error(request: Request, exc: MBError):
        status, code = _status_for(exc)
        if status == 404:
            audit_foreign_ids(request)
        return error_response(status, code, str(exc))

    @app.exception_handler(FlagError)
    async def _flag_error(_request: Request, exc: FlagError):
        return error_response(422, "invalid_flag", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        where = "/".join(str(part) for part in first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return error_response(400, "malformed_json", "the request body is not valid JSON",
                                  source={"pointer": "/"})
        return error_response(422, "invalid_input", f"{where or 'request'}: {first.get('msg')}",
                              source={"pointer": "/" + where})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        return error_response(exc.status_code, "http_error", str(exc.detail))


# Path (and query) parameters that name a record, and its kind.
RECORD_PARAMETERS = {"spec_id": "spec", "run_id": "run", "key_id": "key", "user_id": "user"}


def audit_foreign_ids(request: Request) -> None:
    """A 404 because the caller named another tenant's record is a refused access: audited as
    denied in the caller's tenant (the answer stays a plain 404, so it tells nothing)."""
    principal = getattr(request.state, "principal", None)
    if principal is None:
        return
    platform = request.app.state.service.platform
    named = {**request.query_params, **request.path_params, **getattr(request.state, "named", {})}
    for parameter, kind in RECORD_PARAMETERS.items():
        record_id = named.get(parameter)
        if not record_id:
            continue
        owner = platform.owner_tenant(kind, record_id)
        if owner is not None and owner != principal.tenant:
            action = getattr(request.state, "action", None)
            platform.audit(principal.tenant, principal.id, f"api.{action.value if action else 'read'}", kind,
                           record_id, "denied", "another tenant's id")
            return


ERROR_RESPONSES = {
    status: {"model": ErrorDocument, "description": TITLES[status]}
    for status in (400, 401, 403, 404, 409, 413, 422, 429)
}
