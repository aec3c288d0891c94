"""The quantities of an e-İrsaliye and of its answer add up (GİB's rules do not check them).

:func:`check` looks at one DespatchAdvice or ReceiptAdvice alone: ``LineCountNumeric`` is the
number of lines, a line's quantities share one unit and none is negative, a rejected quantity
gives its reason (``RejectReason``), and no despatch line is answered twice.

:func:`check_answer` sets an irsaliye yanıtı against the despatch it answers (``ubl-tr.md``
§12, with the correction that the reference is the despatch's ETTN): the
``DespatchDocumentReference`` is the despatch's UUID and issue date, the parties are the
despatch's, every answered line is a line of the despatch in its unit, every despatch line is
answered, and per line **received + rejected + short = delivered** (oversupply is counted
apart). Quantities are compared exactly, as ``Decimal``.

GİB's guide samples read the same fields another way: the received quantity is what arrived,
the rejected part inside it and any oversupply added (received + short − oversupply =
delivered, rejected ≤ received). An answer that adds up only that way gets the warning
``answer-quantities-gib-reading``, not the error.

Every finding has a code, a Turkish and an English message and where (line, XPath); the
source is :attr:`Source.ARITHMETIC`, so the purposes treat them as our own opinion (an error
for what we send, a warning for what GİB delivered).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from lxml import etree

from entegrator.documents.ns import CAC, CBC, DESPATCH, RECEIPT
from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import element_path, line_of

__all__ = ["CODES", "check", "check_answer"]

CODES = frozenset(
    {
        "advice-line-count",
        "advice-unit",
        "advice-negative",
        "advice-reject-reason",
        "advice-line-twice",
        "answer-not-a-pair",
        "answer-despatch-ettn",
        "answer-despatch-date",
        "answer-party",
        "answer-line-unknown",
        "answer-line-unanswered",
        "answer-unit",
        "answer-quantities",
        "answer-quantities-gib-reading",
    }
)

_DESPATCH_QUANTITIES = ("DeliveredQuantity", "OutstandingQuantity", "OversupplyQuantity")
_RECEIPT_QUANTITIES = (
    "ReceivedQuantity",
    "RejectedQuantity",
    "ShortQuantity",
    "OversupplyQuantity",
)


def _finding(node: etree._Element, code: str, tr: str, en: str) -> Finding:
    return Finding(
        code=code,
        severity=Severity.ERROR,
        source=Source.ARITHMETIC,
        line=line_of(node),
        xpath=element_path(node),
        message_tr=tr,
        message_en=en,
    )


def _quantity(node: etree._Element | None) -> Decimal | None:
    if node is None:
        return None
    try:
        value = Decimal((node.text or "").strip())
    except InvalidOperation:
        return None  # the XSD layer says so
    return value if value.is_finite() else None


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def _text(node: etree._Element, path: str) -> str:
    return (node.findtext(path) or "").strip()


def _kind(root: etree._Element) -> str | None:
    namespace = etree.QName(root).namespace
    local = etree.QName(root).localname
    if (namespace, local) == (DESPATCH, "DespatchAdvice"):
        return "despatch"
    if (namespace, local) == (RECEIPT, "ReceiptAdvice"):
        return "receipt"
    return None


def _lines(root: etree._Element) -> list[etree._Element]:
    tag = "DespatchLine" if _kind(root) == "despatch" else "ReceiptLine"
    return root.findall(CAC + tag)


def check(root: etree._Element) -> list[Finding]:
    """Quantity findings of one DespatchAdvice or ReceiptAdvice (empty for other documents)."""
    kind = _kind(root)
    if kind is None:
        return []
    return list(_alone(root, kind))


def _alone(root: etree._Element, kind: str) -> Iterator[Finding]:
    lines = _lines(root)
    count = root.find(CBC + "LineCountNumeric")
    written = _quantity(count)
    if count is not None and written is not None and written != len(lines):
        yield _finding(
            count,
            "advice-line-count",
            f"LineCountNumeric {_fmt(written)}, belgede {len(lines)} satır var",
            f"LineCountNumeric is {_fmt(written)}, the document has {len(lines)} lines",
        )
    names = _DESPATCH_QUANTITIES if kind == "despatch" else _RECEIPT_QUANTITIES
    for line in lines:
        quantities = [q for name in names if (q := line.find(CBC + name)) is not None]
        units = {q.get("unitCode") for q in quantities}
        if len(units) > 1:
            shown = ", ".join(sorted(u or "?" for u in units))
            yield _finding(
                line,
                "advice-unit",
                f"satırın miktarları farklı birimlerde ({shown}); hepsi aynı birimde olmalı",
                f"the line's quantities are in different units ({shown}); use one unit",
            )
        for q in quantities:
            value = _quantity(q)
            if value is not None and value < 0:
                name = etree.QName(q).localname
                yield _finding(
                    q,
                    "advice-negative",
                    f"{name} negatif olamaz ({_fmt(value)})",
                    f"{name} cannot be negative ({_fmt(value)})",
                )
        if kind == "receipt":
            rejected = _quantity(line.find(CBC + "RejectedQuantity"))
            if rejected and not _text(line, CBC + "RejectReason"):
                yield _finding(
                    line,
                    "advice-reject-reason",
                    "reddedilen (kabul edilmeyen) miktarın nedeni (RejectReason) yazılmalı",
                    "a rejected quantity needs its reason (RejectReason)",
                )
    if kind == "receipt":
        refs = Counter(_text(line, f"{CAC}DespatchLineReference/{CBC}LineID") for line in lines)
        for line in lines:
            ref = _text(line, f"{CAC}DespatchLineReference/{CBC}LineID")
            if ref and refs[ref] > 1:
                refs[ref] = 0  # once per despatch line
                yield _finding(
                    line,
                    "advice-line-twice",
                    f"irsaliye satırı {ref} birden çok kez yanıtlanmış",
                    f"despatch line {ref} is answered more than once",
                )


def _party_id(root: etree._Element, role: str) -> str:
    for node in root.iterfind(f"{CAC}{role}/{CAC}Party/{CAC}PartyIdentification/{CBC}ID"):
        if node.get("schemeID") in ("VKN", "TCKN"):
            return (node.text or "").strip()
    return ""


def check_answer(receipt: etree._Element, despatch: etree._Element) -> list[Finding]:
    """Findings of an irsaliye yanıtı against the despatch it answers: the reference (ETTN and
    date), the parties, and per line received + rejected + short = delivered, same unit."""
    if _kind(receipt) != "receipt" or _kind(despatch) != "despatch":
        return [
            _finding(
                receipt,
                "answer-not-a-pair",
                "bir ReceiptAdvice (irsaliye yanıtı) ve bir DespatchAdvice (irsaliye) gerekli",
                "a ReceiptAdvice (the answer) and a DespatchAdvice (the despatch) are needed",
            )
        ]
    return list(_against(receipt, despatch))


def _against(receipt: etree._Element, despatch: etree._Element) -> Iterator[Finding]:
    uuid = _text(despatch, CBC + "UUID")
    ref = receipt.find(CAC + "DespatchDocumentReference")
    ref_id = _text(ref, CBC + "ID") if ref is not None else ""
    where = ref if ref is not None else receipt
    if ref_id.upper() != uuid.upper():
        number = _text(despatch, CBC + "ID")
        by_number = bool(number) and ref_id == number
        yield _finding(
            where,
            "answer-despatch-ettn",
            (
                f"yanıt irsaliyeye numarasıyla ({number}) atıf yapıyor; "
                f"DespatchDocumentReference/ID irsaliyenin ETTN'si ({uuid}) olmalı"
                if by_number
                else f"yanıtın atıf yaptığı ETTN ({ref_id}) bu irsaliyenin ETTN'si ({uuid}) değil"
            ),
            (
                f"the answer refers to the despatch by its number ({number}); "
                f"DespatchDocumentReference/ID must be the despatch's ETTN ({uuid})"
                if by_number
                else f"the answer refers to ETTN {ref_id}, not this despatch's ETTN ({uuid})"
            ),
        )
    ref_date = _text(ref, CBC + "IssueDate") if ref is not None else ""
    issued = _text(despatch, CBC + "IssueDate")
    if ref_date != issued:
        yield _finding(
            where,
            "answer-despatch-date",
            f"yanıttaki irsaliye tarihi ({ref_date}) irsaliyenin tarihi ({issued}) değil",
            f"the answer's despatch date ({ref_date}) is not the despatch's date ({issued})",
        )
    for role, tr in (("DespatchSupplierParty", "gönderici"), ("DeliveryCustomerParty", "alıcı")):
        ours, theirs = _party_id(receipt, role), _party_id(despatch, role)
        if ours != theirs:
            node = receipt.find(CAC + role)
            yield _finding(
                node if node is not None else receipt,
                "answer-party",
                f"yanıttaki {tr} ({role}: {ours}) irsaliyedeki ile ({theirs}) aynı değil",
                f"the answer's {role} ({ours}) is not the despatch's ({theirs})",
            )
    sent = {_text(line, CBC + "ID"): line for line in _lines(despatch)}
    answered: set[str] = set()
    for line in _lines(receipt):
        line_id = _text(line, f"{CAC}DespatchLineReference/{CBC}LineID")
        answered.add(line_id)
        original = sent.get(line_id)
        if original is None:
            yield _finding(
                line,
                "answer-line-unknown",
                f"irsaliyede {line_id} numaralı satır yok",
                f"the despatch has no line {line_id}",
            )
            continue
        yield from _line_against(line, line_id, original)
    missing = [line_id for line_id in sent if line_id not in answered]
    if missing:
        yield _finding(
            receipt,
            "answer-line-unanswered",
            f"irsaliye satırları yanıtsız: {', '.join(missing)}",
            f"despatch lines without an answer: {', '.join(missing)}",
        )


def _line_against(
    line: etree._Element, line_id: str, original: etree._Element
) -> Iterator[Finding]:
    delivered_node = original.find(CBC + "DeliveredQuantity")
    delivered = _quantity(delivered_node)
    unit = delivered_node.get("unitCode") if delivered_node is not None else None
    parts = [line.find(CBC + name) for name in _RECEIPT_QUANTITIES[:3]]
    for node in (p for p in [*parts, line.find(CBC + "OversupplyQuantity")] if p is not None):
        if node.get("unitCode") != unit:
            yield _finding(
                node,
                "answer-unit",
                f"satır {line_id}: birim {node.get('unitCode')}, irsaliyede {unit}",
                f"line {line_id}: unit {node.get('unitCode')}, the despatch's is {unit}",
            )
            break
    values = [_quantity(p) for p in parts]
    oversupply_node = line.find(CBC + "OversupplyQuantity")
    oversupply = _quantity(oversupply_node)
    unreadable = any(p is not None and v is None for p, v in zip(parts, values, strict=True))
    if delivered is None or unreadable or (oversupply_node is not None and oversupply is None):
        return  # a quantity that is not a number is the XSD layer's
    received, rejected, short = (v or Decimal(0) for v in values)
    total = received + rejected + short
    if total == delivered:
        return
    if received + short - (oversupply or Decimal(0)) == delivered and rejected <= received:
        # GİB's guide samples count the rejected quantity inside the received one and the
        # oversupply in it too: another reading of the same answer, not an error.
        yield dataclasses.replace(
            _finding(
                line,
                "answer-quantities-gib-reading",
                f"satır {line_id}: reddedilen ve fazla miktar kabul edilen miktarın içinde "
                f"yazılmış (GİB kılavuzu örneklerindeki gibi); entegrator kabul + red + eksik "
                f"= gönderilen ({_fmt(delivered)}) yazar",
                f"line {line_id}: the rejected and oversupplied quantities are written inside "
                f"the received one (as in GİB's guide samples); entegrator writes received + "
                f"rejected + short = delivered ({_fmt(delivered)})",
            ),
            severity=Severity.WARNING,
        )
        return
    yield _finding(
        line,
        "answer-quantities",
        f"satır {line_id}: kabul {_fmt(received)} + red {_fmt(rejected)} + eksik "
        f"{_fmt(short)} = {_fmt(total)}, gönderilen miktar {_fmt(delivered)}",
        f"line {line_id}: received {_fmt(received)} + rejected {_fmt(rejected)} + short "
        f"{_fmt(short)} = {_fmt(total)}, delivered {_fmt(delivered)}",
    )
