"""Installed rule packs: GİB's packages kept side by side in the data directory, each with
the day it takes effect (docs/rules.md).

``install`` takes GİB's ``e-FaturaPaketi.zip`` as GİB publishes it, or a folder in the
``efatura-kontrol`` layout (``entegrator.rules.pack``), checks that the rules compile, and
stores the pack under ``<data dir>/rules/<effective date>_<fingerprint>/``::

    rules/2026-09-14_3f2a9c01d4e5/
      sematron/efatura.sch   the schematron, flattened
      xsd/...                the schemas, in the efatura-kontrol layout
      paket.json             name, version, schematron date, where it came from
      installed.json         {"effective": "2026-09-14", "fingerprint": …, "installed_at": …}

A zip is hostile input: it is read with limits on its size, its entry count, each entry's
size and compression ratio; only entries at the places GİB's layout names are taken, under
names this module builds, so an entry's own path never reaches the file system. Every XML
entry goes through ``safe_xml`` (no DTD, no entity) before anything parses it further.

Error tree::

    EntegratorError
    └── RulePackInstallError            RULES_PACK_REFUSED: the zip or folder cannot be installed
        └── RulePackDateConflictError   RULES_PACK_DATE_CONFLICT: the same rules, another date
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from entegrator.clock import Clock, utc_now
from entegrator.documents import safe_xml
from entegrator.documents.errors import XMLError
from entegrator.errors import EntegratorError
from entegrator.findings import Severity
from entegrator.rules import RulePack, RulePackError
from entegrator.rules.pack import KINDS
from entegrator.rules.schedule import DocumentValidator, PackSchedule, ScheduledPack
from entegrator.store import Database
from entegrator.store import documents as store_documents

__all__ = [
    "INSTALLED",
    "MAX_ENTRIES",
    "MAX_ENTRY_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "MAX_ZIP_BYTES",
    "Installed",
    "NewFailure",
    "PackStore",
    "RulePackDateConflictError",
    "RulePackInstallError",
    "ShadowRun",
    "shadow_run",
]

# Limits on a package zip (GİB's e-FaturaPaketi.zip is 0.7 MB, 60 entries, ratio under 10).
MAX_ZIP_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 5000
MAX_ENTRY_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_RATIO = 200
# Where GİB's layout puts the main schematron (inside the package's top folder).
MAIN_SCHEMATRON = "schematron/UBL-TR_Main_Schematron.xml"
_UBL_MAINDOC = (
    "UBL-Invoice-2.1.xsd",
    "UBL-ApplicationResponse-2.1.xsd",
    "UBL-DespatchAdvice-2.1.xsd",
    "UBL-ReceiptAdvice-2.1.xsd",
    "UBL-CreditNote-2.1.xsd",
)
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_HISTORY_DATE = re.compile(r"(?<![0-9])(20[0-9]{6})(?![0-9])")
INSTALLED = "installed.json"


class RulePackInstallError(EntegratorError):
    code = "RULES_PACK_REFUSED"
    message_tr = "Kural paketi kurulamadı: {detail_tr}"
    message_en = "The rule pack cannot be installed: {detail_en}"
    http_status = 422
    exit_code = 2


class RulePackDateConflictError(RulePackInstallError):
    code = "RULES_PACK_DATE_CONFLICT"
    message_tr = (
        "Bu kurallar {effective} tarihiyle zaten kurulu ({fingerprint}); başka bir tarihle "
        "yeniden kurulamaz"
    )
    message_en = (
        "These rules are already installed to take effect on {effective} ({fingerprint}); "
        "they cannot be installed again with another date"
    )


def _refuse(where: str, detail_tr: str, detail_en: str) -> RulePackInstallError:
    return RulePackInstallError(where=where, detail_tr=detail_tr, detail_en=detail_en)


@dataclass(frozen=True)
class Installed:
    """What ``install`` did: the entry, and whether it was there already."""

    entry: ScheduledPack
    already: bool


class PackStore:
    """The packs installed under ``root`` (``<data dir>/rules``)."""

    def __init__(self, root: Path, *, clock: Clock = utc_now) -> None:
        self.root = root
        self.clock = clock

    # -- reading ---------------------------------------------------------------------------

    def entries(self) -> list[ScheduledPack]:
        """Every installed pack (in no order); a pack whose files changed since it was
        installed is refused (its fingerprint no longer matches)."""
        out: list[ScheduledPack] = []
        if not self.root.is_dir():
            return out
        for folder in sorted(self.root.iterdir()):
            meta = folder / INSTALLED
            if folder.name.startswith(".") or not meta.is_file():
                continue
            try:
                data = json.loads(meta.read_text("utf-8"))
                effective = dt.date.fromisoformat(data["effective"])
                installed_at = dt.datetime.fromisoformat(data["installed_at"])
                fingerprint = str(data["fingerprint"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise RulePackError(
                    path=str(meta),
                    detail_tr=f"kurulum bilgisi okunamadı: {exc}",
                    detail_en=f"the installation record cannot be read: {exc}",
                ) from None
            pack = RulePack.from_dir(folder)
            if pack.fingerprint != fingerprint:
                raise RulePackError(
                    path=str(folder),
                    detail_tr="dosyaları kurulduktan sonra değişmiş (parmak izi tutmuyor)",
                    detail_en="its files changed after it was installed (fingerprint differs)",
                )
            out.append(ScheduledPack(pack, effective, installed_at))
        return out

    def schedule(self, baseline: RulePack) -> PackSchedule:
        return PackSchedule(baseline, self.entries())

    # -- installing ------------------------------------------------------------------------

    def install(
        self,
        source: Path,
        *,
        effective: dt.date,
        baseline: RulePack,
        ubl: Path | None = None,
        version: str | None = None,
    ) -> Installed:
        """Install GİB's package zip (with the UBL-TR package zip ``ubl`` for the document
        schemas, else the baseline's) or a folder in the efatura-kontrol layout; ``version``
        names it in reports (GİB's zip carries only the schematron's date)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".install-", dir=self.root))
        try:
            if source.is_dir():
                _stage_folder(source, staging)
            elif source.is_file():
                _stage_zip(source, staging, baseline=baseline, ubl=ubl)
            else:
                raise _refuse(str(source), "dosya ya da klasör yok", "no such file or folder")
            if version:
                meta = staging / "paket.json"
                versions = json.loads(meta.read_text("utf-8"))
                versions["version"] = version
                meta.write_text(json.dumps(versions, ensure_ascii=False, indent=1), "utf-8")
            pack = _checked(staging)
            fingerprint = pack.fingerprint
            for entry in self.entries():
                if entry.pack.fingerprint != fingerprint:
                    continue
                if entry.effective == effective:
                    return Installed(entry, already=True)
                raise RulePackDateConflictError(
                    where=str(entry.pack.root),
                    effective=str(entry.effective),
                    fingerprint=fingerprint[:12],
                )
            now = self.clock()
            (staging / INSTALLED).write_text(
                json.dumps(
                    {
                        "effective": effective.isoformat(),
                        "fingerprint": fingerprint,
                        "installed_at": now.isoformat(),
                        "source": source.name,
                    },
                    indent=1,
                )
                + "\n",
                "utf-8",
            )
            target = self.root / f"{effective.isoformat()}_{fingerprint[:12]}"
            try:
                os.replace(staging, target)
            except OSError:
                # Another install of the same rules for the same day won the race.
                for entry in self.entries():
                    if entry.pack.fingerprint == fingerprint and entry.effective == effective:
                        return Installed(entry, already=True)
                raise
            return Installed(ScheduledPack(RulePack.from_dir(target), effective, now), False)
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _checked(staging: Path) -> RulePack:
    """The staged pack, its schemas and schematron compiled once (a broken pack is refused
    at install, not on the day it takes effect)."""
    from lxml import etree

    from entegrator.rules import xsd
    from entegrator.rules.schematron import CompiledSchematron, read_schematron
    from entegrator.rules.xpath import UnsupportedXPathError

    try:
        pack = RulePack.from_dir(staging)
    except RulePackError as exc:
        raise _refuse("pack", exc.data["detail_tr"], exc.data["detail_en"]) from None
    for kind in sorted(set(KINDS)):
        try:
            xsd.schema(pack.xsd(kind))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
            raise _refuse(
                KINDS[kind], f"şema derlenemedi: {exc}", f"the schema does not compile: {exc}"
            ) from None
    try:
        source = read_schematron(pack.schematron.read_bytes())
        for type_ in ("efatura", "earchive"):
            CompiledSchematron(source, type_, cache_dir=None)
    except (etree.XMLSyntaxError, UnsupportedXPathError, ValueError, KeyError) as exc:
        raise _refuse(
            "sematron/efatura.sch",
            f"şematron okunamadı: {exc}",
            f"the schematron cannot be read: {exc}",
        ) from None
    return pack


def _stage_folder(source: Path, staging: Path) -> None:
    try:
        pack = RulePack.from_dir(source)
    except RulePackError as exc:
        raise _refuse(str(source), exc.data["detail_tr"], exc.data["detail_en"]) from None
    for part in ("sematron", "xsd"):
        shutil.copytree(pack.root / part, staging / part)
    versions = dict(pack.versions)
    versions.setdefault("name", source.name)
    versions["source"] = str(source)
    (staging / "paket.json").write_text(json.dumps(versions, ensure_ascii=False, indent=1), "utf-8")


class _Zip:
    """A zip read within the limits; entries by their path (``/``-separated, as stored)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        size = path.stat().st_size
        if size > MAX_ZIP_BYTES:
            raise _refuse(
                str(path),
                f"dosya {size} bayt; sınır {MAX_ZIP_BYTES}",
                f"the file is {size} bytes; the limit is {MAX_ZIP_BYTES}",
            )
        try:
            self.zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise _refuse(
                str(path), f"zip dosyası değil: {exc}", f"not a zip file: {exc}"
            ) from None
        infos = self.zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise _refuse(
                str(path),
                f"{len(infos)} girdi; sınır {MAX_ENTRIES}",
                f"{len(infos)} entries; the limit is {MAX_ENTRIES}",
            )
        self.infos = {i.filename: i for i in infos if not i.is_dir()}
        self.total = 0

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str) -> bytes:
        """One entry, refusing it once it grows past the limits (the sizes the zip states
        are not trusted)."""
        info = self.infos[name]
        where = f"{self.path.name}!{name}"
        if info.flag_bits & 0x1:
            raise _refuse(where, "şifreli girdi", "an encrypted entry")
        limit = min(MAX_ENTRY_BYTES, max(info.compress_size, 1) * MAX_RATIO)
        out = bytearray()
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(65536):
                    out += chunk
                    if len(out) > limit or self.total + len(out) > MAX_TOTAL_BYTES:
                        raise _refuse(
                            where,
                            "açılınca çok büyük (zip bombası?)",
                            "too large once unpacked (a zip bomb?)",
                        )
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
            raise _refuse(where, f"okunamadı: {exc}", f"cannot be read: {exc}") from None
        self.total += len(out)
        return bytes(out)

    def under(self, folder: str) -> Iterator[tuple[PurePosixPath, str]]:
        """Entries below ``folder``: (path relative to it, entry name). A path that climbs
        out (``..``, absolute, ``\\``) is refused, never followed; names with other
        characters than ASCII letters, digits, ``.``, ``_`` and ``-`` are not GİB's rule files
        (``Açıklamalar.txt``) and are skipped."""
        for name in self.names():
            if not name.startswith(folder):
                continue
            rel = PurePosixPath(name[len(folder) :])
            if rel.is_absolute() or "\\" in name or any(p in ("..", "") for p in rel.parts):
                raise _refuse(
                    f"{self.path.name}!{name}",
                    "geçersiz girdi adı (klasör dışına yol)",
                    "an invalid entry name (a path out of the folder)",
                )
            if all(_SAFE_PART.match(p) for p in rel.parts):
                yield rel, name

    def xml(self, name: str) -> bytes:
        """A well-formed XML entry. Schematron files may declare no DTD at all; schemas may
        keep an internal one (W3C's xmldsig schema declares entities for its namespaces),
        but no entity may point outside the document, and none is expanded here or by the
        validator (``rules.xsd`` reads schemas without resolving entities)."""
        from lxml import etree

        data = self.read(name)
        where = f"{self.path.name}!{name}"
        if not name.endswith(".xsd"):
            try:
                safe_xml.parse(data, max_bytes=MAX_ENTRY_BYTES)
            except XMLError as exc:
                raise _refuse(where, exc.text_tr, exc.text_en) from None
            return data
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        try:
            tree = etree.fromstring(data, parser).getroottree()
        except etree.XMLSyntaxError as exc:
            raise _refuse(where, f"XML bozuk: {exc}", f"malformed XML: {exc}") from None
        dtd: Any = tree.docinfo.internalDTD
        if dtd is not None and any(e.system_url for e in dtd.iterentities()):
            raise _refuse(
                where,
                "dış varlık (external entity) bildirimi içeriyor",
                "it declares an external entity",
            )
        return data


def _write(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)


def _top(package: _Zip, suffix: str) -> str | None:
    """The folder (with its ``/``) holding ``suffix``, when exactly one does."""
    hits = [n for n in package.names() if n == suffix or n.endswith("/" + suffix)]
    if len(hits) > 1:
        raise _refuse(
            package.path.name,
            f"{suffix} birden çok kez var",
            f"{suffix} appears more than once",
        )
    return hits[0][: -len(suffix)] if hits else None


def _stage_zip(source: Path, staging: Path, *, baseline: RulePack, ubl: Path | None) -> None:
    """GİB's e-FaturaPaketi.zip → the efatura-kontrol layout (LAYOUT.md of GİB's packages)."""
    package = _Zip(source)
    top = _top(package, MAIN_SCHEMATRON)
    if top is None:
        raise _refuse(
            source.name,
            f"GİB e-Fatura paketi değil: {MAIN_SCHEMATRON} yok",
            f"not GİB's e-Fatura package: no {MAIN_SCHEMATRON}",
        )
    work = staging / ".source"
    for rel, name in package.under(top + "schematron/"):
        if rel.suffix == ".xml":
            _write(work / "schematron" / rel, package.xml(name))
    history = top + "schematron/History.txt"
    dates = (
        _HISTORY_DATE.findall(package.read(history).decode("cp1254", "replace"))
        if history in package.infos
        else []
    )
    # The envelope and user-account schemas.
    zarf = staging / "xsd" / "zarf"
    for rel, name in package.under(top + "xsd/Envelope/"):
        if rel.suffix == ".xsd" and rel.name not in ("Package.xsd", "PackageProxy.xsd"):
            data = package.xml(name)
            if rel.name == "Package_1_2.xsd":
                for doc in _UBL_MAINDOC:
                    data = data.replace(
                        f'schemaLocation="{doc}"'.encode(),
                        f'schemaLocation="../maindoc/{doc}"'.encode(),
                    )
            _write(zarf / rel, data)
    for rel, name in package.under(top + "xsd/HRXML/"):
        if rel.suffix == ".xsd":
            _write(staging / "xsd" / "HRXML" / rel, package.xml(name))
    # The document schemas: from the UBL-TR package (this zip or ``ubl``), else the baseline.
    ubl_from = _stage_ubl(package, staging) or (
        _stage_ubl(_Zip(ubl), staging) if ubl is not None else None
    )
    if ubl_from is None:
        if ubl is not None:
            raise _refuse(
                ubl.name,
                "UBL-TR paketi değil: xsdrt/maindoc yok",
                "not GİB's UBL-TR package: no xsdrt/maindoc",
            )
        for part in ("maindoc", "common"):
            shutil.copytree(baseline.xsd("invoice").parents[1] / part, staging / "xsd" / part)
        ubl_from = f"{baseline.name} {baseline.version}"
    from efatura_kontrol.derle import duzlestir

    try:
        flat = duzlestir(work / MAIN_SCHEMATRON)
    except Exception as exc:  # any failure on a hostile input is a refusal
        raise _refuse(
            f"{source.name}!{top}{MAIN_SCHEMATRON}",
            f"şematron düzleştirilemedi: {type(exc).__name__}: {exc}",
            f"the schematron cannot be flattened: {type(exc).__name__}: {exc}",
        ) from None
    _write(staging / "sematron" / "efatura.sch", flat)
    shutil.rmtree(work)
    versions: dict[str, Any] = {
        "name": top.rstrip("/") or source.stem,
        "source": source.name,
        "sourceSha256": hashlib.sha256(source.read_bytes()).hexdigest(),
        "ublFrom": ubl_from,
    }
    if dates:
        versions["sematronGuncelleme"] = max(dates)
    (staging / "paket.json").write_text(json.dumps(versions, ensure_ascii=False, indent=1), "utf-8")


def _stage_ubl(package: _Zip, staging: Path) -> str | None:
    top = _top(package, "xsdrt/maindoc/UBL-Invoice-2.1.xsd")
    if top is None:
        return None
    for part in ("maindoc", "common"):
        for rel, name in package.under(f"{top}xsdrt/{part}/"):
            if rel.suffix == ".xsd":
                _write(staging / "xsd" / part / rel, package.xml(name))
    return package.path.name


# -- the shadow run --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFailure:
    """A stored document the new pack would refuse for reasons the pack in force does not."""

    tenant_id: uuid.UUID
    document_id: uuid.UUID
    ettn: str
    number: str | None
    created_at: dt.datetime
    new_codes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": str(self.tenant_id),
            "document_id": str(self.document_id),
            "ettn": self.ettn,
            "number": self.number,
            "created_at": self.created_at.isoformat(),
            "new_codes": list(self.new_codes),
        }


@dataclass
class ShadowRun:
    checked: int
    failures: list[NewFailure]


def _error_codes(validator: DocumentValidator, xml: bytes) -> set[str]:
    report = validator.validate(xml, name="stored")
    return {f.code for f in report.findings if f.severity is Severity.ERROR}


def shadow_run(
    db: Database,
    *,
    current: DocumentValidator,
    candidate: DocumentValidator,
    since: dt.datetime,
    page: int = 200,
) -> ShadowRun:
    """Validate every tenant's outgoing documents created since ``since`` with ``candidate``
    and with ``current``; list those with errors only ``candidate`` finds."""
    failures: list[NewFailure] = []
    checked = 0
    after: tuple[dt.datetime, uuid.UUID] | None = None
    while True:
        with db.system() as conn:
            rows = store_documents.outgoing_since(conn, since, after=after, limit=page)
        if not rows:
            return ShadowRun(checked, failures)
        for row in rows:
            checked += 1
            new = _error_codes(candidate, row.xml) - _error_codes(current, row.xml)
            if new:
                failures.append(
                    NewFailure(
                        row.tenant_id,
                        row.document_id,
                        str(row.ettn).upper(),
                        row.number,
                        row.created_at,
                        tuple(sorted(new)),
                    )
                )
        after = (rows[-1].created_at, rows[-1].document_id)
