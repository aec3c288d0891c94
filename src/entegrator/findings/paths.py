"""Readable XPaths of findings: ``/Invoice/cac:InvoiceLine[2]/cbc:InvoicedQuantity/@unitCode``."""

from __future__ import annotations

from lxml import etree

__all__ = ["PREFIXES", "child", "element_path", "line_of"]

PREFIXES = {
    "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2": "cac",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2": "cbc",
    "urn:oasis:names:specification:ubl:schema:xsd:CommonExtensionComponents-2": "ext",
    "http://www.w3.org/2000/09/xmldsig#": "ds",
    "http://uri.etsi.org/01903/v1.3.2#": "xades",
    "http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader": "sh",
    "http://www.efatura.gov.tr/package-namespace": "ef",
}


def child(node: etree._Element | None, *tags: str) -> etree._Element | None:
    """The first child chain ``tags`` below ``node`` (C-filtered, no path parsing)."""
    for tag in tags:
        if node is None:
            return None
        node = next(node.iterchildren(tag), None)
    return node


def line_of(node: object) -> int | None:
    """The source line of an element (lxml-stubs type ``sourceline`` loosely)."""
    line = getattr(node, "sourceline", None)
    return line if isinstance(line, int) else None


def _step(el: etree._Element) -> str:
    qname = etree.QName(el)
    prefix = PREFIXES.get(qname.namespace or "")
    name = f"{prefix}:{qname.localname}" if prefix else qname.localname
    parent = el.getparent()
    if parent is None:
        return name
    same = [s for s in parent.iterchildren(el.tag)]
    if len(same) > 1:
        name += f"[{same.index(el) + 1}]"
    return name


def element_path(el: etree._Element, attribute: str | None = None) -> str:
    """The path of ``el`` (and of its ``attribute``) from the document element.

    >>> root = etree.fromstring(b'<r xmlns:c="urn:oasis:names:specification:ubl:schema:xsd:'
    ...     b'CommonBasicComponents-2"><c:ID/><c:ID a="1"/></r>')
    >>> element_path(root[1], "a")
    '/r/cbc:ID[2]/@a'
    """
    steps = []
    node: etree._Element | None = el
    while node is not None:
        if isinstance(node.tag, str):
            steps.append(_step(node))
        node = node.getparent()
    path = "/" + "/".join(reversed(steps))
    return path + (f"/@{attribute}" if attribute else "")
