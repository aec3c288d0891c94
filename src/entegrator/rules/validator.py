"""The validator: every layer, in order, on one parse of the document.

Time is an argument in the core: functions take the moment as a value (``now``, ``today``,
``signing_time``, ``created``). The validator outlives a single call (a server shares one for
days), so it takes a *clock* instead, ``ValidationSettings.clock``: a callable returning an
aware datetime, read once per document; "today" is that instant's date in Europe/Istanbul.

>>> import datetime as dt
>>> from entegrator.rules import ValidationSettings, Validator
>>> settings = ValidationSettings(clock=lambda: dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC))
>>> report = Validator(settings=settings).validate(b"<not-ubl/>", name="x.xml")
>>> report.valid, report.findings[0].code
(False, 'xml-root')
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

from entegrator.documents import safe_xml
from entegrator.documents.errors import UnsafeXMLError, XMLError
from entegrator.findings import MAX_FINDINGS, Finding, Purpose, Report, Severity, Source
from entegrator.findings.paths import line_of
from entegrator.rules import advice, arithmetic, identity, purposes, xsd
from entegrator.rules.pack import KINDS, RulePack
from entegrator.rules.schematron import CompiledSchematron, read_schematron
from entegrator.rules.xpath import ISTANBUL, UnsupportedXPathError
from entegrator.signing.verify import verify_tree

__all__ = ["Engine", "ValidationSettings", "Validator", "detect_kind"]

_UBL = "urn:oasis:names:specification:ubl:schema:xsd:"
_ROOTS = {
    f"{{{_UBL}Invoice-2}}Invoice": "invoice",
    f"{{{_UBL}DespatchAdvice-2}}DespatchAdvice": "despatch",
    f"{{{_UBL}ReceiptAdvice-2}}ReceiptAdvice": "receipt",
    f"{{{_UBL}ApplicationResponse-2}}ApplicationResponse": "application-response",
    "{http://www.unece.org/cefact/namespaces/StandardBusinessDocumentHeader}"
    "StandardBusinessDocument": "envelope",
}
_CBC = f"{{{_UBL}CommonBasicComponents-2}}"
_DS_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"
_ENVELOPE_DOCUMENTS = etree.XPath("./*[local-name()='Package']/Elements/ElementList/*")
_TYPE_TAGS = (
    _CBC + "InvoiceTypeCode",
    _CBC + "DespatchAdviceTypeCode",
    _CBC + "ReceiptAdviceTypeCode",
    _CBC + "ResponseCode",
)


class Engine(StrEnum):
    """Which engine runs GİB's schematron."""

    AUTO = "auto"  # compiled; a document reaching a rule only Saxon can run goes to Saxon
    COMPILED = "compiled"
    SAXON = "saxon"


@dataclass(frozen=True, kw_only=True)
class ValidationSettings:
    """Knobs of validation (the CLI and the service fill them from ``ENTEGRATOR_*``)."""

    # Now, as an aware datetime: the future-date checks compare with its date in Istanbul.
    # ``functools.partial(datetime.now, UTC)`` in production (picklable, for worker processes);
    # tests pin it.
    clock: Callable[[], dt.datetime]
    id_checksum: Severity = Severity.WARNING
    engine: Engine = Engine.AUTO
    max_bytes: int = safe_xml.DEFAULT_MAX_BYTES
    # Trusted CA certificates (cryptography x509.Certificate) for signed documents; empty: the
    # chain is not checked, everything else about the signature is.
    trust: tuple[Any, ...] = ()
    # VKNs of integrators' seals: such a seal signing for another issuer is a warning
    # (``sig-integrator``); any other seal not the issuer's is an error (``sig-identity``, 1176).
    integrators: frozenset[str] = frozenset()
    # Findings a report keeps; the rest are counted in ``Report.truncated``.
    max_findings: int = MAX_FINDINGS
    # Where translated rule packs are cached between processes (used as given); None: no disk
    # cache, each process translates GİB's rules again (a few hundred milliseconds).
    cache_dir: Path | None = None
    # Why the documents are validated: what we send (outbound), XML an ERP hands us (upload)
    # or what GİB delivered (inbound); see ``rules/purposes.py``.
    purpose: Purpose = Purpose.OUTBOUND


def detect_kind(root: etree._Element) -> tuple[str | None, str | None, str | None]:
    """(kind, profile, type) of a parsed document; kind is None for an unknown root."""
    kind = _ROOTS.get(root.tag) if isinstance(root.tag, str) else None
    if kind is None:
        return None, None, None
    content = root
    if kind == "envelope":
        inner = root.xpath("./*[local-name()='Package']/*/*/*[1]")
        if not inner or not isinstance(inner[0], etree._Element):  # type: ignore[index]
            return kind, None, None
        content = inner[0]  # type: ignore[index]
    profile = (content.findtext(_CBC + "ProfileID") or "").strip() or None
    type_ = None
    for tag in _TYPE_TAGS:
        found = content.find(tag) if tag != _CBC + "ResponseCode" else None
        if found is not None:
            type_ = (found.text or "").strip() or None
            break
    if kind == "invoice" and profile == "EARSIVFATURA":
        kind = "earchive"
    return kind, profile, type_


@dataclass
class _Engines:
    pack: RulePack
    compiled: dict[str, CompiledSchematron] = field(default_factory=dict)
    saxon: object | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def compiled_for(self, type_: str, cache_dir: Path | None) -> CompiledSchematron:
        found = self.compiled.get(type_)
        if found is None:
            with self.lock:
                found = self.compiled.get(type_)
                if found is None:
                    source = read_schematron(self.pack.schematron.read_bytes())
                    found = CompiledSchematron(source, type_, cache_dir=cache_dir)
                    self.compiled[type_] = found
        return found

    def saxon_engine(self) -> object:
        with self.lock:
            if self.saxon is None:
                from entegrator.rules.pack import RulePackError
                from entegrator.rules.saxon import SaxonSchematron

                if self.pack.xslt is None:
                    raise RulePackError(
                        path=str(self.pack.root),
                        detail_tr="Saxon motoru için sematron/efatura.xsl gerekli",
                        detail_en="the Saxon engine needs sematron/efatura.xsl",
                    )
                self.saxon = SaxonSchematron(self.pack.xslt)
            return self.saxon


_ENGINES: dict[Path, _Engines] = {}
_ENGINES_LOCK = threading.Lock()


def _engines(pack: RulePack) -> _Engines:
    with _ENGINES_LOCK:
        found = _ENGINES.get(pack.root)
        if found is None:
            found = _ENGINES[pack.root] = _Engines(pack)
        return found


class Validator:
    """Validates documents against one rule pack; cheap to share, safe across threads."""

    def __init__(self, pack: RulePack | None = None, *, settings: ValidationSettings) -> None:
        self.pack = pack or RulePack.default()
        self.settings = settings
        self._engines = _engines(self.pack)
        self._xsd_paths = {kind: self.pack.xsd(kind) for kind in KINDS}
        self._purposes: dict[Purpose, Validator] = {}

    def for_purpose(self, purpose: Purpose) -> Validator:
        """A validator with the same pack and settings for another purpose (cheap: the
        compiled rules are shared)."""
        if purpose is self.settings.purpose:
            return self
        found = self._purposes.get(purpose)
        if found is None:
            settings = dataclasses.replace(self.settings, purpose=purpose)
            found = self._purposes.setdefault(purpose, Validator(self.pack, settings=settings))
        return found

    def warm_up(self, kinds: tuple[str, ...] = tuple(KINDS)) -> None:
        """Compile the schemas and rule sets of ``kinds`` now instead of on first use."""
        for kind in kinds:
            xsd.schema(self.pack.xsd(kind))
        types = {"earchive" if kind == "earchive" else "efatura" for kind in kinds}
        for type_ in sorted(types):
            self._engines.compiled_for(type_, self.settings.cache_dir)
        if self.settings.engine is Engine.SAXON:
            self._engines.saxon_engine()

    def validate_file(self, path: str | Path) -> Report:
        file = Path(path)
        start = time.perf_counter()
        try:
            size = file.stat().st_size
            if size > self.settings.max_bytes:
                report = Report(path=str(file), pack=self.pack.identity())
                report.findings.append(_size_finding(size, self.settings.max_bytes))
                report.ms = (time.perf_counter() - start) * 1000
                return report
            data = file.read_bytes()
        except OSError as exc:
            report = Report(path=str(file), pack=self.pack.identity())
            report.findings.append(
                Finding(
                    code="xml-unreadable",
                    severity=Severity.ERROR,
                    source=Source.XML,
                    message_tr=f"Dosya okunamadı: {exc.strerror}",
                    message_en=f"The file cannot be read: {exc.strerror}",
                )
            )
            return report
        return self.validate(data, name=str(file))

    def validate(self, data: bytes, *, name: str = "<bytes>") -> Report:
        """Run every layer on ``data`` and return the report (never raises for bad input)."""
        return self.validate_parsed(data, name=name)[0]

    def validate_parsed(
        self, data: bytes, *, name: str = "<bytes>"
    ) -> tuple[Report, etree._Element | None]:
        """:meth:`validate`, also handing back the parsed tree (None when it did not parse).

        A pipeline signs the tree it validated (``entegrator.signing.sign_tree``) instead of
        parsing the document again. The layers only read the tree.
        """
        start = time.perf_counter()
        report = Report(path=name, purpose=self.settings.purpose, pack=self.pack.identity())
        root = self._parse(data, report)
        if root is not None:
            self._check(data, root, report)
        report.findings.sort(key=Finding.sort_key)
        report.cap(self.settings.max_findings)
        report.ms = (time.perf_counter() - start) * 1000
        return report, root

    # -- layers ----------------------------------------------------------------------------

    def _parse(self, data: bytes, report: Report) -> etree._Element | None:
        try:
            root = safe_xml.parse(data, max_bytes=self.settings.max_bytes)
        except UnsafeXMLError as exc:
            if len(data) > self.settings.max_bytes:
                report.findings.append(_size_finding(len(data), self.settings.max_bytes))
            else:
                report.findings.append(
                    Finding(
                        code="xml-unsafe",
                        severity=Severity.ERROR,
                        source=Source.XML,
                        line=1,
                        message_tr=exc.text_tr,
                        message_en=exc.text_en,
                        hint="Belgeden DOCTYPE ve ENTITY bildirimlerini çıkarın.",
                        hint_en="Remove DOCTYPE and ENTITY declarations from the document.",
                    )
                )
            return None
        except XMLError as exc:
            line = None
            if exc.where and exc.where.startswith("line "):
                line = int(exc.where.removeprefix("line ")) or None
            report.findings.append(
                Finding(
                    code="xml-syntax",
                    severity=Severity.ERROR,
                    source=Source.XML,
                    line=line,
                    message_tr=exc.text_tr,
                    message_en=exc.text_en,
                    hint="Belirtilen satırdaki XML hatasını düzeltin; & yerine &amp; yazın.",
                    hint_en="Fix the XML error on the given line; write &amp; for &.",
                )
            )
            return None
        kind, profile, type_ = detect_kind(root)
        report.kind, report.profile, report.type = kind, profile, type_
        if kind is None:
            report.findings.append(
                Finding(
                    code="xml-root",
                    severity=Severity.ERROR,
                    source=Source.XML,
                    line=line_of(root),
                    xpath="/" + etree.QName(root).localname,
                    message_tr=f"Tanınmayan belge kök elemanı: {root.tag}",
                    message_en=f"Unknown document root element: {root.tag}",
                    hint="Kök eleman Invoice, DespatchAdvice, ReceiptAdvice, "
                    "ApplicationResponse ya da StandardBusinessDocument olmalı.",
                    hint_en="The root must be Invoice, DespatchAdvice, ReceiptAdvice, "
                    "ApplicationResponse or StandardBusinessDocument.",
                )
            )
            return None
        return root

    def _today(self) -> dt.date:
        """The date in Türkiye by the settings' clock."""
        return self.settings.clock().astimezone(ISTANBUL).date()

    def _check(self, data: bytes, root: etree._Element, report: Report) -> None:
        kind = report.kind or ""
        today = self._today()
        tree = root.getroottree()
        report.findings.extend(xsd.check(tree, self._xsd_paths[kind]))
        type_param = "earchive" if kind == "earchive" else "efatura"
        report.findings.extend(self._schematron(data, tree, type_param, today))
        if kind == "envelope":
            # The documents inside get the layers GİB's envelope rules do not cover.
            inners: Any = _ENVELOPE_DOCUMENTS(root)
            for inner in inners:
                if isinstance(inner, etree._Element):
                    report.findings.extend(
                        self._document_layers(inner, standalone=False, today=today)
                    )
            return
        report.findings.extend(self._document_layers(root, standalone=True, today=today))

    def _document_layers(
        self, root: etree._Element, *, standalone: bool, today: dt.date
    ) -> list[Finding]:
        """Signature, arithmetic and identity of one document (alone or inside an envelope),
        with the severities of the settings' purpose."""
        out: list[Finding] = []
        if next(root.iter(_DS_SIGNATURE), None) is not None:
            # Inside an envelope a document is verified as it will be delivered: on its own.
            out.extend(self._signature(root if standalone else copy.deepcopy(root)))
        kind, profile, type_ = detect_kind(root)
        purpose = self.settings.purpose
        if kind in ("invoice", "earchive"):
            out.extend(
                arithmetic.check(
                    root,
                    profile=profile or "",
                    type_=type_ or "",
                    convention=purposes.convention_severity(purpose),
                )
            )
            out.extend(
                identity.check(
                    root,
                    profile=profile or "",
                    type_=type_ or "",
                    checksum=self.settings.id_checksum,
                    today=today,
                )
            )
        elif kind in ("despatch", "receipt"):
            out.extend(advice.check(root))
            out.extend(identity.check_advice(root, checksum=self.settings.id_checksum))
        return purposes.apply(out, purpose)

    def _signature(self, root: etree._Element) -> list[Finding]:
        """Layer 6 for signed documents: digests, signature value, certificate, identity."""
        return verify_tree(root, trust=self.settings.trust, integrators=self.settings.integrators)

    def _schematron(
        self, data: bytes, tree: etree._ElementTree, type_: str, today: dt.date
    ) -> list[Finding]:
        engine = self.settings.engine
        if engine is not Engine.SAXON:
            try:
                compiled = self._engines.compiled_for(type_, self.settings.cache_dir)
                return compiled.run(tree.getroot(), today=today)
            except UnsupportedXPathError:
                if engine is Engine.COMPILED:
                    raise
        saxon = self._engines.saxon_engine()
        return saxon.run(data, tree, type_, today=today)  # type: ignore[attr-defined, no-any-return]


def _size_finding(size: int, limit: int) -> Finding:
    return Finding(
        code="xml-size",
        severity=Severity.ERROR,
        source=Source.XML,
        message_tr=f"Belge {size} bayt; sınır {limit} bayt",
        message_en=f"The document is {size} bytes; the limit is {limit} bytes",
        hint="Büyük ekleri belgeden çıkarın ya da belgeyi bölün.",
        hint_en="Remove large attachments or split the document.",
    )
