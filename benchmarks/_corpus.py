"""The benchmarks' documents: varied samples cut or padded to an exact number of lines."""

from __future__ import annotations

from entegrator.documents import DraftError, InvoiceDraft, ensure_buildable
from entegrator.documents.samples import generate

__all__ = ["drafts"]


def drafts(lines: int, count: int) -> list[InvoiceDraft]:
    """``count`` buildable drafts over every profile and type, each with exactly ``lines`` lines.

    Samples are cut to size (or padded with lines of a 1000-line sample); a cut draft whose
    document allowance now exceeds its lines is skipped, as the document core refuses it.
    """
    out: list[InvoiceDraft] = []
    pool = list(generate(max(60, count), seed=lines))
    big = next(d for d in generate(60, seed=99) if len(d.lines) == 1000)
    i = 0
    while len(out) < count:
        d = pool[i % len(pool)]
        i += 1
        body = (d.lines if len(d.lines) >= lines else d.lines + big.lines)[:lines]
        cut = d.model_copy(update={"lines": body})
        try:
            ensure_buildable(cut)
        except DraftError:
            continue
        out.append(cut)
    return out
