"""Wake-ups of per-tenant jobs (procrastinate): the rows they work on are the to-do list."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import Connection, text

__all__ = ["QUEUE", "wake"]

QUEUE = "documents"  # the procrastinate queue of the work on documents (webhooks have their own)


def wake(
    conn: Connection, task: str, tenant_id: uuid.UUID, *, lock: str, queue: str = QUEUE
) -> bool:
    """Make sure a job ``task`` for the tenant is waiting in ``queue``, in the caller's
    transaction: one waiting job per ``lock`` (requests share it). The rows it works on are
    the durable to-do list; the job only wakes a worker. True when this call queued it."""
    return bool(
        conn.execute(
            text("SELECT entegrator_wake(:q, :task, :lock, CAST(:args AS jsonb))"),
            {
                "q": queue,
                "task": task,
                "lock": lock,
                "args": json.dumps({"tenant_id": str(tenant_id)}),
            },
        ).scalar()
    )
