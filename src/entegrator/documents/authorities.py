"""The public bodies on the other end of e-documents, as GİB's packages name them.

* **GİB** (Gelir İdaresi Başkanlığı): the sender of system responses, under its own alias
  ``GIB`` in the system envelopes it sends (``envelope-and-transport.md`` §4, §7).
* **GTB** (T.C. Ticaret Bakanlığı, the Ministry of Trade): the customer of every export
  (IHRACAT), tax-free (OZELFATURA) and passenger (YOLCUBERABERFATURA) invoice, reached at fixed
  aliases whatever the user list says [rule: the export guide].
* **GİB's e-İrsaliye mailbox**: despatch advices whose receiver is no e-İrsaliye user go to
  GİB's own despatch mailbox (VKN 3900892152), the real receiver staying in the XML
  (``envelope-and-transport.md`` §3, §9).

>>> GTB_ALIASES["IHRACAT"]
'urn:mail:ihracatpk@gtb.gov.tr'
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "GIB_ALIAS",
    "GIB_DESPATCH_ALIAS",
    "GIB_DESPATCH_VKN",
    "GIB_TITLE",
    "GIB_VKN",
    "GTB_ALIASES",
    "GTB_TITLE",
    "GTB_VKN",
]

GIB_VKN = "3900383669"
GIB_TITLE = "Gelir İdaresi Başkanlığı"
GIB_ALIAS = "GIB"
GIB_DESPATCH_VKN = "3900892152"
GIB_DESPATCH_ALIAS = "urn:mail:irsaliyepk@gib.gov.tr"

GTB_VKN = "1460415308"
GTB_TITLE = "Ticaret Bakanlığı"
GTB_ALIASES: Mapping[str, str] = {
    "IHRACAT": "urn:mail:ihracatpk@gtb.gov.tr",
    "OZELFATURA": "urn:mail:ihracatpk@gtb.gov.tr",
    "YOLCUBERABERFATURA": "urn:mail:yolcuberaberpk@gtb.gov.tr",
}
