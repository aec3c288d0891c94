"""Regenerate ``src/entegrator/documents/data/code_lists.json`` from GİB's code lists.

Source: the ``kodlar.json`` shipped in the PyPI package ``efatura-kontrol`` (GİB e-Fatura
Paketi schematron and ``UBL-TR_Codelist.xml``). Run with ``uv run python scripts/gen_code_lists.py``
after upgrading that package; never edit the generated file by hand.
"""

from __future__ import annotations

import json
from importlib import metadata, resources
from pathlib import Path

import efatura_kontrol

TARGET = Path(__file__).resolve().parents[1] / "src/entegrator/documents/data/code_lists.json"


def main() -> None:
    raw = json.loads(
        resources.files("efatura_kontrol.ekler").joinpath("kodlar.json").read_text("utf-8")
    )
    out = {
        "_source": {
            "package": "efatura-kontrol",
            "version": metadata.version("efatura-kontrol"),
            "gib_package": efatura_kontrol.PAKET,
            "origin": raw["kaynak"],
            "generated_by": "scripts/gen_code_lists.py",
        },
        "lists": raw["listeler"],
    }
    TARGET.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {TARGET} ({len(out['lists'])} lists)")


if __name__ == "__main__":
    main()
