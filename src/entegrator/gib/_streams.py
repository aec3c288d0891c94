"""Streams for reading a large published file: a zip's single entry, capped as it inflates.

The user lists are zipped XML of a few hundred MB; they are read as a stream, and a zip whose
entry inflates past its limit (a lying header, a zip bomb) stops with :class:`TooLargeError`.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import IO

__all__ = ["Capped", "Raw", "TooLargeError", "single_entry"]


class TooLargeError(Exception):
    pass


class Raw(io.RawIOBase):
    """Any readable stream as a raw stream (for a buffered reader that can peek)."""

    def __init__(self, inner: IO[bytes] | io.RawIOBase) -> None:
        self._inner = inner

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer)) or b""
        buffer[: len(data)] = data
        return len(data)


class Capped(io.RawIOBase):
    """Reads at most ``limit`` bytes from ``inner``; more is an error (a lying zip header)."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        self._inner = inner
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(min(len(buffer), self._left + 1))
        if len(data) > self._left:
            raise TooLargeError
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class single_entry:  # noqa: N801 - a context manager used like a function
    """The one file of a zip and its declared size; ``error(tr, en)`` makes what is raised
    for a zip that cannot be opened or holds more or less than one file."""

    def __init__(self, stream: IO[bytes], error: Callable[[str, str], Exception]) -> None:
        self._stream = stream
        self._error = error
        self._zip: zipfile.ZipFile | None = None
        self._entry: IO[bytes] | None = None

    def __enter__(self) -> tuple[IO[bytes], int]:
        try:
            self._zip = zipfile.ZipFile(self._stream)
            infos = [i for i in self._zip.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise self._error(f"ZIP açılamadı: {exc}", f"the ZIP cannot be opened: {exc}") from None
        if len(infos) != 1:
            raise self._error(
                f"ZIP tek dosya içermeli, {len(infos)} var",
                f"the ZIP must hold one file, it holds {len(infos)}",
            )
        self._entry = self._zip.open(infos[0])
        return self._entry, infos[0].file_size

    def __exit__(self, *exc: object) -> None:
        if self._entry is not None:
            self._entry.close()
        if self._zip is not None:
            self._zip.close()
