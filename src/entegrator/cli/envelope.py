"""``entegrator envelope pack`` and ``unpack``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from entegrator.cli._errors import cli_errors, fail

__all__ = ["envelope_app"]

envelope_app = typer.Typer(help="GİB envelopes (zarf): SBDH in a zip, with GİB's MD5 hash.")


@envelope_app.command("pack")
def pack_command(
    documents: Annotated[list[Path], typer.Argument(help="Signed documents to send together.")],
    sender: Annotated[str, typer.Option("--from", help="Sender alias (urn:mail:…gb@…).")],
    receiver: Annotated[str, typer.Option("--to", help="Receiver alias (urn:mail:…pk@…).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="The zip to write (named <id>.zip).")],
    envelope_type: Annotated[
        str, typer.Option("--type", help="SENDERENVELOPE, POSTBOXENVELOPE or SYSTEMENVELOPE.")
    ] = "SENDERENVELOPE",
) -> None:
    """Wrap documents in an envelope and zip it as GİB wants; print the id and the hash."""
    from entegrator.envelope import EnvelopeType, build, pack

    with cli_errors():
        try:
            kind = EnvelopeType(envelope_type)
        except ValueError:
            fail(
                "ENVELOPE_TYPE",
                f"Bilinmeyen zarf türü {envelope_type}",
                f"Unknown envelope type {envelope_type}",
            )
        try:
            data = [p.read_bytes() for p in documents]
        except OSError as exc:
            fail("FILE_NOT_FOUND", f"Dosya okunamadı: {exc}", f"Cannot read a file: {exc}")
        packed = pack(
            build(
                data,
                sender_alias=sender,
                receiver_alias=receiver,
                type=kind,
                created=dt.datetime.now(dt.UTC),
            )
        )
        target = out / packed.name if out.is_dir() else out
        target.write_bytes(packed.data)
        typer.echo(
            json.dumps(
                {
                    "id": packed.name.removesuffix(".zip"),
                    "path": str(target),
                    "md5": packed.md5,
                    "documents": len(data),
                }
            )
        )


@envelope_app.command("unpack")
def unpack_command(
    archive: Annotated[Path, typer.Argument(help="A zipped envelope.")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for envelope.xml and documents.")
    ],
) -> None:
    """Open a zipped envelope (hostile zips refused with GİB's code) and write its documents."""
    from entegrator.envelope import unpack

    with cli_errors(str(archive)):
        try:
            data = archive.read_bytes()
        except OSError as exc:
            fail("FILE_NOT_FOUND", f"Dosya okunamadı: {exc}", f"Cannot read the file: {exc}")
        envelope, xml = unpack(data, name=archive.name)
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{envelope.id}.xml").write_bytes(xml)
        written = []
        for i, document in enumerate(envelope.documents, 1):
            path = out / f"document-{i:04d}.xml"
            path.write_bytes(document)
            written.append(str(path))
        typer.echo(
            json.dumps(
                {
                    "id": envelope.id,
                    "type": envelope.type.value,
                    "sender": {
                        "alias": envelope.sender.alias,
                        "identity": envelope.sender.identity,
                    },
                    "receiver": {
                        "alias": envelope.receiver.alias,
                        "identity": envelope.receiver.identity,
                    },
                    "documents": written,
                },
                ensure_ascii=False,
            )
        )
