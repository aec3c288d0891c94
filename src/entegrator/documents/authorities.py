"""The public bodies on the other end of e-documents, as GİB's packages name them.

* **GİB** (Gelir İdaresi Başkanlığı): the sender of system responses, under its own alias
  ``GIB`` in the system envelopes it sends (``envelope-and-transport.md`` §4, §7).
* **GTB** (T.C. Ticaret Bakanlığı, the Ministry of Trade): the customer of every export
  (IHRACAT), tax-free (OZELFATURA) and passenger (YOLCUBERABERFATURA) invoice, reached at fixed
  aliases whatever the user list says [rule: the export guide].

>>> GTB_ALIASES["IHRACAT"]
'urn:mail:ihracatpk@gtb.gov.tr'
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["GIB_ALIAS", "GIB_TITLE", "GIB_VKN", "GTB_ALIASES", "GTB_TITLE", "GTB_VKN"]

GIB_VKN = "3900383669"
GIB_TITLE = "Gelir İdaresi Başkanlığı"
GIB_ALIAS = "GIB"

GTB_VKN = "1460415308"
GTB_TITLE = "Ticaret Bakanlığı"
GTB_ALIASES: Mapping[str, str] = {
    "IHRACAT": "urn:mail:ihracatpk@gtb.gov.tr",
    "OZELFATURA": "urn:mail:ihracatpk@gtb.gov.tr",
    "YOLCUBERABERFATURA": "urn:mail:yolcuberaberpk@gtb.gov.tr",
}
