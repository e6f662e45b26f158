"""Chaos: a seeded fault injector that is off unless META_V4_CHAOS_ENABLED says so.

The injector answers one question at each real seam (the provider, the generated code, the
sandbox, `git apply`, the store, the run worker): inject a fault here, now? The answer is a pure
function of (seed, build, attempt, seam, call number), so the same seed replays the same faults,
with healing on or off. Every injected fault is recorded in the store with the build's outcome.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping

from pydantic import Field

from mb_core.errors import InvalidSettings
from mb_core.models import GeneratedFile, GeneratedFiles, Model

SEAMS = ("provider", "codegen", "sandbox", "git_apply", "store", "worker")

# Semantic faults in one generated file: each breaks the app the way a careless edit would.
CODE_FAULTS = ("syntax_error", "missing_import", "wrong_status_code", "broken_route")


class ChaosSettings(Model):
    enabled: bool = False
    probability: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int = 0
    seams: tuple[str, ...] = SEAMS
    code_faults: tuple[str, ...] = CODE_FAULTS

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChaosSettings:
        """META_V4_CHAOS_ENABLED (1/true), META_V4_CHAOS_INJECTION_PROBABILITY in [0, 1],
        META_V4_CHAOS_SEED (a whole number), META_V4_CHAOS_SEAMS and META_V4_CHAOS_CODE_FAULTS
        (comma lists, default all)."""
        env = os.environ if env is None else env
        enabled = (env.get("META_V4_CHAOS_ENABLED") or "").strip().lower() in ("1", "true", "yes", "on")
        raw_p = (env.get("META_V4_CHAOS_INJECTION_PROBABILITY") or "").strip()
        probability = 0.1 if enabled and not raw_p else 0.0
        if raw_p:
            try:
                probability = float(raw_p)
            except ValueError:
                probability = -1.0
            if not 0.0 <= probability <= 1.0:
                raise InvalidSettings(
                    f"META_V4_CHAOS_INJECTION_PROBABILITY={raw_p!r} is not a probability: use a number from 0 to 1")
        raw_seed = (env.get("META_V4_CHAOS_SEED") or "0").strip()
        try:
            seed = int(raw_seed)
        except ValueError:
            raise InvalidSettings(f"META_V4_CHAOS_SEED={raw_seed!r} is not a whole number") from None
        seams = _choices(env, "META_V4_CHAOS_SEAMS", SEAMS)
        faults = _choices(env, "META_V4_CHAOS_CODE_FAULTS", CODE_FAULTS)
        return cls(enabled=enabled, probability=probability, seed=seed, seams=seams, code_faults=faults)


def _choices(env: Mapping[str, str], var: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    raw = (env.get(var) or "").strip()
    if not raw:
        return allowed
    picked = tuple(p.strip() for p in raw.split(",") if p.strip())
    unknown = [p for p in picked if p not in allowed]
    if unknown:
        raise InvalidSettings(f"{var}: unknown {', '.join(unknown)} (one of: {', '.join(allowed)})")
    return picked


def _draw(seed: int, *parts: object) -> float:
    """A number in [0, 1) fixed by the seed and the parts: the same call always draws the same."""
    digest = hashlib.sha256("\x1f".join([str(seed), *map(str, parts)]).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


class FaultInjector:
    def __init__(self, settings: ChaosSettings):
        self.settings = settings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FaultInjector:
        return cls(ChaosSettings.from_env(env))

    def fault_at(self, seam: str, build_id: str, attempt: int, call: int = 0,
                 faults: tuple[str, ...] = ()) -> str | None:
        """The fault to inject at this seam now, or None."""
        s = self.settings
        if not s.enabled or seam not in s.seams or s.probability <= 0:
            return None
        if _draw(s.seed, "inject", build_id, attempt, seam, call) >= s.probability:
            return None
        if not faults:
            return seam
        return faults[int(_draw(s.seed, "which", build_id, attempt, seam, call) * len(faults))]


def corrupt_generated(files: GeneratedFiles, fault: str) -> tuple[GeneratedFiles, str]:
    """`files` with one semantic fault in one application module; returns what was done."""
    routers = sorted(f.path for f in files.files
                     if f.path.startswith("app/routers/") and not f.path.endswith("__init__.py"))
    if not routers:
        return files, "no router to corrupt"
    target = routers[0]
    by_path = {f.path: f.content for f in files.files}
    content = by_path[target]
    if fault == "syntax_error":
        changed = content.replace("\nrouter = ", "\ndef _unfinished(:\n    pass\n\nrouter = ", 1)
    elif fault == "missing_import":
        changed = re.sub(r"^from fastapi import [^\n]*\n", "", content, count=1, flags=re.MULTILINE)
    elif fault == "wrong_status_code":
        changed = content.replace("status_code=201", "status_code=200", 1)
    elif fault == "broken_route":
        changed = content.replace('@router.get("/{item_id}"', '@router.get("/item/{item_id}"', 1)
    else:
        raise ValueError(f"unknown code fault {fault!r}")
    if changed == content:
        return files, f"{fault}: nothing in {target} to change"
    out = [GeneratedFile(path=f.path, content=changed if f.path == target else f.content) for f in files.files]
    return files.model_copy(update={"files": out}), f"{fault} in {target}"
