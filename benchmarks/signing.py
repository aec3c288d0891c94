"""Signing and verification throughput, next to the raw signature rate of the same key.

Reproduce with ``uv run python benchmarks/signing.py``. One core, warm, a 10-line invoice (and
1- and 100-line ones for scale). "raw sign" is ``cryptography`` signing 32 bytes with the same
key: the physical limit of one core. "sign" takes bytes and returns bytes; "tree" is
``sign_tree`` on a tree the pipeline has already parsed and validated. The target is at least
half of the raw rate for a 10-line invoice.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable, Iterator
from functools import partial

from _corpus import drafts
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from lxml import etree

from entegrator.documents import build_invoice, safe_xml
from entegrator.signing import SigningKey, TestCA, sign, sign_tree, verify
from entegrator.signing.xades import issuer_identity

ROUNDS = 5


def rate(func: Callable[[], object], n: int, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(n):
            func()
        times.append(time.perf_counter() - start)
    return n / statistics.median(times)


def raw(key: SigningKey) -> Callable[[], object]:
    private = key.private_key
    data = b"x" * 32
    if isinstance(private, rsa.RSAPrivateKey):
        return lambda: private.sign(data, padding.PKCS1v15(), hashes.SHA256())
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    return lambda: private.sign(data, ec.ECDSA(hashes.SHA384()))


def _sign_next(trees: Iterator[etree._Element], key: SigningKey, now: dt.datetime) -> bytes:
    return sign_tree(next(trees), key, signing_time=now)


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    ca = TestCA.create(now=now)
    print(
        f"{'key':>10} {'lines':>5} {'sign/s':>8} {'tree/s':>8} {'verify/s':>9} "
        f"{'raw sign/s':>11} {'sign÷raw':>9} {'tree÷raw':>9}"
    )
    for key_type, label in (("rsa", "RSA-2048"), ("ec", "ECDSA-384")):
        for lines in (1, 10, 100):
            xml = build_invoice(drafts(lines, 1)[0])
            identity = issuer_identity(safe_xml.parse(xml))
            assert identity
            key = ca.issue(identity=identity, name="Bench", key_type=key_type, now=now)
            signed = sign(xml, key, signing_time=now)
            assert verify(signed, trust=[ca.certificate]) == []
            n = max(20, 400 // lines)
            signs, trees, verifies, limits, ratios, tree_ratios = [], [], [], [], [], []
            for _ in range(ROUNDS):  # interleaved: the ratio of neighbours is steadier
                s_rate = rate(partial(sign, xml, key, signing_time=now), n, rounds=1)
                parsed = [safe_xml.parse(xml) for _ in range(n)]  # the pipeline's trees
                t_rate = rate(partial(_sign_next, iter(parsed), key, now), n, rounds=1)
                l_rate = rate(raw(key), n, rounds=1)
                signs.append(s_rate)
                trees.append(t_rate)
                limits.append(l_rate)
                ratios.append(s_rate / l_rate)
                tree_ratios.append(t_rate / l_rate)
                verifies.append(rate(partial(verify, signed, trust=[ca.certificate]), n, 1))
            med = statistics.median
            print(
                f"{label:>10} {lines:>5} {med(signs):>8.0f} {med(trees):>8.0f} "
                f"{med(verifies):>9.0f} {med(limits):>11.0f} {med(ratios):>8.2f}× "
                f"{med(tree_ratios):>8.2f}×"
            )


if __name__ == "__main__":
    main()
