"""GİB's own packages (``shared/gib-packages``), read in place: the user-list excerpt and schema,
and the schema of the document service's WSDL, taken out of ``e-FaturaPaketi.zip`` with lxml."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

__all__ = [
    "GIB_PACKAGES",
    "Operation",
    "assert_contract",
    "gib_packages",
    "soap_payload",
    "wsdl_operations",
    "wsdl_schema",
]

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


SOAP12_BINDING = "http://schemas.xmlsoap.org/wsdl/soap12/"


@dataclass(frozen=True)
class Operation:
    """One operation of the WSDL: its soapAction and the body element of each message."""

    name: str
    action: str
    input: str  # Clark notation: {namespace}local
    output: str
    fault: str


def wsdl_operations(packages: Path) -> dict[str, Operation]:
    """The binding's operations, each followed to the elements its messages carry."""
    root = wsdl(packages)
    target = root.get("targetNamespace", "")
    ns = {"w": WSDL, "s12": SOAP12_BINDING}

    def element(message_ref: str) -> str:
        local = message_ref.split(":", 1)[-1]
        part = root.find(f"w:message[@name='{local}']/w:part", ns)
        assert part is not None, message_ref
        prefix, name = part.get("element", "").split(":", 1)
        return f"{{{part.nsmap[prefix]}}}{name}"

    out: dict[str, Operation] = {}
    for op in root.iterfind("w:binding/w:operation", ns):
        name = op.get("name", "")
        soap_op = op.find("s12:operation", ns)
        port_op = root.find(f"w:portType/w:operation[@name='{name}']", ns)
        assert soap_op is not None and port_op is not None, name
        refs = {child: port_op.find(f"w:{child}", ns) for child in ("input", "output", "fault")}
        assert all(r is not None for r in refs.values()), name
        out[name] = Operation(
            name=name,
            action=soap_op.get("soapAction", ""),
            input=element(refs["input"].get("message", "")),  # type: ignore[union-attr]
            output=element(refs["output"].get("message", "")),  # type: ignore[union-attr]
            fault=element(refs["fault"].get("message", "")),  # type: ignore[union-attr]
        )
    assert target, "the WSDL has no targetNamespace"
    return out


XOP = "http://www.w3.org/2004/08/xop/include"


def soap_payload(content_type: str, body: bytes) -> etree._Element:
    """What a SOAP message carries for the WSDL: the Body's element, or the fault's detail
    element (``EFaturaFault``); an MTOM attachment is put back inline as base64 (XOP)."""
    xml, parts = body, dict[str, Any]()
    if content_type.lower().startswith("multipart/"):
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        payloads = [(str(p.get("Content-ID", "")).strip("<>"), p) for p in message.iter_parts()]
        parts = {cid: p.get_payload(decode=True) for cid, p in payloads}
        xml = bytes(payloads[0][1].get_payload(decode=True))
    env = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
    for include in env.iter(f"{{{XOP}}}Include"):
        holder = include.getparent()
        assert holder is not None
        holder.remove(include)
        holder.text = base64.b64encode(parts[include.get("href", "").removeprefix("cid:")]).decode()
    soap_body = next(c for c in env if etree.QName(c).localname == "Body")
    payload = soap_body[0]
    if etree.QName(payload).localname == "Fault":
        detail = next(c for c in payload if etree.QName(c).localname in ("Detail", "detail"))
        payload = detail[0]
    return payload


def assert_contract(schema: etree.XMLSchema, content_type: str, body: bytes, element: str) -> None:
    """The message carries ``element`` (Clark notation), valid against the WSDL's schema."""
    payload = soap_payload(content_type, body)
    assert payload.tag == element, (payload.tag, element)
    schema.assertValid(payload)
