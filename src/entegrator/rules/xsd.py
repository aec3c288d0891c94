"""Layer 2: GİB's UBL 2.1 and envelope schemas, compiled once per process and kind."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

from lxml import etree

from entegrator.findings import MAX_FINDINGS, Finding, Severity, Source

__all__ = ["check", "schema"]

_LOCK = threading.Lock()
_SCHEMAS: dict[Path, etree.XMLSchema] = {}


def schema(path: Path) -> etree.XMLSchema:
    """The compiled schema at ``path`` (compiling takes about a second; done once)."""
    found = _SCHEMAS.get(path)
    if found is None:
        with _LOCK:
            found = _SCHEMAS.get(path)
            if found is None:
                parser = etree.XMLParser(no_network=True, resolve_entities=False)
                found = etree.XMLSchema(etree.parse(str(path), parser))
                _SCHEMAS[path] = found
    return found


def _code(entry: etree._LogEntry) -> str:
    name = str(entry.type_name)
    return "xsd-" + name.lower().removeprefix("schemav_").replace("_", "-")


def check(tree: etree._ElementTree, path: Path) -> list[Finding]:
    """Schema findings of a parsed document; empty when it is valid."""
    xsd = schema(path)
    if xsd.validate(tree):
        return []
    return [
        Finding(
            code=_code(entry),
            severity=Severity.ERROR,
            source=Source.XSD,
            line=entry.line or None,
            xpath=entry.path or None,
            message_tr=f"Belge GİB'in şemasına (XSD) uymuyor: {entry.message}",
            message_en=f"The document does not follow GİB's schema (XSD): {entry.message}",
            hint="Elemanların sırası ve zorunlu alanlar UBL-TR şemasındaki gibi olmalıdır; GİB "
            "şemaya uymayan belgeyi 1160 koduyla reddeder.",
            hint_en="Element order and required elements must follow the UBL-TR schema; GİB "
            "rejects a document that fails it with code 1160.",
        )
        for entry in itertools.islice(xsd.error_log, MAX_FINDINGS)  # type: ignore[call-overload]
    ]
