"""Requirements: what a spec explicitly asks for, read with the words that ask for it, and traced
through the plan and the generated code to the tests that exercise it.

`extract` reads them out of the text (given the entities the reader found), `reconcile` makes the
spec say what they say (so the generator builds it), `plan_map` maps each to plan element keys, and
`trace` joins them with what the generator implements and how the tests went.
"""

from mb_core.requirements.extract import extract_requirements
from mb_core.requirements.reconcile import reconcile
from mb_core.requirements.trace import map_to_plan, requirements_gate, trace_requirements

__all__ = ["extract_requirements", "map_to_plan", "reconcile", "requirements_gate",
           "trace_requirements"]
