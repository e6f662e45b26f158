"""API keys through the API: owners and admins list, create and revoke their tenant's keys (the
same rows `mb keys` makes). Only an owner handles an owner's keys, so an admin cannot mint
themselves an owner's powers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from mb_core.errors import InvalidState
from mb_core.platform.roles import Role
from mb_core.store.platform import ApiKey, Principal
from mb_dagster.api.documents import (
    KeyAttributes,
    KeyCreate,
    KeyDocument,
    KeyListDocument,
    KeyResource,
)
from mb_dagster.api.errors import ERROR_RESPONSES, ApiError
from mb_dagster.api.resources import V2
from mb_dagster.api.service import KeyManager, Service, Svc

router = APIRouter(prefix=V2, responses=ERROR_RESPONSES, tags=["keys"])

KeyId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


def key_resource(key: ApiKey, token: str | None = None) -> KeyResource:
    return KeyResource(id=key.id, attributes=KeyAttributes(user_id=key.principal_id, created_at=key.created_at,
                                                           revoked_at=key.revoked_at, token=token),
                       links={"self": f"{V2}/keys/{key.id}"})


def _may_handle(svc: Service, principal: Principal, holder_id: str, action: str, target: str) -> None:
    holder = svc.platform.get_principal(principal.tenant, holder_id)  # 404 for another tenant's user
    if holder.role is Role.owner and principal.role is not Role.owner:
        message = f"role {principal.role.value} may not {action} an owner's key (allowed: owner)"
        svc.platform.audit(principal.tenant, principal.id, f"key.{action}", "key", target, "denied", message)
        raise ApiError(403, "forbidden", message)


@router.get("/keys", response_model=KeyListDocument)
def list_keys(principal: KeyManager, svc: Svc):
    keys = svc.platform.list_keys(principal.tenant)
    return KeyListDocument(data=[key_resource(k) for k in keys], meta={"count": len(keys)})


@router.post("/keys", status_code=201, response_model=KeyDocument)
def create_key(document: KeyCreate, principal: KeyManager, svc: Svc, request: Request):
    """A new key for a user of the caller's tenant; its token is in this answer only."""
    user_id = document.data.attributes.user_id
    request.state.named = {"user_id": user_id}  # another tenant's user is audited as denied
    _may_handle(svc, principal, user_id, "create", user_id)
    issued = svc.platform.issue_key(principal.tenant, user_id)
    svc.platform.audit(principal.tenant, principal.id, "key.create", "key", issued.key.id, detail=f"for {user_id}")
    return KeyDocument(data=key_resource(issued.key, issued.token))


@router.post("/keys/{key_id}/revoke", response_model=KeyDocument)
def revoke_key(key_id: KeyId, principal: KeyManager, svc: Svc):
    key = svc.platform.get_key(principal.tenant, key_id)
    _may_handle(svc, principal, key.principal_id, "revoke", key_id)
    try:
        revoked = svc.platform.revoke_key(principal.tenant, key_id)
    except InvalidState as exc:
        svc.platform.audit(principal.tenant, principal.id, "key.revoke", "key", key_id, "refused", str(exc))
        raise
    svc.platform.audit(principal.tenant, principal.id, "key.revoke", "key", key_id)
    return KeyDocument(data=key_resource(revoked))
