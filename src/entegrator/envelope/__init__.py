"""GİB envelopes (zarf): SBDH build and parse, zip packaging with GİB's MD5 hash, hostile zips.

>>> from entegrator.envelope import EnvelopeType, build, pack, unpack
"""

from entegrator.envelope.errors import EnvelopeError
from entegrator.envelope.sbdh import (
    ELEMENT_TYPES,
    Envelope,
    EnvelopeType,
    Group,
    Party,
    build,
    parse,
    to_xml,
)
from entegrator.envelope.zipping import MAX_UNPACKED_BYTES, Packed, pack, unpack

__all__ = [
    "ELEMENT_TYPES",
    "MAX_UNPACKED_BYTES",
    "Envelope",
    "EnvelopeError",
    "EnvelopeType",
    "Group",
    "Packed",
    "Party",
    "build",
    "pack",
    "parse",
    "to_xml",
    "unpack",
]
