"""Durable jobs on PostgreSQL (procrastinate): the outgoing pipeline's worker side."""
