"""Regenerate ``examples/invoice/``: one draft per supported profile × type, 3 lines each,
and an e-Arşiv internet sale.

Run ``uv run python scripts/gen_examples.py``; ``tests/test_examples.py`` checks that each
example builds and passes GİB's rules.
"""

from __future__ import annotations

from pathlib import Path

from entegrator.documents import InvoiceDraft, InvoiceTypeCode, ProfileID
from entegrator.documents.samples import SCENARIOS, generate

TARGET = Path(__file__).resolve().parents[1] / "examples" / "invoice"


def main() -> None:
    TARGET.mkdir(parents=True, exist_ok=True)
    wanted: dict[tuple[ProfileID, InvoiceTypeCode], InvoiceDraft | None] = dict.fromkeys(SCENARIOS)
    for draft in generate(len(SCENARIOS) * 4, seed=42):
        key = (draft.profile, draft.type)
        if wanted.get(key) is None:
            wanted[key] = draft.model_copy(update={"lines": (draft.lines * 3)[:3]})
    internet = next(
        d
        for d in generate(200, seed=42)
        if d.internet_sale is not None and d.type is InvoiceTypeCode.SATIS
    )
    path = TARGET / "earsivfatura-satis-internet.json"
    path.write_text(
        internet.model_copy(update={"lines": internet.lines[:3]}).model_dump_json(
            indent=2, exclude_defaults=True
        )
        + "\n",
        "utf-8",
    )
    for (profile, type_), example in wanted.items():
        assert example is not None
        path = TARGET / f"{profile.value.lower()}-{type_.value.lower()}.json"
        path.write_text(example.model_dump_json(indent=2, exclude_defaults=True) + "\n", "utf-8")
    print(f"wrote {len(wanted)} examples to {TARGET}")


if __name__ == "__main__":
    main()
