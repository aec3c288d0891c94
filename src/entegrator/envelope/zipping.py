"""Zip packaging as GİB wants it, and opening zips from outside as the hostile input they are.

``<id>.xml`` alone inside ``<id>.zip``; the transport hash is the MD5 of the zip bytes, in
lowercase hex (``envelope-and-transport.md`` §4). Opening refuses, with GİB's code: not a zip
(1110), a damaged zip (1130), more or fewer than one entry, folders or path tricks (1131), an
entry that is not XML (1132), a name that is not the envelope id (1133, and 1142 for the zip's
own name), and anything that inflates beyond the size limit (a zip bomb) before inflating it.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass

from entegrator.documents.errors import XMLError
from entegrator.envelope.errors import EnvelopeError
from entegrator.envelope.sbdh import Envelope, parse, to_xml

__all__ = ["MAX_UNPACKED_BYTES", "Packed", "pack", "unpack"]

MAX_UNPACKED_BYTES = 100 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Packed:
    name: str  # <envelope id>.zip
    data: bytes
    md5: str  # lowercase hex of the zip bytes: GİB's "hash"
    xml: bytes


def pack(envelope: Envelope) -> Packed:
    xml = to_xml(envelope)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        info = zipfile.ZipInfo(f"{envelope.id}.xml", date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, xml)
    data = buffer.getvalue()
    return Packed(
        f"{envelope.id}.zip", data, hashlib.md5(data, usedforsecurity=False).hexdigest(), xml
    )


def _fail(gib_code: int, tr: str, en: str) -> EnvelopeError:
    return EnvelopeError(detail_tr=tr, detail_en=en, gib_code=gib_code)


def unpack(
    data: bytes, *, name: str | None = None, max_bytes: int = MAX_UNPACKED_BYTES
) -> tuple[Envelope, bytes]:
    """Open a zipped envelope from outside; return it and its XML, or raise with GİB's code."""
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise _fail(1110, "dosya zip değil", "the file is not a zip")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, NotImplementedError):
        raise _fail(1130, "zip açılamadı", "the zip cannot be opened") from None
    with archive:
        entries = archive.infolist()
        if len(entries) != 1:
            raise _fail(
                1131,
                f"zipte tam bir dosya olmalı, {len(entries)} var",
                f"the zip must hold exactly one file, it holds {len(entries)}",
            )
        entry = entries[0]
        entry_name = entry.filename
        if (
            entry.is_dir()
            or "/" in entry_name
            or "\\" in entry_name
            or ".." in entry_name
            or entry_name.startswith(".")
        ):
            raise _fail(
                1131, "zipteki dosya adı geçersiz", "the name inside the zip is not allowed"
            )
        if entry.flag_bits & 0x1:
            raise _fail(1130, "şifreli zip", "the zip is encrypted")
        if entry.file_size > max_bytes:
            raise _fail(
                1130,
                f"zip içeriği {entry.file_size} bayt, sınır {max_bytes}",
                f"the zip inflates to {entry.file_size} bytes, the limit is {max_bytes}",
            )
        xml = _read_capped(archive, entry, max_bytes)
    stem = entry_name.removesuffix(".xml")
    if not entry_name.endswith(".xml"):
        raise _fail(1132, "zipteki dosya XML değil", "the file inside the zip is not XML")
    try:
        envelope = parse(xml)
    except XMLError:
        raise _fail(1132, "zipteki dosya XML değil", "the file inside the zip is not XML") from None
    if stem != envelope.id:
        raise _fail(1133, "XML dosya adı zarf kimliği değil", "the XML name is not the envelope id")
    if name is not None and name.rsplit("/", 1)[-1].removesuffix(".zip") != envelope.id:
        raise _fail(1142, "zip adı zarf kimliği değil", "the zip name is not the envelope id")
    return envelope, xml


def _read_capped(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, max_bytes: int) -> bytes:
    """Inflate at most ``max_bytes`` whatever the header claims (a bomb lies about its size)."""
    out = io.BytesIO()
    try:
        with archive.open(entry) as stream:
            while chunk := stream.read(_CHUNK):
                if out.tell() + len(chunk) > max_bytes:
                    raise _fail(
                        1130,
                        f"zip içeriği {max_bytes} bayt sınırını aşıyor",
                        f"the zip inflates beyond the limit of {max_bytes} bytes",
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise _fail(1130, "zip bozuk", "the zip is damaged") from None
    return out.getvalue()
