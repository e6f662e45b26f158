"""Reading specs without an LLM: rule-based understanding of plain-language and YAML specs."""

from __future__ import annotations

from mb_core.models import ScaffoldSpec, SpecMode
from mb_core.spec.guided import read_guided
from mb_core.spec.reading import PROVIDER_HINT, read_freeform

__all__ = ["PROVIDER_HINT", "read_freeform", "read_guided", "read_spec", "with_requirements"]


def read_spec(text: str, mode: SpecMode = SpecMode.freeform,
              base_spec: ScaffoldSpec | None = None) -> ScaffoldSpec:
    """The offline Product Architect: text (or guided YAML) -> ScaffoldSpec."""
    if mode == SpecMode.guided:
        spec = read_guided(text)
        if base_spec is None:
            return spec
        names = {e.name for e in base_spec.entities}
        return base_spec.model_copy(update={
            "text": f"{base_spec.text}\n\n{text}",
            "entities": base_spec.entities + [e for e in spec.entities if e.name not in names],
            "relations": base_spec.relations + spec.relations,
            "roles": base_spec.roles + [r for r in spec.roles
                                        if r.name not in {x.name for x in base_spec.roles}],
            "features": base_spec.features + spec.features,
            "decisions": base_spec.decisions + spec.decisions,
        })
    return with_requirements(read_freeform(text, base_spec))


def with_requirements(spec: ScaffoldSpec) -> ScaffoldSpec:
    """The spec's explicit requirements, and the spec made to say what they say."""
    from mb_core.requirements import extract_requirements, reconcile
    from mb_core.spec.discovery import discover_entities

    spec = discover_entities(spec)
    requirements = extract_requirements(spec)
    return reconcile(spec, requirements).model_copy(update={"requirements": requirements})
