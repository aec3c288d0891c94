"""Which status may follow which, per kind of document and direction.

``None`` as a source is the document's creation. Staying in a status (an event that changes
no status, such as ``enveloped``) is always allowed. Every status change goes through
:func:`entegrator.lifecycle.transition`, which refuses a move this table does not list; the
state diagram in ``docs/lifecycle.md`` is drawn from it (``python -m entegrator.lifecycle``).
"""

from __future__ import annotations

from collections.abc import Mapping

from entegrator.lifecycle.statuses import Direction, DocumentKind, DocumentStatus

__all__ = ["FLOWS", "Flow", "allowed", "initial", "targets"]

S = DocumentStatus
Flow = tuple[DocumentKind, Direction]

# GİB's statuses for a sent envelope, and the buyer's answers, can arrive out of order: a
# receiver's answer may come before GİB's 1300, a pushed system response before our own
# record of the send. The moves below allow what can really happen, and nothing backwards.
_GIB_OUTCOMES = frozenset({S.PROCESSING, S.DELIVERED, S.REJECTED_BY_GIB, S.FAILED_DELIVERY})
_ANSWERS = frozenset({S.ACCEPTED, S.REJECTED, S.RETURNED})

_OUTGOING_INVOICE: Mapping[DocumentStatus | None, frozenset[DocumentStatus]] = {
    None: frozenset({S.VALIDATED}),
    S.VALIDATED: frozenset({S.QUEUED, S.FAILED}),
    # e-Arşiv invoices leave ``queued`` through the e-Arşiv report or a cancellation.
    S.QUEUED: frozenset({S.SENT, S.FAILED, S.REPORTED, S.CANCELLED}) | _GIB_OUTCOMES,
    S.SENT: _GIB_OUTCOMES | _ANSWERS,
    S.PROCESSING: _GIB_OUTCOMES - {S.PROCESSING} | _ANSWERS,
    S.DELIVERED: _ANSWERS,
    S.ACCEPTED: frozenset(),
    S.REJECTED: frozenset(),
    S.RETURNED: frozenset(),
    S.REJECTED_BY_GIB: frozenset(),
    S.FAILED_DELIVERY: frozenset(),
    S.FAILED: frozenset(),
    S.REPORTED: frozenset({S.CANCELLED}),
    S.CANCELLED: frozenset(),
}

_INCOMING_INVOICE: Mapping[DocumentStatus | None, frozenset[DocumentStatus]] = {
    None: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset(),
    S.REJECTED: frozenset(),
}

# A despatch advice (e-İrsaliye) travels like an e-Fatura; its receiver answers it with a
# receipt advice (irsaliye yanıtı) within 7 days, or it counts as accepted: ``accepted``
# (``status_code`` ``received``, ``partly-rejected`` or ``no-answer``) or ``rejected`` (every
# line refused). The receipt answer itself travels as an event of the despatch it answers.
_DESPATCH_ANSWERS = frozenset({S.ACCEPTED, S.REJECTED})
_OUTGOING_DESPATCH: Mapping[DocumentStatus | None, frozenset[DocumentStatus]] = {
    None: frozenset({S.VALIDATED}),
    S.VALIDATED: frozenset({S.QUEUED, S.FAILED}),
    S.QUEUED: frozenset({S.SENT, S.FAILED}) | _GIB_OUTCOMES,
    S.SENT: _GIB_OUTCOMES | _DESPATCH_ANSWERS,
    S.PROCESSING: _GIB_OUTCOMES - {S.PROCESSING} | _DESPATCH_ANSWERS,
    S.DELIVERED: _DESPATCH_ANSWERS,
    S.ACCEPTED: frozenset(),
    S.REJECTED: frozenset(),
    S.REJECTED_BY_GIB: frozenset(),
    S.FAILED_DELIVERY: frozenset(),
    S.FAILED: frozenset(),
}

_INCOMING_DESPATCH: Mapping[DocumentStatus | None, frozenset[DocumentStatus]] = {
    None: frozenset({S.RECEIVED}),
    S.RECEIVED: _DESPATCH_ANSWERS,
    S.ACCEPTED: frozenset(),
    S.REJECTED: frozenset(),
}

FLOWS: Mapping[Flow, Mapping[DocumentStatus | None, frozenset[DocumentStatus]]] = {
    (DocumentKind.INVOICE, Direction.OUT): _OUTGOING_INVOICE,
    (DocumentKind.INVOICE, Direction.IN): _INCOMING_INVOICE,
    (DocumentKind.DESPATCH, Direction.OUT): _OUTGOING_DESPATCH,
    (DocumentKind.DESPATCH, Direction.IN): _INCOMING_DESPATCH,
}


def targets(flow: Flow, source: DocumentStatus | None) -> frozenset[DocumentStatus]:
    """The statuses a document of ``flow`` may move to from ``source``."""
    table = FLOWS.get(flow)
    if table is None:
        return frozenset()
    return table.get(source, frozenset())


def allowed(flow: Flow, source: DocumentStatus | None, target: DocumentStatus) -> bool:
    """May a document of ``flow`` in ``source`` move to ``target``? Staying is allowed."""
    if source is not None and source == target and source in FLOWS.get(flow, {}):
        return True
    return target in targets(flow, source)


def initial(flow: Flow) -> frozenset[DocumentStatus]:
    """The statuses a document of ``flow`` may be created in."""
    return targets(flow, None)
