"""What a plan's generated code implements, traced to its files and to the generated tests.

Derived from the very renderer that writes the files: each element is recorded while its tests are
rendered, and the renderer refuses an element naming a test that was not generated.
"""

from __future__ import annotations

from mb_core.codegen.blueprint import resolve
from mb_core.codegen.render import Renderer, _render_application, _render_devops
from mb_core.models import ImplementedElement, ScaffoldPlan


def implemented_elements(plan: ScaffoldPlan) -> list[ImplementedElement]:
    """Every element the generated application implements and tests, sorted by key."""
    bp = resolve(plan)
    r = Renderer(bp)
    _render_application(r, bp)
    _render_devops(r, bp)
    return [r.elements[key] for key in sorted(r.elements)]
