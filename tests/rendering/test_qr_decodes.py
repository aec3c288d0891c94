"""The QR code (karekod) decodes, from the PDF and from the HTML as a browser draws it, to
exactly the payload GİB's fields make."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from entegrator.documents import build_invoice
from entegrator.documents.model import InvoiceDraft
from entegrator.rendering import html_view, qr_payload, render_pdf

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "api" / "invoice.json"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def xml() -> bytes:
    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    data |= {"number": "EFA2026000000042", "ettn": "7C1F6E0A-0C7B-4B65-9C54-0A1E3C2B9F11"}
    return build_invoice(InvoiceDraft.model_validate(data))


def decoded(image: Any) -> list[dict[str, str]]:
    import zxingcpp

    return [json.loads(r.text) for r in zxingcpp.read_barcodes(image) if r.text]


@pytest.mark.parametrize("dpi", [96, 216])  # a screen, a print
def test_the_qr_code_in_the_pdf_decodes(xml: bytes, dpi: int) -> None:
    import pypdfium2

    pdf = pypdfium2.PdfDocument(render_pdf(html_view(xml).html))
    image = pdf[0].render(scale=dpi / 72).to_pil()
    assert decoded(image) == [qr_payload(etree.fromstring(xml))]


def test_the_qr_svg_scales_instead_of_being_clipped(xml: bytes) -> None:
    svg = etree.fromstring(
        html_view(xml).html.split('<div id="karekod" title="Karekod">')[1].split("</div>")[0]
    )
    assert svg.get("viewBox") is not None  # CSS sizes it: the whole code stays in the box


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_qr_code_in_the_html_decodes_in_a_browser(xml: bytes, tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "view.html"
    page.write_text(html_view(xml).html, encoding="utf-8")
    shot = tmp_path / "view.png"
    browser = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    subprocess.run(
        [*browser, f"--screenshot={shot}", "--window-size=1240,1754", page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert decoded(Image.open(shot)) == [qr_payload(etree.fromstring(xml))]
