"""Installing rule packs (GİB's zip as published, or a folder) and the shadow run of a new
pack over the stored documents."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from entegrator.rules import RulePack, RulePackError, Validator
from entegrator.runtime import Runtime
from entegrator.services import rulepacks
from entegrator.services.rulepacks import (
    PackStore,
    RulePackDateConflictError,
    RulePackInstallError,
    shadow_run,
)
from tests.clock import validation_settings
from tests.testing.packs import GIB_PACKAGE, MARK, NEW_CODE, derived_pack, derived_zip
from tests.testing.platform import TenantHandle

EFFECTIVE = dt.date(2026, 9, 14)
MAIN = "e-FaturaPaketi/schematron/UBL-TR_Main_Schematron.xml"


@pytest.fixture
def store(tmp_path: Path) -> PackStore:
    return PackStore(tmp_path / "data" / "rules")


def install(store: PackStore, source: Path, day: dt.date = EFFECTIVE) -> rulepacks.Installed:
    return store.install(source, effective=day, baseline=RulePack.default())


def test_gibs_zip_as_published_installs_with_its_schematron_date(store: PackStore) -> None:
    done = install(store, GIB_PACKAGE)
    assert not done.already
    pack = done.entry.pack
    assert done.entry.effective == EFFECTIVE
    assert pack.root.parent == store.root
    assert pack.root.name == f"{EFFECTIVE}_{pack.fingerprint[:12]}"
    # History.txt's newest heading (LAYOUT.md of GİB's packages: 20260312).
    assert pack.versions["sematronGuncelleme"] == "20260312"
    assert pack.published == dt.date(2026, 3, 12)
    assert pack.name == "e-FaturaPaketi"
    assert pack.fingerprint != RulePack.default().fingerprint
    # The envelope schema now imports the document schemas from beside it in the pack.
    package = (pack.root / "xsd" / "zarf" / "Package_1_2.xsd").read_text("utf-8")
    assert 'schemaLocation="../maindoc/UBL-Invoice-2.1.xsd"' in package
    assert [e.pack.fingerprint for e in store.entries()] == [pack.fingerprint]


def test_the_same_package_twice_is_one_pack_and_another_date_is_refused(
    store: PackStore,
) -> None:
    first = install(store, GIB_PACKAGE)
    again = install(store, GIB_PACKAGE)
    assert again.already and again.entry.pack.fingerprint == first.entry.pack.fingerprint
    assert len(store.entries()) == 1
    with pytest.raises(RulePackDateConflictError) as caught:
        install(store, GIB_PACKAGE, EFFECTIVE + dt.timedelta(days=1))
    assert caught.value.code == "RULES_PACK_DATE_CONFLICT"
    assert str(EFFECTIVE) in caught.value.text_en and str(EFFECTIVE) in caught.value.text_tr
    assert len(store.entries()) == 1
    assert [p.name for p in store.root.iterdir()] == [first.entry.pack.root.name]


def test_a_derived_zip_and_a_derived_folder_carry_the_new_rule(
    store: PackStore, tmp_path: Path
) -> None:
    from tests.rules.test_schedule import with_note

    zipped = install(store, derived_zip(tmp_path / "new.zip")).entry.pack
    folder = install(store, derived_pack(tmp_path / "folder"), EFFECTIVE).entry.pack
    assert zipped.fingerprint != folder.fingerprint
    assert folder.version == "1.43-test"
    from entegrator.documents import build_invoice
    from entegrator.documents.samples import generate
    from tests.clock import today

    draft = next(d for d in generate(50, seed=3, today=today()) if len(d.lines) < 5)
    xml = with_note(build_invoice(draft), f"{MARK} not")
    assert Validator(settings=validation_settings()).validate(xml).valid
    for pack in (zipped, folder):
        report = Validator(pack, settings=validation_settings()).validate(xml)
        assert NEW_CODE in report.codes(), pack.root


def _zip(path: Path, entries: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(name, data)
    return path


def _gib_entries() -> dict[str, bytes]:
    with zipfile.ZipFile(GIB_PACKAGE) as src:
        return {i.filename: src.read(i) for i in src.infolist() if not i.is_dir()}


def _refused(store: PackStore, source: Path) -> RulePackInstallError:
    with pytest.raises(RulePackInstallError) as caught:
        install(store, source)
    error = caught.value
    assert error.code == "RULES_PACK_REFUSED"
    assert error.where
    assert "{" not in error.text_tr and "{" not in error.text_en
    assert not store.entries()
    assert [p for p in store.root.iterdir()] == []  # nothing staged is left behind
    return error


def test_a_file_that_is_not_a_zip_is_refused(store: PackStore, tmp_path: Path) -> None:
    bad = tmp_path / "paket.zip"
    bad.write_bytes(b"not a zip at all")
    assert "not a zip" in _refused(store, bad).text_en


def test_a_zip_without_gibs_schematron_is_refused(store: PackStore, tmp_path: Path) -> None:
    other = _zip(tmp_path / "other.zip", {"readme.txt": b"hello"})
    error = _refused(store, other)
    assert "UBL-TR_Main_Schematron.xml" in error.text_en and "e-Fatura" in error.text_tr


def test_an_entry_climbing_out_of_its_folder_is_refused_and_never_written(
    store: PackStore, tmp_path: Path
) -> None:
    entries = _gib_entries()
    entries["e-FaturaPaketi/schematron/../../../../escaped.xml"] = b"<a/>"
    error = _refused(store, _zip(tmp_path / "evil.zip", entries))
    assert "escaped.xml" in (error.where or "")
    assert not list(tmp_path.rglob("escaped.xml"))


def test_a_zip_bomb_is_refused_before_it_is_unpacked(store: PackStore, tmp_path: Path) -> None:
    entries = _gib_entries()
    entries["e-FaturaPaketi/schematron/Bomb.xml"] = b"<a>" + b" " * (16 * 1024 * 1024) + b"</a>"
    bomb = _zip(tmp_path / "bomb.zip", entries)
    assert bomb.stat().st_size < 1024 * 1024
    error = _refused(store, bomb)
    assert "Bomb.xml" in (error.where or "") and "zip bomb" in error.text_en


def test_too_many_entries_are_refused(
    store: PackStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rulepacks, "MAX_ENTRIES", 100)
    entries = _gib_entries() | {f"e-FaturaPaketi/junk/{i}.txt": b"" for i in range(100)}
    assert "limit is 100" in _refused(store, _zip(tmp_path / "many.zip", entries)).text_en


def test_a_schematron_with_an_entity_is_refused(store: PackStore, tmp_path: Path) -> None:
    entries = _gib_entries()
    entries[MAIN] = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        + entries[MAIN].split(b"?>", 1)[1]
    )
    error = _refused(store, _zip(tmp_path / "entity.zip", entries))
    assert MAIN in (error.where or "")


def test_a_schematron_that_is_not_xml_is_refused(store: PackStore, tmp_path: Path) -> None:
    entries = _gib_entries()
    entries[MAIN] = entries[MAIN][:-200]
    error = _refused(store, _zip(tmp_path / "cut.zip", entries))
    assert MAIN in (error.where or "")


def test_a_folder_missing_the_schemas_is_refused(store: PackStore, tmp_path: Path) -> None:
    folder = derived_pack(tmp_path / "folder")
    (folder / "xsd" / "maindoc" / "UBL-Invoice-2.1.xsd").unlink()
    error = _refused(store, folder)
    assert "UBL-Invoice-2.1.xsd" in error.text_en and "eksik" in error.text_tr


def test_a_pack_changed_after_it_was_installed_is_refused(store: PackStore, tmp_path: Path) -> None:
    pack = install(store, derived_pack(tmp_path / "folder")).entry.pack
    with (pack.root / "sematron" / "efatura.sch").open("a", encoding="utf-8") as f:
        f.write("<!-- edited -->")
    with pytest.raises(RulePackError) as caught:
        store.entries()
    assert "fingerprint" in caught.value.text_en
    meta = json.loads((pack.root / rulepacks.INSTALLED).read_text("utf-8"))
    assert meta["effective"] == str(EFFECTIVE)


# -- the shadow run, against PostgreSQL --------------------------------------------------------


def test_the_shadow_run_lists_exactly_the_documents_the_new_pack_would_refuse(
    make_tenant: Callable[..., TenantHandle], runtime: Runtime, tmp_path: Path
) -> None:
    start = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    first, second = make_tenant(), make_tenant()
    affected: set[uuid.UUID] = set()
    for tenant, notes in (
        (first, [f"{MARK} birinci"]),
        (first, ["sıradan"]),
        (second, []),
        (second, ["başka", f"{MARK} ikinci"]),
    ):
        with tenant.client() as c:
            issued = tenant.issue(c, notes=notes)
        if any(n.startswith(MARK) for n in notes):
            affected.add(uuid.UUID(issued["id"]))

    candidate = Validator(
        RulePack.from_dir(derived_pack(tmp_path / "new")), settings=validation_settings()
    )
    current = Validator(settings=validation_settings())
    result = shadow_run(runtime.db, current=current, candidate=candidate, since=start, page=2)
    assert result.checked >= 4
    # Every document the session stored meanwhile is checked; only ours carry the mark.
    assert {f.document_id for f in result.failures} == affected
    for failure in result.failures:
        assert failure.new_codes == (NEW_CODE,)
        assert failure.tenant_id in (first.tenant_id, second.tenant_id)
        assert failure.to_dict()["new_codes"] == [NEW_CODE]
    # The same pack twice: nothing is new.
    assert shadow_run(runtime.db, current=current, candidate=current, since=start).failures == []


def test_an_oversized_zip_is_refused_before_it_is_opened(
    store: PackStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rulepacks, "MAX_ZIP_BYTES", 1000)
    error = _refused(store, GIB_PACKAGE)
    assert "limit is 1000" in error.text_en


def test_installs_of_the_same_pack_at_once_leave_one_pack(store: PackStore, tmp_path: Path) -> None:
    import concurrent.futures

    folder = derived_pack(tmp_path / "folder")
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: install(store, folder), range(4)))
    assert len({d.entry.pack.fingerprint for d in done}) == 1
    assert sum(not d.already for d in done) >= 1
    assert len(store.entries()) == 1
    assert [p.name for p in store.root.iterdir()] == [done[0].entry.pack.root.name]
