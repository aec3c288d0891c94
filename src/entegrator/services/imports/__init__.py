"""Bulk import of invoices from an ERP: an XLSX or CSV in the template, or a zip of drafts
and UBL-TR XML files (``docs/erp.md``, "Bulk import")."""

from entegrator.services.imports.problems import ImportFileError, ImportNotFoundError, Problem
from entegrator.services.imports.reading import Limits
from entegrator.services.imports.service import IMPORT_TASK, POLICIES, ImportService

__all__ = [
    "IMPORT_TASK",
    "POLICIES",
    "ImportFileError",
    "ImportNotFoundError",
    "ImportService",
    "Limits",
    "Problem",
]
