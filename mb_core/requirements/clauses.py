"""The clause-level rules, in the order they run over each sentence (after the value lists)."""

from mb_core.requirements.constraints import (
    _capacity,
    _date_order,
    _guarded_moves,
    _lengths,
    _no_overlap,
    _overdue,
    _ranges,
    _state_machines,
    _unique,
)
from mb_core.requirements.locks import _edit_locks
from mb_core.requirements.rights import _roles
from mb_core.requirements.state_moves import _back_moves, _moves_before
from mb_core.requirements.views import _exports, _reports, _search
from mb_core.requirements.workflows import _workflows

CLAUSE_RULES = (_state_machines, _guarded_moves, _moves_before, _back_moves, _unique, _no_overlap, _capacity, _date_order, _overdue, _ranges,
                _lengths, _edit_locks, _reports, _exports, _search, _roles, _workflows)
