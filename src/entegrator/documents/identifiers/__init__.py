"""Identifiers: VKN, TCKN, ETTN and GİB document numbers, each with compact/validate/is_valid."""

from entegrator.documents.identifiers import ettn, numbering, tckn, vkn

__all__ = ["ettn", "numbering", "tckn", "vkn"]
