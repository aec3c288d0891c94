"""The simulator's e-Arşiv report service (``EArsivWs``): intake, checks, batch status.

Synchronously, in ``sendDocumentFile`` (faults ``EArsivFault``, codes the simulator's own
[unconfirmed]): the file name must be ``<uuid>.zip`` (100); the zip must open within the
hostile-input limits and hold exactly ``<uuid>.xml`` (101); the report number must be new
(102). The report is stored with status 10. The first ``getBatchStatus`` moves it to 15
(processing); the next checks it: the XML, GİB's ``EArsiv.xsd`` and the schematron beside it
(``earsiv_schematron.xsl``, with Saxon) when configured (40), the
preparer's signature chaining to the trusted CA, by the preparer (41), the preparer being the
sending integrator or the taxpayer (43), the part number not taken (45), invoices not reported
before and cancellations of invoices GİB knows, once (42, 44). A report that passes is 30.
Everything received is kept, so tests can ask what GİB got.
"""

from __future__ import annotations

import io
import re
import threading
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from lxml import etree
from sqlalchemy import Connection, Engine, text

from entegrator.documents import safe_xml
from entegrator.documents.earsiv_report import EARSIV_NS
from entegrator.documents.errors import XMLError

__all__ = ["SCHEMA", "EarsivFault", "EarsivIntake", "ReceivedReport", "ReportSchematron"]

E = "{" + EARSIV_NS + "}"
MAX_ZIP_BYTES = 100 * 1024 * 1024
MAX_XML_BYTES = 200 * 1024 * 1024
MAX_RATIO = 200
_FILE = re.compile(
    r"^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\.zip$"
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS gibsim.earsiv_reports (
    report_no     text PRIMARY KEY,
    integrator_id text NOT NULL REFERENCES gibsim.integrators,
    data          bytea NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now(),
    status        int NOT NULL,
    description   text NOT NULL,
    taxpayer      text,
    preparer      text,
    period        date,
    part          int
);
CREATE TABLE IF NOT EXISTS gibsim.earsiv_invoices (
    taxpayer  text NOT NULL,
    number    text NOT NULL,
    ettn      text NOT NULL,
    report_no text NOT NULL REFERENCES gibsim.earsiv_reports,
    cancelled_in text REFERENCES gibsim.earsiv_reports,
    PRIMARY KEY (taxpayer, number)
);
"""


class EarsivFault(Exception):  # noqa: N818 - GİB's own word: EArsivFault
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ReceivedReport:
    report_no: str
    status: int
    description: str
    taxpayer: str | None
    part: int | None
    xml: bytes | None


def _unzip(data: bytes, report_no: str) -> bytes:
    """The report inside ``<report_no>.zip``, within the limits; raises fault 101."""

    def bad(why: str) -> EarsivFault:
        return EarsivFault(101, f"Zip dosyası geçersiz: {why}")

    if len(data) > MAX_ZIP_BYTES:
        raise bad("dosya çok büyük")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError, NotImplementedError):
        raise bad("açılamadı") from None
    if len(entries) != 1:
        raise bad(f"tam bir dosya olmalı, {len(entries)} var")
    entry = entries[0]
    if entry.filename != f"{report_no}.xml":
        raise bad(f"içindeki dosya {report_no}.xml olmalı")
    if entry.flag_bits & 0x1:
        raise bad("şifreli")
    if entry.file_size > MAX_XML_BYTES or entry.file_size > MAX_RATIO * max(entry.compress_size, 1):
        raise bad("açılınca sınırı aşıyor")
    try:
        with archive.open(entry) as f:
            xml = f.read(MAX_XML_BYTES + 1)
    except (zipfile.BadZipFile, ValueError, NotImplementedError, OSError):
        raise bad("açılamadı") from None
    if len(xml) > MAX_XML_BYTES:
        raise bad("açılınca sınırı aşıyor")
    return xml


class ReportSchematron:
    """GİB's e-Arşiv report schematron as GİB ships it (``earsiv_schematron.xsl``, an XSLT
    whose text output names each failed rule), compiled once and run with Saxon."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._compiled: Any = None
        self._lock = threading.Lock()

    def __call__(self, xml: bytes) -> str | None:
        """The text of the failed rules, or None when all pass (or there is no schematron)."""
        if not self.path.is_file():
            return None
        with self._lock:
            if self._compiled is None:
                from saxonche import PySaxonProcessor

                processor = PySaxonProcessor(license=False)
                executable = processor.new_xslt30_processor().compile_stylesheet(
                    stylesheet_file=str(self.path)
                )
                self._compiled = (processor, executable)
            processor, executable = self._compiled
            node = processor.parse_xml(xml_text=xml.decode("utf-8", errors="replace"))
            out = executable.transform_to_string(xdm_node=node) or ""
        # Text output: each failed rule one line; Saxon prefixes an XML declaration.
        failed = " ".join(re.sub(r"^\s*<\?xml[^>]*\?>", "", out).split())
        return failed or None


class EarsivIntake:
    """GİB's e-Arşiv report service, over the simulator's database."""

    def __init__(
        self,
        engine: Engine,
        *,
        trust: tuple[x509.Certificate, ...] = (),
        schema_path: Path | None = None,
    ) -> None:
        self.engine = engine
        self.trust = trust
        self.schema_path = schema_path
        self._schema: etree.XMLSchema | None = None
        self._schematron: ReportSchematron | None = None
        self._lock = threading.Lock()

    def create_schema(self) -> None:
        with self.engine.begin() as conn:
            conn.exec_driver_sql(SCHEMA)

    @property
    def schema(self) -> etree.XMLSchema | None:
        if self._schema is None and self.schema_path is not None:
            self._schema = etree.XMLSchema(etree.parse(str(self.schema_path)))
        return self._schema

    def schematron(self, xml: bytes) -> str | None:
        """GİB's report schematron (``earsiv_schematron.xsl`` beside the schema): the text of
        the failed rules, or None when all pass (or there is no schematron)."""
        if self.schema_path is None:
            return None
        with self._lock:
            if self._schematron is None:
                self._schematron = ReportSchematron(
                    self.schema_path.parent / "earsiv_schematron.xsl"
                )
        return self._schematron(xml)

    # -- sendDocumentFile ----------------------------------------------------------------------

    def receive(self, integrator_id: str, file_name: str, data: bytes) -> str:
        """Take a report; GİB's answer text, or an :class:`EarsivFault`."""
        found = _FILE.match(file_name or "")
        if found is None:
            raise EarsivFault(100, "Dosya adı <raporNo>.zip olmalı")
        report_no = found.group(1).lower()
        _unzip(data, report_no)
        with self.engine.begin() as conn:
            taken = conn.execute(
                text(
                    "INSERT INTO gibsim.earsiv_reports (report_no, integrator_id, data, status, "
                    "description) VALUES (:r, :i, :d, 10, 'Kuyrukta') "
                    "ON CONFLICT DO NOTHING RETURNING report_no"
                ),
                {"r": report_no, "i": integrator_id, "d": data},
            ).first()
        if taken is None:
            raise EarsivFault(102, "Bu rapor numarası daha önce gönderilmiş")
        return "Dosya Kaydedildi"

    # -- getBatchStatus ------------------------------------------------------------------------

    def status(self, package_id: str) -> tuple[int, str, str | None] | None:
        """(durumKodu, durumAciklama, vergiKimlikNo) of a report; None: unknown."""
        report_no = package_id.strip().lower()
        with self.engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT report_no, integrator_id, data, status, description, taxpayer "
                    "FROM gibsim.earsiv_reports WHERE report_no = :r FOR UPDATE"
                ),
                {"r": report_no},
            ).first()
            if row is None:
                return None
            if row.status == 10:  # taken up now; checked at the next question
                self._set(conn, report_no, 15, "İşleniyor")
                return 15, "İşleniyor", None
            if row.status == 15:
                code, description, facts = self._check(conn, row)
                self._set(conn, report_no, code, description, facts)
                return code, description, facts.get("taxpayer")
            return row.status, row.description, row.taxpayer

    @staticmethod
    def _set(
        conn: Connection,
        report_no: str,
        code: int,
        description: str,
        facts: dict[str, Any] | None = None,
    ) -> None:
        facts = facts or {}
        conn.execute(
            text(
                "UPDATE gibsim.earsiv_reports SET status = :s, description = :d, "
                "taxpayer = coalesce(:t, taxpayer), preparer = coalesce(:p, preparer), "
                "period = coalesce(CAST(:pe AS date), period), part = coalesce(:n, part) "
                "WHERE report_no = :r"
            ),
            {
                "s": code,
                "d": description,
                "t": facts.get("taxpayer"),
                "p": facts.get("preparer"),
                "pe": facts.get("period"),
                "n": facts.get("part"),
                "r": report_no,
            },
        )

    def _check(self, conn: Connection, row: Any) -> tuple[int, str, dict[str, Any]]:
        try:
            root = safe_xml.parse(_unzip(bytes(row.data), row.report_no), max_bytes=MAX_XML_BYTES)
        except (EarsivFault, XMLError) as exc:
            return 40, f"Rapor okunamadı: {exc}", {}
        schema = self.schema
        if schema is not None and not schema.validate(root):
            first = schema.error_log.last_error  # type: ignore[attr-defined]
            where = f" (satır {first.line})" if first is not None else ""
            return 40, f"Şema hatası{where}: {first.message if first else ''}", {}
        if root.tag != f"{E}eArsivRaporu":
            return 40, "Kök eleman eArsivRaporu değil", {}
        failed = self.schematron(etree.tostring(root, encoding="UTF-8"))
        if failed is not None:
            return 40, f"Şematron: {failed}"[:1000], {}
        baslik = root.find(f"{E}baslik")
        taxpayer = _party(baslik, "mukellef")
        preparer = _party(baslik, "hazirlayan")
        facts = {
            "taxpayer": taxpayer,
            "preparer": preparer,
            "period": _text(baslik, "donemBaslangicTarihi"),
            "part": int(_text(baslik, "bolumNo") or 0),
        }
        if (_text(baslik, "raporNo") or "").lower() != row.report_no:
            return 40, "raporNo dosya adıyla aynı değil", facts
        refused = self._check_signature(conn, root, row.integrator_id, taxpayer, preparer)
        if refused is not None:
            return *refused, facts
        taken = conn.execute(
            text(
                "SELECT 1 FROM gibsim.earsiv_reports WHERE taxpayer = :t "
                "AND period = CAST(:p AS date) AND part = :n AND status = 30"
            ),
            {"t": taxpayer, "p": facts["period"], "n": facts["part"]},
        ).first()
        if taken is not None:
            return 45, f"Bu dönemin {facts['part']}. bölümü daha önce alınmış", facts
        return *self._register(conn, root, row.report_no, taxpayer), facts

    def _check_signature(
        self,
        conn: Connection,
        root: etree._Element,
        integrator_id: str,
        taxpayer: str | None,
        preparer: str | None,
    ) -> tuple[int, str] | None:
        from entegrator.signing.verify import verify_tree

        findings = verify_tree(root, trust=self.trust)
        if findings:
            return 41, f"İmza geçersiz: {findings[0].message_tr}"
        integrator_vkn = conn.execute(
            text("SELECT vkn FROM gibsim.integrators WHERE integrator_id = :i"),
            {"i": integrator_id},
        ).scalar()
        if preparer not in (integrator_vkn, taxpayer):
            return 43, "Hazırlayan, gönderen entegratör ya da mükellef değil"
        return None

    def _register(
        self, conn: Connection, root: etree._Element, report_no: str, taxpayer: str | None
    ) -> tuple[int, str]:
        """Record the invoices and cancellations, all or none (a savepoint)."""
        savepoint = conn.begin_nested()
        for fatura in root.iterfind(f"{E}fatura"):
            number = _text(fatura, "faturaNo")
            taken = conn.execute(
                text(
                    "INSERT INTO gibsim.earsiv_invoices (taxpayer, number, ettn, report_no) "
                    "VALUES (:t, :n, :u, :r) ON CONFLICT DO NOTHING RETURNING number"
                ),
                {"t": taxpayer, "n": number, "u": _text(fatura, "faturaUUID"), "r": report_no},
            ).first()
            if taken is None:
                savepoint.rollback()
                return 42, f"{number} numaralı fatura daha önce raporlanmış"
        for iptal in root.iterfind(f"{E}faturaIptal"):
            number = _text(iptal, "faturaNo")
            done = conn.execute(
                text(
                    "UPDATE gibsim.earsiv_invoices SET cancelled_in = :r WHERE taxpayer = :t "
                    "AND number = :n AND cancelled_in IS NULL RETURNING number"
                ),
                {"t": taxpayer, "n": number, "r": report_no},
            ).first()
            if done is None:
                savepoint.rollback()
                return 44, f"{number} numaralı fatura bilinmiyor ya da zaten iptal edilmiş"
        savepoint.commit()
        return 30, "Başarılı"

    # -- what was received (for tests and the admin API) -----------------------------------------

    def received(self, *, taxpayer: str | None = None) -> list[ReceivedReport]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT report_no, status, description, taxpayer, part, data "
                    "FROM gibsim.earsiv_reports WHERE CAST(:t AS text) IS NULL OR taxpayer = :t "
                    "ORDER BY received_at"
                ),
                {"t": taxpayer},
            ).all()
        out = []
        for r in rows:
            try:
                xml: bytes | None = _unzip(bytes(r.data), r.report_no)
            except EarsivFault:
                xml = None
            out.append(
                ReceivedReport(r.report_no, r.status, r.description, r.taxpayer, r.part, xml)
            )
        return out

    def invoice(self, taxpayer: str, number: str) -> tuple[str, str | None] | None:
        """(the report that carried it, the report that cancelled it) of a known invoice."""
        with self.engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT report_no, cancelled_in FROM gibsim.earsiv_invoices "
                    "WHERE taxpayer = :t AND number = :n"
                ),
                {"t": taxpayer, "n": number},
            ).first()
        return (row.report_no, row.cancelled_in) if row is not None else None


def _text(node: etree._Element | None, name: str) -> str | None:
    if node is None:
        return None
    value = node.findtext(E + name)
    return value.strip() if value is not None else None


def _party(baslik: etree._Element | None, name: str) -> str | None:
    node = baslik.find(E + name) if baslik is not None else None
    return _text(node, "vkn") or _text(node, "tckn")


def new_report_no() -> str:
    return str(uuid.uuid4())
