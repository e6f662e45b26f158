"""The code generator: a ScaffoldPlan in, the files of a FastAPI + SQLAlchemy application out.

`render_application` writes the app, its tests and README; `render_devops` the migrations, seed
script, environment example, Dockerfile, CI workflow and requirements. Both are pure and
deterministic: the same plan gives byte-identical files.
"""

from mb_core.codegen.blueprint import Blueprint, resolve
from mb_core.codegen.elements import implemented_elements
from mb_core.codegen.errors import PlanNotRenderable
from mb_core.codegen.render import render_all, render_application, render_devops

__all__ = ["Blueprint", "PlanNotRenderable", "implemented_elements", "render_all", "render_application",
           "render_devops", "resolve"]
