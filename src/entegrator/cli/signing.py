"""``entegrator cert``, ``sign`` and ``verify``."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli._files import (
    make_folder,
    read_anchors,
    read_input,
    read_password,
    read_seal,
    write_output,
)

__all__ = ["cert_app", "sign", "verify"]

cert_app = typer.Typer(
    rich_markup_mode=None, help="Certificates: a test CA and seals shaped like real ones."
)

PasswordEnv = Annotated[
    str | None,
    typer.Option(
        "--password-env",
        metavar="VAR",
        help="Environment variable that holds the PKCS#12 password.",
    ),
]
PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="File whose content is the PKCS#12 password."),
]


def _key_type(value: str) -> str:
    if value not in ("rsa", "ec"):
        fail(
            "INVALID_OPTION",
            f"Anahtar türü rsa ya da ec olmalı, '{value}' değil",
            f"The key type must be rsa or ec, not '{value}'",
            where="--key-type",
        )
    return value


def _identity(vkn: str | None, tckn: str | None) -> str:
    if (vkn is None) == (tckn is None):
        fail(
            "IDENTITY_MISSING",
            "--vkn ya da --tckn verin (yalnız biri)",
            "Give --vkn or --tckn (one of them)",
            where="--vkn",
        )
    option, digits = ("--vkn", 10) if vkn is not None else ("--tckn", 11)
    identity = vkn or tckn or ""
    if not (len(identity) == digits and identity.isascii() and identity.isdigit()):
        fail(
            "INVALID_VKN" if option == "--vkn" else "INVALID_TCKN",
            f"{option} {digits} haneli olmalı: {identity!r}",
            f"{option} must have {digits} digits: {identity!r}",
            where=option,
        )
    return identity


@cert_app.command("test-ca")
def test_ca(
    out: Annotated[Path, typer.Option("--out", help="Folder for ca.pem and ca.key.pem.")],
    name: Annotated[
        str, typer.Option(metavar="NAME", help="The CA's common name.")
    ] = "entegrator Test SM",
    key_type: Annotated[str, typer.Option(metavar="rsa|ec", help="rsa or ec (P-384).")] = "rsa",
) -> None:
    """Create a test certificate authority (development and tests only)."""
    from entegrator.signing import TestCA

    _key_type(key_type)
    with cli_errors():
        ca = TestCA.create(name, key_type=key_type, now=dt.datetime.now(dt.UTC))
        cert, key = ca.to_pem()
        make_folder(out)
        write_output(out / "ca.pem", cert)
        key_file = out / "ca.key.pem"
        write_output(key_file, key, mode=0o600)
        typer.echo(f"{out / 'ca.pem'}\n{key_file}")


@cert_app.command("issue")
def issue(  # noqa: PLR0917 - a Typer command: one parameter per option
    name: Annotated[str, typer.Option(metavar="NAME", help="The holder's title (CN).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The PKCS#12 file to write.")],
    ca: Annotated[Path, typer.Option(help="Folder of the test CA (entegrator cert test-ca).")],
    vkn: Annotated[str | None, typer.Option(metavar="VKN", help="VKN of a mali mühür.")] = None,
    tckn: Annotated[
        str | None, typer.Option(metavar="TCKN", help="TCKN of a personal certificate.")
    ] = None,
    key_type: Annotated[str, typer.Option(metavar="rsa|ec", help="rsa or ec (P-384).")] = "rsa",
    password_env: PasswordEnv = None,
    password_file: PasswordFile = None,
) -> None:
    """Issue a test seal: subject serialNumber = VKN/TCKN, as on a real mali mühür."""
    from entegrator.signing import TestCA
    from entegrator.signing.certs import to_pkcs12

    identity = _identity(vkn, tckn)
    _key_type(key_type)
    password = read_password(password_env, password_file)
    if not ca.is_dir():
        fail(
            "FILE_NOT_FOUND",
            f"Test CA klasörü bulunamadı: {ca} (entegrator cert test-ca ile oluşturun)",
            f"No test CA folder at {ca} (create one with entegrator cert test-ca)",
            where="--ca",
        )
    cert_pem, key_pem = read_input(ca / "ca.pem"), read_input(ca / "ca.key.pem")
    with cli_errors(str(ca)):
        try:
            authority = TestCA.from_pem(cert_pem, key_pem)
        except ValueError:
            fail(
                "CERTIFICATE_FILE_INVALID",
                f"Test CA dosyaları okunamadı: {ca} (ca.pem, ca.key.pem)",
                f"Cannot read the test CA in {ca} (ca.pem, ca.key.pem)",
                where=str(ca),
            )
        seal = authority.issue(
            identity=identity, name=name, key_type=key_type, now=dt.datetime.now(dt.UTC)
        )
    write_output(out, to_pkcs12(seal, password, name), mode=0o600)
    typer.echo(str(out))


def sign(  # noqa: PLR0917 - a Typer command: one parameter per option
    document: Annotated[Path, typer.Argument(help="UBL-TR XML to sign.")],
    p12: Annotated[Path, typer.Option("--p12", help="The seal (PKCS#12).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the signed XML.")],
    password_env: PasswordEnv = None,
    password_file: PasswordFile = None,
    on_behalf: Annotated[
        bool,
        typer.Option(
            "--on-behalf",
            help="The seal is the integrator's own, signing for the document's issuer.",
        ),
    ] = False,
) -> None:
    """Sign a document with a mali mühür (XAdES-BES, GİB's profile)."""
    from entegrator.signing import sign as sign_document

    password = read_password(password_env, password_file)
    key = read_seal(p12, password)
    data = read_input(document)
    with cli_errors(str(document)):
        signed = sign_document(data, key, signing_time=dt.datetime.now(dt.UTC), on_behalf=on_behalf)
    write_output(out, signed)
    typer.echo(str(out), err=True)


def verify(
    document: Annotated[Path, typer.Argument(help="Signed UBL-TR XML.")],
    trust: Annotated[
        list[Path] | None,
        typer.Option("--trust", help="PEM file(s) of trusted CA certificates (repeatable)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON.")] = False,
    integrator: Annotated[
        list[str] | None,
        typer.Option(
            "--integrator",
            metavar="VKN",
            help="VKN of an integrator's seal: signing for an issuer is a warning (repeatable).",
        ),
    ] = None,
    any_signer: Annotated[
        bool,
        typer.Option(
            "--any-signer",
            help="A document GİB delivered: any valid seal other than the issuer's is a warning.",
        ),
    ] = False,
) -> None:
    """Verify a document's signature; exit 0 when it verifies, 1 when it does not.

    Without --trust the certificate chain is not checked (any certificate with the signer's
    identity verifies); the output says so, and --json says "chain_checked": false.
    """
    from entegrator.signing import verify as verify_document

    anchors = read_anchors(trust or [])
    data = read_input(document)
    with cli_errors(str(document), as_json=as_json):
        findings = verify_document(
            data, trust=anchors, integrators=integrator or (), any_signer=any_signer
        )
    errors = [f for f in findings if f.severity == "error"]
    chain_checked = bool(anchors)
    if as_json:
        payload = {
            "path": str(document),
            "valid": not errors,
            "chain_checked": chain_checked,
            "findings": [f.to_dict() for f in findings],
        }
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
    else:
        status = "GEÇERLİ/valid" if not errors else "GEÇERSİZ/invalid"
        if not errors and not chain_checked:
            # Without trusted CAs any self-made certificate verifies: say so, every time.
            status = (
                "GEÇERLİ (sertifika zinciri denetlenmedi: --trust verilmedi) / "
                "valid (certificate chain not checked: no --trust)"
            )
        typer.echo(f"{document}: imza/signature {status}")
        for f in findings:
            typer.echo(f"  {f.severity.value.upper():7} {f.code}: {f.message_tr} / {f.message_en}")
    raise typer.Exit(1 if errors else 0)
