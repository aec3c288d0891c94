"""The reference schematron engine: the rule pack's compiled XSLT, run by Saxon (saxonche).

This runs GİB's rules exactly as shipped (XSLT 3.0, SVRL out). The compiled engine
(:mod:`entegrator.rules.schematron`) must agree with it; tests compare the two, and documents
that reach rules the compiled engine cannot translate are validated here.

Saxon's ``current-date()`` would read the machine's clock: the stylesheet is compiled with it
replaced by a parameter that each :meth:`SaxonSchematron.run` sets to the caller's ``today``.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path
from typing import Any

from lxml import etree

from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import element_path, line_of
from entegrator.rules.gib_catalogue import gib_rule_finding

__all__ = ["SaxonSchematron"]

SVRL = "{http://purl.oclc.org/dsdl/svrl}"
_TODAY_PARAM = "entegrator-today"
_STYLESHEET_START = re.compile(rb"<((?:[A-Za-z_][\w.-]*:)?)(?:stylesheet|transform)\b[^>]*>")


def _with_today_parameter(xslt: bytes) -> bytes:
    """The stylesheet with ``current-date()`` read from the ``entegrator-today`` parameter."""
    start = _STYLESHEET_START.search(xslt)
    if start is None:
        return xslt
    prefix = start.group(1)
    param = b'<%sparam name="%s" select="\'\'"/>' % (prefix, _TODAY_PARAM.encode())
    body = xslt[start.end() :].replace(b"current-date()", b"xs:date($%s)" % _TODAY_PARAM.encode())
    return xslt[: start.end()] + param + body


_Q = re.compile(r"Q\{([^}]*)\}([^/\[\]@]+)")


def _location_xpath(location: str) -> str:
    """SVRL's ``/Q{ns}Invoice[1]/Q{ns}ID[1]`` as an XPath 1.0 that libxml2 evaluates."""
    path = _Q.sub(
        lambda m: f"*[namespace-uri()='{m.group(1)}' and local-name()='{m.group(2)}']", location
    )
    return path.replace("/@*[namespace-uri()='' and local-name()=", "/@*[local-name()=")


def _text(node: etree._Element) -> str:
    return "".join(str(t) for t in node.itertext())


class SaxonSchematron:
    """GİB's compiled schematron in one Saxon processor (one per process and thread)."""

    def __init__(self, xslt: Path) -> None:
        from saxonche import PySaxonProcessor

        self._processor = PySaxonProcessor(license=False)
        compiler = self._processor.new_xslt30_processor()
        self._executable = compiler.compile_stylesheet(
            stylesheet_text=_with_today_parameter(xslt.read_bytes()).decode("utf-8"),
            encoding="utf-8",
        )
        self._type: str | None = None
        self._lock = threading.Lock()

    def run(
        self, data: bytes, tree: etree._ElementTree, type_: str, *, today: dt.date
    ) -> list[Finding]:
        """GİB's rules on ``data`` (parsed as ``tree``); ``current-date()`` is ``today``."""
        encoding = tree.docinfo.encoding or "utf-8"
        text = data.decode(encoding, errors="replace")
        with self._lock:
            if self._type != type_:
                self._executable.set_parameter("type", self._processor.make_string_value(type_))
                self._type = type_
            self._executable.set_parameter(
                _TODAY_PARAM, self._processor.make_string_value(today.isoformat())
            )
            node = self._processor.parse_xml(xml_text=text)
            svrl = self._executable.transform_to_string(xdm_node=node)
        report = etree.fromstring(svrl.encode("utf-8"))
        findings = []
        for failed in report.iter(SVRL + "failed-assert", SVRL + "successful-report"):
            findings.append(self._finding(failed, tree))
        for error in report.iter(SVRL + "error"):
            detail = " ".join(_text(error).split())
            findings.append(
                Finding(
                    code="sch-evaluation",
                    severity=Severity.ERROR,
                    source=Source.SCHEMATRON,
                    message_tr=f"GİB kuralı değerlendirilemedi ({error.get('code')}): {detail}",
                    message_en=f"A GİB rule could not be evaluated ({error.get('code')}): {detail}",
                )
            )
        return findings

    def _finding(self, node: etree._Element, tree: etree._ElementTree) -> Finding:
        text_node = node.find(SVRL + "text")
        text = " ".join(_text(text_node).split()) if text_node is not None else ""
        rule = node.get("id") or "kural"
        line, xpath = None, None
        location = node.get("location")
        if location:
            line, xpath = self._place(tree, location)
        flag = node.get("flag")
        return gib_rule_finding(
            rule=rule,
            severity=Severity.WARNING if flag == "warning" else Severity.ERROR,
            line=line,
            xpath=xpath or location,
            gib_message=text,
        )

    @staticmethod
    def _place(tree: etree._ElementTree, location: str) -> tuple[int | None, str | None]:
        try:
            found: Any = tree.xpath(_location_xpath(location))
        except etree.XPathError:
            return None, None
        if not found:
            return None, None
        node = found[0]
        if isinstance(node, etree._Element):
            return line_of(node), element_path(node)
        parent = getattr(node, "getparent", lambda: None)()
        if parent is not None and getattr(node, "is_attribute", False):
            return line_of(parent), element_path(parent, str(node.attrname))
        return None, None
