"""``entegrator cert``, ``sign`` and ``verify``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli._secrets import read_password

__all__ = ["cert_app", "sign", "verify"]

cert_app = typer.Typer(help="Certificates: a test CA and seals shaped like real ones.")

PasswordEnv = Annotated[
    str | None,
    typer.Option("--password-env", help="Environment variable that holds the PKCS#12 password."),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="File whose content is the PKCS#12 password."),
]


def _password(env: str | None, file: Path | None) -> bytes:
    if env is None and file is None:
        fail(
            "PASSWORD_MISSING",
            "Parola --password-env ya da --password-file ile verilmeli (komut satırında değil)",
            "Give the password with --password-env or --password-file (never on the command line)",
        )
    return read_password(env=env, file=file)


@cert_app.command("test-ca")
def test_ca(
    out: Annotated[Path, typer.Option("--out", help="Folder for ca.pem and ca.key.pem.")],
    name: Annotated[str, typer.Option(help="The CA's common name.")] = "entegrator Test SM",
    key_type: Annotated[str, typer.Option(help="rsa or ec (P-384).")] = "rsa",
) -> None:
    """Create a test certificate authority (development and tests only)."""
    from entegrator.signing import TestCA

    with cli_errors():
        ca = TestCA.create(name, key_type=key_type, now=dt.datetime.now(dt.UTC))
        cert, key = ca.to_pem()
        out.mkdir(parents=True, exist_ok=True)
        (out / "ca.pem").write_bytes(cert)
        key_file = out / "ca.key.pem"
        key_file.write_bytes(key)
        key_file.chmod(0o600)
        typer.echo(f"{out / 'ca.pem'}\n{key_file}")


@cert_app.command("issue")
def issue(  # noqa: PLR0917 - a Typer command: one parameter per option
    name: Annotated[str, typer.Option(help="The holder's title (CN).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The PKCS#12 file to write.")],
    ca: Annotated[Path, typer.Option(help="Folder of the test CA (entegrator cert test-ca).")],
    vkn: Annotated[str | None, typer.Option(help="VKN of a mali mühür.")] = None,
    tckn: Annotated[str | None, typer.Option(help="TCKN of a personal certificate.")] = None,
    key_type: Annotated[str, typer.Option(help="rsa or ec (P-384).")] = "rsa",
    password_env: PasswordEnv = None,
    password_file: PasswordFile = None,
) -> None:
    """Issue a test seal: subject serialNumber = VKN/TCKN, as on a real mali mühür."""
    from entegrator.signing import TestCA
    from entegrator.signing.certs import to_pkcs12

    with cli_errors():
        identity = vkn or tckn
        if identity is None or (vkn and tckn):
            fail("IDENTITY_MISSING", "--vkn ya da --tckn verin", "Give --vkn or --tckn")
        password = _password(password_env, password_file)
        try:
            authority = TestCA.from_pem(
                (ca / "ca.pem").read_bytes(), (ca / "ca.key.pem").read_bytes()
            )
        except OSError as exc:
            fail("FILE_NOT_FOUND", f"Test CA okunamadı: {exc}", f"Cannot read the test CA: {exc}")
        seal = authority.issue(
            identity=str(identity), name=name, key_type=key_type, now=dt.datetime.now(dt.UTC)
        )
        out.write_bytes(to_pkcs12(seal, password, name))
        out.chmod(0o600)
        typer.echo(str(out))


def sign(
    document: Annotated[Path, typer.Argument(help="UBL-TR XML to sign.")],
    p12: Annotated[Path, typer.Option("--p12", help="The seal (PKCS#12).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the signed XML.")],
    password_env: PasswordEnv = None,
    password_file: PasswordFile = None,
) -> None:
    """Sign a document with a mali mühür (XAdES-BES, GİB's profile)."""
    from entegrator.signing import load_pkcs12
    from entegrator.signing import sign as sign_document

    with cli_errors(str(document)):
        password = _password(password_env, password_file)
        try:
            key = load_pkcs12(p12.read_bytes(), password)
            data = document.read_bytes()
        except OSError as exc:
            fail("FILE_NOT_FOUND", f"Dosya okunamadı: {exc}", f"Cannot read a file: {exc}")
        out.write_bytes(sign_document(data, key, signing_time=dt.datetime.now(dt.UTC)))
        typer.echo(str(out), err=True)


def verify(
    document: Annotated[Path, typer.Argument(help="Signed UBL-TR XML.")],
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="PEM file(s) of trusted CA certificates (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
) -> None:
    """Verify a document's signature; exit 0 when it verifies, 1 when it does not."""
    from cryptography import x509

    from entegrator.signing import verify as verify_document

    with cli_errors(str(document), as_json=as_json):
        try:
            anchors = [
                c for p in trust or [] for c in x509.load_pem_x509_certificates(p.read_bytes())
            ]
            data = document.read_bytes()
        except (OSError, ValueError) as exc:
            fail("FILE_NOT_FOUND", f"Dosya okunamadı: {exc}", f"Cannot read a file: {exc}")
        findings = verify_document(data, trust=anchors)
    errors = [f for f in findings if f.severity == "error"]
    if as_json:
        payload = {
            "path": str(document),
            "valid": not errors,
            "findings": [f.to_dict() for f in findings],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        status = "GEÇERLİ/valid" if not errors else "GEÇERSİZ/invalid"
        typer.echo(f"{document}: imza/signature {status}")
        for f in findings:
            typer.echo(f"  {f.severity.value.upper():7} {f.code}: {f.message_tr} / {f.message_en}")
    raise typer.Exit(1 if errors else 0)
