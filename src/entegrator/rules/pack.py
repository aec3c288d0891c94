"""Rule packs: GİB's XSD and schematron as versioned data, loaded at run time.

The default pack is the one shipped inside the PyPI package ``efatura-kontrol`` (its
``ekler`` folder, read where it is installed, never copied into this repository). A newer GİB
package is used by pointing ``--rules-pack DIR`` or ``ENTEGRATOR_RULES_PACK`` at a folder with
the same layout::

    DIR/
      sematron/efatura.sch        GİB's main schematron, flattened (includes and abstract
                                  rules resolved); required
      sematron/efatura.xsl        the same compiled to XSLT (Saxon engine); optional
      xsd/maindoc/UBL-Invoice-2.1.xsd, UBL-DespatchAdvice-2.1.xsd, UBL-ReceiptAdvice-2.1.xsd,
          UBL-ApplicationResponse-2.1.xsd and the common/ folder they import; required
      xsd/zarf/PackageProxy_1_2.xsd   the envelope (SBDH) schema; required
      paket.json                  optional: {"ublTr": "1.2.1", "sematronGuncelleme": …}

Optional keys of ``paket.json`` name the pack in reports: ``name`` and ``version`` (else
``kodListeleriKilavuzu``, the code-list guide's version, else ``sematronGuncelleme``), and
``sematronGuncelleme`` (YYYYMMDD, the schematron's last change) dates it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from entegrator.errors import EntegratorError

__all__ = ["KINDS", "RulePack", "RulePackError"]

# Document kinds and their XSD; "earchive" is an Invoice checked with GİB's e-Arşiv variant.
KINDS: dict[str, str] = {
    "invoice": "xsd/maindoc/UBL-Invoice-2.1.xsd",
    "earchive": "xsd/maindoc/UBL-Invoice-2.1.xsd",
    "despatch": "xsd/maindoc/UBL-DespatchAdvice-2.1.xsd",
    "receipt": "xsd/maindoc/UBL-ReceiptAdvice-2.1.xsd",
    "application-response": "xsd/maindoc/UBL-ApplicationResponse-2.1.xsd",
    "envelope": "xsd/zarf/PackageProxy_1_2.xsd",
}
SCHEMATRON = "sematron/efatura.sch"
XSLT = "sematron/efatura.xsl"


class RulePackError(EntegratorError):
    code = "RULES_PACK_INVALID"
    message_tr = "Kural paketi kullanılamıyor ({path}): {detail_tr}"
    message_en = "The rule pack cannot be used ({path}): {detail_en}"
    http_status = 500
    exit_code = 2


@dataclass(frozen=True)
class RulePack:
    """A folder of GİB rule files, with its versions."""

    root: Path
    origin: str
    versions: dict[str, str] = field(default_factory=dict)

    DEFAULT_ORIGIN: ClassVar[str] = "efatura-kontrol"

    @classmethod
    def default(cls) -> RulePack:
        """GİB's rules as shipped in the installed ``efatura-kontrol``."""
        try:
            import efatura_kontrol
        except ImportError as exc:  # pragma: no cover - a dependency of the project
            raise RulePackError(
                path="efatura-kontrol",
                detail_tr="paket kurulu değil",
                detail_en="the package is not installed",
            ) from exc
        root = Path(str(resources.files("efatura_kontrol").joinpath("ekler")))
        versions = {"efatura-kontrol": efatura_kontrol.SURUM}
        versions.update({k: str(v) for k, v in getattr(efatura_kontrol, "PAKET", {}).items()})
        return cls._checked(root, cls.DEFAULT_ORIGIN, versions)

    @classmethod
    def from_dir(cls, path: str | Path) -> RulePack:
        """A GİB package unpacked in the layout above, at ``path`` as given (no ``~``)."""
        root = Path(path).resolve()
        versions: dict[str, str] = {}
        meta = root / "paket.json"
        if meta.is_file():
            try:
                loaded = json.loads(meta.read_text("utf-8"))
            except (ValueError, OSError) as exc:
                raise RulePackError(
                    path=str(meta),
                    detail_tr=f"paket.json okunamadı: {exc}",
                    detail_en=f"paket.json cannot be read: {exc}",
                ) from None
            versions = {str(k): str(v) for k, v in loaded.items()}
        return cls._checked(root, str(root), versions)

    @classmethod
    def load(cls, path: str | Path | None) -> RulePack:
        return cls.default() if path is None or path == "" else cls.from_dir(path)

    @classmethod
    def _checked(cls, root: Path, origin: str, versions: dict[str, str]) -> RulePack:
        required = [SCHEMATRON, *sorted(set(KINDS.values()))]
        missing = [name for name in required if not (root / name).is_file()]
        if missing:
            raise RulePackError(
                path=str(root),
                detail_tr="eksik dosyalar: " + ", ".join(missing),
                detail_en="missing files: " + ", ".join(missing),
            )
        return cls(root=root, origin=origin, versions=versions)

    @property
    def schematron(self) -> Path:
        return self.root / SCHEMATRON

    @property
    def xslt(self) -> Path | None:
        path = self.root / XSLT
        return path if path.is_file() else None

    def xsd(self, kind: str) -> Path:
        return self.root / KINDS[kind]

    @property
    def name(self) -> str:
        """What reports call the pack: ``paket.json``'s ``name``, else where it came from."""
        return self.versions.get("name") or self.origin

    @property
    def version(self) -> str:
        for key in ("version", "kodListeleriKilavuzu", "sematronGuncelleme", "efatura-kontrol"):
            if self.versions.get(key):
                return self.versions[key]
        return ""

    @property
    def published(self) -> dt.date | None:
        """The schematron's last change (``sematronGuncelleme``, YYYYMMDD), if the pack says."""
        raw = self.versions.get("sematronGuncelleme", "")
        try:
            return dt.datetime.strptime(raw, "%Y%m%d").date()  # noqa: DTZ007 - a plain date
        except ValueError:
            return None

    def identity(self) -> dict[str, str]:
        """Name, version and fingerprint: what a report records of the pack it was checked
        with."""
        return {"name": self.name, "version": self.version, "fingerprint": self.fingerprint}

    @cached_property
    def fingerprint(self) -> str:
        """sha256 over the rule files: which rules exactly produced a verdict."""
        digest = hashlib.sha256()
        files = [self.schematron, *(self.root / p for p in sorted(set(KINDS.values())))]
        for path in files:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()

    def info(self, *, cache_dir: Path | None = None) -> dict[str, Any]:
        """Versions and rule counts (``entegrator rules info``); translations cached as the
        validator's are (``ValidationSettings.cache_dir``)."""
        from entegrator.rules.schematron import CompiledSchematron, read_schematron

        source = read_schematron(self.schematron.read_bytes())
        compiled = CompiledSchematron(source, "efatura", cache_dir=cache_dir)
        lists = sum(1 for v in source.variables.values() if v.startswith("'"))
        xsd_files = sorted(p.name for p in (self.root / "xsd").rglob("*.xsd"))
        return {
            "origin": self.origin,
            "root": str(self.root),
            "versions": dict(self.versions),
            "fingerprint": self.fingerprint,
            "schematron": {
                "patterns": len(source.patterns),
                "rules": len(source.rules),
                "asserts": source.assert_count,
                "code_lists": lists,
                "compiled_rules": len(source.rules) - len(compiled.delegated),
                "saxon_only_rules": compiled.delegated,
                "xslt": self.xslt is not None,
            },
            "xsd": {"files": len(xsd_files), "kinds": {k: v for k, v in KINDS.items()}},
        }
