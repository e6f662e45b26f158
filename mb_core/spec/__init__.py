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
    spec = _workflows_follow_their_fields(reconcile(spec, requirements))
    return spec.model_copy(update={"requirements": requirements})


def _workflows_follow_their_fields(spec: ScaffoldSpec) -> ScaffoldSpec:
    """A workflow moves between the states its field holds: when the text's own values replaced
    the usual ones, the workflow takes them too (a state the field cannot hold cannot be built)."""
    fields = {(e.name, f.name): f for e in spec.entities for f in e.fields}
    features = []
    for feature in spec.features:
        field = fields.get((feature.entity, feature.options.get("field", "")))
        states = feature.options.get("states")
        if field is not None and field.choices and states and not set(states) <= set(field.choices):
            kept = {a: [b for b in to if b in field.choices]
                    for a, to in (feature.options.get("transitions") or {}).items()
                    if a in field.choices}
            if not any(kept.values()):
                kept = {a: [b for b in field.choices if b != a] for a in field.choices}
            feature = feature.model_copy(update={"options": {
                **feature.options, "states": list(field.choices), "transitions": kept}})
        features.append(feature)
    return spec.model_copy(update={"features": features})
