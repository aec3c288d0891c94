"""Rule packs derived from real ones: the shipped efatura-kontrol pack, or GİB's own
``e-FaturaPaketi.zip`` (read in place), with one rule added, as GİB adds rules.

The added rule refuses an invoice whose note starts with ``MARK``: documents without such a
note pass both packs, those with it pass the shipped pack and fail the derived one.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

from entegrator.rules import RulePack

__all__ = ["GIB_PACKAGE", "MARK", "NEW_CODE", "derived_pack", "derived_zip"]

GIB_PACKAGE = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "gib-packages"
    / "ubl-tr-package"
    / "e-FaturaPaketi.zip"
)
MARK = "YENIKURAL"
RULE_ID = "NoteMarkCheck-1"
NEW_CODE = f"sch-{RULE_ID}"
_ASSERT = (
    f"<sch:assert test=\"not(cbc:Note[starts-with(normalize-space(.), '{MARK}')])\" "
    f'id="{RULE_ID}">cbc:Note {MARK} ile başlayamaz.</sch:assert>'
)
_CONTEXT = '<sch:rule context="inv:Invoice">'


def _tighten(schematron: str) -> str:
    assert schematron.count(_CONTEXT) == 1, "the Invoice rule moved: update the test pack"
    return schematron.replace(_CONTEXT, _CONTEXT + "\n\t\t\t" + _ASSERT)


def derived_pack(target: Path, *, version: str = "1.43-test") -> Path:
    """The shipped pack copied to ``target`` with the added rule (its XSLT dropped: it
    would still say the old rules)."""
    shutil.copytree(RulePack.default().root, target)
    sch = target / "sematron" / "efatura.sch"
    sch.write_text(_tighten(sch.read_text("utf-8")), "utf-8")
    (target / "sematron" / "efatura.xsl").unlink()
    meta = {"name": "derived", "version": version, "sematronGuncelleme": "20260727"}
    (target / "paket.json").write_text(json.dumps(meta), "utf-8")
    return target


def derived_zip(target: Path) -> Path:
    """GİB's e-FaturaPaketi.zip rewritten with the added rule in its main schematron (every
    other entry, names and bytes, as GİB published them)."""
    main = "e-FaturaPaketi/schematron/UBL-TR_Main_Schematron.xml"
    with zipfile.ZipFile(GIB_PACKAGE) as src, zipfile.ZipFile(target, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == main:
                data = _tighten(data.decode("utf-8")).encode("utf-8")
            out.writestr(info, data)
    return target
