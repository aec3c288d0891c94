"""Parsers: safe XML bytes → draft models, one module per document type."""

from entegrator.documents.parse.despatch import (
    parse_despatch,
    parse_despatch_tree,
    parse_receipt,
    parse_receipt_tree,
)
from entegrator.documents.parse.invoice import parse_invoice, parse_invoice_tree

__all__ = [
    "parse_despatch",
    "parse_despatch_tree",
    "parse_invoice",
    "parse_invoice_tree",
    "parse_receipt",
    "parse_receipt_tree",
]
