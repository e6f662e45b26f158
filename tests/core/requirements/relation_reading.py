"""What the relation tests read from a text: the relations extracted as requirements, and those
the spec is made to build."""

from mb_core.models import RelationKind, RequirementKind
from mb_core.spec import read_spec

ONE = RelationKind.one_to_many
MANY = RelationKind.many_to_many


def relations(text):
    """(owner, other, cardinality) of each extracted relation, and (parent, child, kind) of each
    relation the spec builds."""
    spec = read_spec(text)
    found = {(r.owner, r.other, r.cardinality) for r in spec.requirements
             if r.kind == RequirementKind.relation}
    built = {(r.parent, r.child, r.kind) for r in spec.relations}
    return found, built


def read_relations(text):
    """The extracted relations alone."""
    return relations(text)[0]
