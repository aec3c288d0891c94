"""Builders: draft models → UBL-TR XML bytes, one module per document type."""

from entegrator.documents.build.despatch import build_despatch, build_receipt
from entegrator.documents.build.invoice import build_invoice

__all__ = ["build_despatch", "build_invoice", "build_receipt"]
