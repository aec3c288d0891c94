"""Hostile stylesheets a trading partner could send, and a way to read a PDF's links."""

from __future__ import annotations

import contextlib
import re
import zlib

__all__ = ["MEMORY_EATER", "RUNAWAY", "pdf_text"]

# 2^40 template calls: no recursion-depth limit stops it, only time does.
RUNAWAY = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><xsl:call-template name="r"><xsl:with-param name="n" select="40"/>
</xsl:call-template></xsl:template>
<xsl:template name="r"><xsl:param name="n"/><xsl:if test="$n &gt; 0">
<xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
<xsl:call-template name="r"><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
</xsl:if></xsl:template></xsl:stylesheet>"""

# A string that doubles forty times: 16 TiB, if nothing stops it.
MEMORY_EATER = b"""<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
<xsl:template match="/"><xsl:call-template name="d"><xsl:with-param name="s"
select="'xxxxxxxxxxxxxxxx'"/><xsl:with-param name="n" select="40"/></xsl:call-template>
</xsl:template>
<xsl:template name="d"><xsl:param name="s"/><xsl:param name="n"/><xsl:choose>
<xsl:when test="$n &gt; 0"><xsl:call-template name="d"><xsl:with-param name="s"
select="concat($s, $s)"/><xsl:with-param name="n" select="$n - 1"/></xsl:call-template>
</xsl:when><xsl:otherwise><xsl:value-of select="string-length($s)"/></xsl:otherwise>
</xsl:choose></xsl:template></xsl:stylesheet>"""


def pdf_text(pdf: bytes) -> bytes:
    """The PDF with its compressed streams (object streams hold the link annotations) inflated."""
    parts = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)endstream", pdf, flags=re.DOTALL):
        with contextlib.suppress(zlib.error):
            parts.append(zlib.decompress(match.group(1)))
    return b"\n".join(parts)
