"""GİB's own packages (``shared/gib-packages``), read in place: the user-list excerpt and schema,
and the schema of the document service's WSDL, taken out of ``e-FaturaPaketi.zip`` with lxml."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

__all__ = ["GIB_PACKAGES", "gib_packages", "wsdl_schema"]

GIB_PACKAGES = Path(__file__).resolve().parents[3] / "shared" / "gib-packages"
EFATURA_PACKAGE = "ubl-tr-package/e-FaturaPaketi.zip"
WSDL_ENTRY = "e-FaturaPaketi/wsdl/EFatura_Test.wsdl"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"


@pytest.fixture(scope="session")
def gib_packages() -> Path:
    if not GIB_PACKAGES.is_dir():
        pytest.skip(f"GİB's packages not found at {GIB_PACKAGES} (shared/ is beside the checkout)")
    return GIB_PACKAGES


def wsdl(packages: Path) -> etree._Element:
    """The WSDL of GİB's document service, as the e-Fatura package ships it."""
    with zipfile.ZipFile(packages / EFATURA_PACKAGE) as z:
        return etree.fromstring(z.read(WSDL_ENTRY), etree.XMLParser(resolve_entities=False))


class _Schemas(etree.Resolver):
    """Hands the WSDL's inline schemas to their imports, by namespace (they name no file)."""

    def __init__(self, schemas: dict[str, bytes]) -> None:
        super().__init__()
        self._schemas = schemas

    def resolve(self, system_url: Any, public_id: Any, context: Any) -> Any:  # type: ignore[override]
        name = str(system_url).rsplit("/", 1)[-1]
        if name in self._schemas:
            return self.resolve_string(self._schemas[name], context, base_url=name)
        return None


def wsdl_schema(packages: Path) -> etree.XMLSchema:
    """One schema of every ``xs:schema`` in the WSDL's ``wsdl:types``: the service namespace
    imports the xmlmime one without a location, so each gets a made-up file name to import."""
    types = wsdl(packages).find(f"{{{WSDL}}}types")
    assert types is not None, "the WSDL has no wsdl:types"
    files: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for n, schema in enumerate(types.findall(f"{{{XS}}}schema")):
        names[schema.get("targetNamespace", "")] = f"wsdl-types-{n}.xsd"
    for schema in types.findall(f"{{{XS}}}schema"):
        copy = etree.fromstring(etree.tostring(schema))
        for imported in copy.findall(f"{{{XS}}}import"):
            imported.set("schemaLocation", names[imported.get("namespace", "")])
        files[names[copy.get("targetNamespace", "")]] = etree.tostring(copy)
    main = etree.Element(f"{{{XS}}}schema", nsmap={"xs": XS})
    for namespace, name in names.items():
        etree.SubElement(main, f"{{{XS}}}import", namespace=namespace, schemaLocation=name)
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_Schemas(files))
    return etree.XMLSchema(etree.fromstring(etree.tostring(main), parser, base_url="wsdl/"))
