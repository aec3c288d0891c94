"""libxmlsec1's command (``xmlsec1``, Debian's package) as the reference for the cryptographic
part of a signature: both digests and the signature value, keyed from the certificate in
``KeyInfo``, without judging the certificate (``--insecure``: no chain, no validity dates)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from entegrator.findings import Finding

XADES = "http://uri.etsi.org/01903/v1.3.2#"
ID_ATTR = ["--id-attr:Id", f"{XADES}:SignedProperties"]

# Our findings that mean "the digests and the signature value do not hold", or that we did not
# verify them (an algorithm, transform or reference layout we do not take): a refusal either way.
# ``sig-sha1`` is not among them: SHA-1 verifies, GİB's policy refuses it (counted apart).
CRYPTO_REFUSALS = frozenset(
    {"sig-digest", "sig-value", "sig-algorithm", "sig-reference", "sig-missing"}
)


def tool() -> str:
    found = shutil.which("xmlsec1")
    assert found, "xmlsec1 is not installed: run make system-tools (Debian's xmlsec1)"
    return found


@dataclass(frozen=True)
class Verdict:
    valid: bool
    output: str


def verify_file(path: Path) -> Verdict:
    """``xmlsec1 --verify --insecure``: the key from the embedded certificate, taken as is."""
    run = subprocess.run(
        [tool(), "--verify", "--insecure", *ID_ATTR, str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return Verdict(run.returncode == 0, run.stderr)


def sign_file(template: Path, key_pem: Path, out: Path) -> None:
    """``xmlsec1 --sign``: fills every DigestValue and the SignatureValue of a template."""
    run = subprocess.run(
        [
            tool(),
            "--sign",
            "--privkey-pem",
            str(key_pem),
            *ID_ATTR,
            "--output",
            str(out),
            str(template),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr


def crypto_valid(findings: list[Finding]) -> bool:
    """Our cryptographic verdict: no finding that refuses the digests or the value."""
    return not {f.code for f in findings} & CRYPTO_REFUSALS
