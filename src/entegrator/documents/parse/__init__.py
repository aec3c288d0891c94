"""Parsers: safe XML bytes → draft models, one module per document type."""

from entegrator.documents.parse.invoice import parse_invoice, parse_invoice_tree

__all__ = ["parse_invoice", "parse_invoice_tree"]
