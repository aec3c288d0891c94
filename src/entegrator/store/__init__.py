"""The system of record: PostgreSQL through SQLAlchemy 2 and psycopg 3, migrated by Alembic.

``Database`` holds the engines; ``repo`` the queries; every table carries ``tenant_id`` and
row-level security enforces it for the application role.
"""

from entegrator.store.db import Database, embedded_url, is_unavailable, resolve_url
from entegrator.store.errors import DatabaseUnavailableError

__all__ = ["Database", "DatabaseUnavailableError", "embedded_url", "is_unavailable", "resolve_url"]
