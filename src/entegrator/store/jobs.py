"""Wake-ups of per-tenant jobs (procrastinate): the rows they work on are the to-do list."""

from __future__ import annotations

import json
import uuid

from sqlalchemy import Connection, text

__all__ = ["QUEUE", "waiting_without_job", "wake"]

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


def waiting_without_job(conn: Connection, *, task: str, idle: str) -> list[uuid.UUID]:
    """Tenants whose documents have waited in ``validated`` for ``idle`` (a PostgreSQL
    interval) with no live ``task`` job (todo or doing) to sign them."""
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT d.tenant_id FROM documents d "
                "WHERE d.status = 'validated' AND d.status_code IS NULL "
                "AND d.updated_at < now() - CAST(:idle AS interval) "
                "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j WHERE j.task_name = :task "
                "AND j.status IN ('todo', 'doing') "
                "AND j.args->>'tenant_id' = d.tenant_id::text)"
            ),
            {"task": task, "idle": idle},
        )
        .scalars()
        .all()
    )
