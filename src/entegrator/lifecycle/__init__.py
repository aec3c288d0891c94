"""Document lifecycle: the statuses, the moves allowed between them, and the one function
that makes a move.

Every status change of a document goes through :func:`transition` (or :func:`move` for a row
the caller has locked already): it checks the move against :data:`FLOWS`, appends the
hash-chained events, writes the status and queues the webhook notification in one
transaction. ``docs/lifecycle.md`` draws the table (``python -m entegrator.lifecycle``).
"""

from entegrator.lifecycle.backoff import backoff
from entegrator.lifecycle.statuses import Direction, DocumentKind, DocumentStatus
from entegrator.lifecycle.table import FLOWS, Flow, allowed, initial, targets
from entegrator.lifecycle.transition import (
    IllegalTransitionError,
    can_move,
    move,
    record,
    transition,
)

__all__ = [
    "FLOWS",
    "Direction",
    "DocumentKind",
    "DocumentStatus",
    "Flow",
    "IllegalTransitionError",
    "allowed",
    "backoff",
    "can_move",
    "initial",
    "move",
    "record",
    "targets",
    "transition",
]
