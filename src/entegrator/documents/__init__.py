"""The pure document core: UBL-TR drafts, totals, XML build and parse (no I/O)."""
