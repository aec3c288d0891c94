"""Builders: draft models → UBL-TR XML bytes, one module per document type."""

from entegrator.documents.build.invoice import build_invoice

__all__ = ["build_invoice"]
