"""``entegrator envelope pack`` and ``unpack``."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from entegrator.cli._errors import cli_errors, fail
from entegrator.cli._files import make_folder, read_input, write_output

__all__ = ["envelope_app"]

envelope_app = typer.Typer(
    rich_markup_mode=None, help="GİB envelopes (zarf): SBDH in a zip, with GİB's MD5 hash."
)


@envelope_app.command("pack")
def pack_command(
    documents: Annotated[list[Path], typer.Argument(help="Signed documents to send together.")],
    sender: Annotated[
        str, typer.Option("--from", metavar="ALIAS", help="Sender alias (urn:mail:…gb@…).")
    ],
    receiver: Annotated[
        str, typer.Option("--to", metavar="ALIAS", help="Receiver alias (urn:mail:…pk@…).")
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The zip to write (named <id>.zip).")],
    envelope_type: Annotated[
        str,
        typer.Option(
            "--type", metavar="TYPE", help="SENDERENVELOPE, POSTBOXENVELOPE or SYSTEMENVELOPE."
        ),
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
                where="--type",
            )
        data = [read_input(p) for p in documents]
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
        write_output(target, packed.data)
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
        data = read_input(archive)
        envelope, xml = unpack(data, name=archive.name)
        make_folder(out)
        write_output(out / f"{envelope.id}.xml", xml)
        written = []
        for i, document in enumerate(envelope.documents, 1):
            path = out / f"document-{i:04d}.xml"
            write_output(path, document)
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
