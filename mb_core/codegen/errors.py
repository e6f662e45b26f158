"""Why a plan cannot be turned into code."""

from __future__ import annotations

from mb_core.errors import MBError


class PlanNotRenderable(MBError):
    """The scaffold plan is inconsistent (unknown entity, clashing names...); nothing was generated."""
