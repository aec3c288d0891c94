<?xml version="1.0" encoding="UTF-8"?>
<!--
  entegrator's invoice view (XSLT 1.0), used when a document carries no stylesheet of its own.
  The layout follows GİB's standard e-Fatura / e-Arşiv view: the supplier top left, the
  document kind and QR code in the middle, the buyer and the document's identity below, then
  the lines, the tax breakdown, the totals and the notes.
  The element with id "karekod" is filled by the renderer with the QR code (SVG).
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:inv="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    exclude-result-prefixes="inv cac cbc">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>
  <xsl:decimal-format name="tr" decimal-separator="," grouping-separator="."/>
  <!-- "1" when the caller knows the invoice is cancelled (the XML itself never says so). -->
  <xsl:param name="cancelled" select="''"/>

  <xsl:template name="money">
    <xsl:param name="value"/>
    <xsl:param name="currency"/>
    <xsl:value-of select="format-number($value, '###.##0,00', 'tr')"/>
    <xsl:text> </xsl:text>
    <xsl:choose>
      <xsl:when test="$currency = 'TRY'">TL</xsl:when>
      <xsl:otherwise><xsl:value-of select="$currency"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="unit">
    <xsl:param name="code"/>
    <xsl:choose>
      <xsl:when test="$code = 'C62'">Adet</xsl:when>
      <xsl:when test="$code = 'HUR'">Saat</xsl:when>
      <xsl:when test="$code = 'DAY'">Gün</xsl:when>
      <xsl:when test="$code = 'MON'">Ay</xsl:when>
      <xsl:when test="$code = 'ANN'">Yıl</xsl:when>
      <xsl:when test="$code = 'KGM'">kg</xsl:when>
      <xsl:when test="$code = 'GRM'">g</xsl:when>
      <xsl:when test="$code = 'TNE'">ton</xsl:when>
      <xsl:when test="$code = 'LTR'">lt</xsl:when>
      <xsl:when test="$code = 'MTR'">m</xsl:when>
      <xsl:when test="$code = 'MTK'">m²</xsl:when>
      <xsl:when test="$code = 'MTQ'">m³</xsl:when>
      <xsl:when test="$code = 'KWH'">kWh</xsl:when>
      <xsl:when test="$code = 'PA'">Paket</xsl:when>
      <xsl:when test="$code = 'BX'">Kutu</xsl:when>
      <xsl:otherwise><xsl:value-of select="$code"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="party">
    <xsl:param name="party"/>
    <div class="party">
      <strong>
        <xsl:choose>
          <xsl:when test="$party/cac:PartyName/cbc:Name">
            <xsl:value-of select="$party/cac:PartyName/cbc:Name"/>
          </xsl:when>
          <xsl:when test="$party/cac:PartyLegalEntity/cbc:RegistrationName">
            <xsl:value-of select="$party/cac:PartyLegalEntity/cbc:RegistrationName"/>
          </xsl:when>
          <xsl:otherwise>
            <xsl:value-of select="concat($party/cac:Person/cbc:FirstName, ' ', $party/cac:Person/cbc:FamilyName)"/>
          </xsl:otherwise>
        </xsl:choose>
      </strong>
      <xsl:for-each select="$party/cac:PostalAddress">
        <div>
          <xsl:value-of select="cbc:StreetName"/>
          <xsl:if test="cbc:BuildingNumber"><xsl:text> No:</xsl:text><xsl:value-of select="cbc:BuildingNumber"/></xsl:if>
        </div>
        <div>
          <xsl:value-of select="cbc:PostalZone"/><xsl:text> </xsl:text>
          <xsl:value-of select="cbc:CitySubdivisionName"/><xsl:text> / </xsl:text>
          <xsl:value-of select="cbc:CityName"/><xsl:text> </xsl:text>
          <xsl:value-of select="cac:Country/cbc:Name"/>
        </div>
      </xsl:for-each>
      <xsl:if test="$party/cac:Contact/cbc:Telephone"><div>Tel: <xsl:value-of select="$party/cac:Contact/cbc:Telephone"/></div></xsl:if>
      <xsl:if test="$party/cac:Contact/cbc:ElectronicMail"><div>E-Posta: <xsl:value-of select="$party/cac:Contact/cbc:ElectronicMail"/></div></xsl:if>
      <xsl:if test="$party/cac:PartyTaxScheme/cac:TaxScheme/cbc:Name"><div>Vergi Dairesi: <xsl:value-of select="$party/cac:PartyTaxScheme/cac:TaxScheme/cbc:Name"/></div></xsl:if>
      <xsl:for-each select="$party/cac:PartyIdentification/cbc:ID">
        <div><xsl:value-of select="@schemeID"/>: <xsl:value-of select="."/></div>
      </xsl:for-each>
    </div>
  </xsl:template>

  <xsl:template match="/inv:Invoice">
    <xsl:variable name="cur" select="cbc:DocumentCurrencyCode"/>
    <xsl:variable name="export" select="cbc:ProfileID = 'IHRACAT'"/>
    <html lang="tr">
      <head>
        <meta charset="UTF-8"/>
        <title><xsl:value-of select="cbc:ID"/></title>
        <style>
          @page { size: A4; margin: 12mm; }
          body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9pt; color: #000; margin: 0; }
          @media screen {
            html { background: #d9d9d9; }
            body { background: #fff; width: 210mm; min-height: 297mm; margin: 5mm auto; padding: 12mm; box-sizing: border-box; box-shadow: 0 0 2mm rgba(0, 0, 0, 0.3); }
          }
          .allowance { white-space: nowrap; }
          .top { display: flex; justify-content: space-between; align-items: flex-start; gap: 8mm; }
          .top > div { flex: 1; }
          .kind { text-align: center; }
          .kind h1 { font-size: 14pt; margin: 2mm 0; letter-spacing: 1px; }
          #karekod svg { width: 40mm; height: 40mm; display: block; margin: 0 auto; }
          .party { border-top: 1px solid #000; border-bottom: 1px solid #000; padding: 2mm 0; margin: 2mm 0; }
          table { border-collapse: collapse; width: 100%; }
          table.info td { border: 1px solid #000; padding: 1mm 2mm; }
          table.info td:first-child { font-weight: bold; white-space: nowrap; }
          table.lines { margin-top: 4mm; }
          table.lines th, table.lines td { border: 1px solid #000; padding: 1mm; }
          table.lines th { background: #eee; }
          td.num { text-align: right; white-space: nowrap; }
          table.totals { width: auto; margin: 3mm 0 0 auto; }
          table.totals td { border: 1px solid #000; padding: 1mm 2mm; }
          table.totals td:first-child { font-weight: bold; }
          .notes { margin-top: 4mm; border: 1px solid #000; padding: 2mm; }
          .ettn { margin-top: 2mm; }
          .iptal { border: 3px solid #c00; color: #c00; font-size: 20pt; font-weight: bold; text-align: center; padding: 2mm; margin: 2mm 0; }
        </style>
      </head>
      <body>
        <xsl:if test="$cancelled = '1'">
          <div class="iptal">İPTAL EDİLMİŞTİR</div>
        </xsl:if>
        <div class="top">
          <div>
            <xsl:call-template name="party">
              <xsl:with-param name="party" select="cac:AccountingSupplierParty/cac:Party"/>
            </xsl:call-template>
          </div>
          <div class="kind">
            <div id="karekod"/>
            <h1>
              <xsl:choose>
                <xsl:when test="cbc:ProfileID = 'EARSIVFATURA'">e-Arşiv Fatura</xsl:when>
                <xsl:otherwise>e-FATURA</xsl:otherwise>
              </xsl:choose>
            </h1>
          </div>
          <div>
            <table class="info">
              <tr><td>Özelleştirme No:</td><td><xsl:value-of select="cbc:CustomizationID"/></td></tr>
              <tr><td>Senaryo:</td><td><xsl:value-of select="cbc:ProfileID"/></td></tr>
              <tr><td>Fatura Tipi:</td><td><xsl:value-of select="cbc:InvoiceTypeCode"/></td></tr>
              <tr><td>Fatura No:</td><td><xsl:value-of select="cbc:ID"/></td></tr>
              <tr><td>Fatura Tarihi:</td><td><xsl:value-of select="concat(substring(cbc:IssueDate, 9, 2), '-', substring(cbc:IssueDate, 6, 2), '-', substring(cbc:IssueDate, 1, 4))"/><xsl:if test="cbc:IssueTime"><xsl:text> </xsl:text><xsl:value-of select="cbc:IssueTime"/></xsl:if></td></tr>
              <xsl:if test="$cur != 'TRY' and cac:PricingExchangeRate/cbc:CalculationRate">
                <tr><td>Döviz Kuru:</td><td>1 <xsl:value-of select="$cur"/> = <xsl:value-of select="format-number(cac:PricingExchangeRate/cbc:CalculationRate, '###.##0,000000', 'tr')"/> TL<xsl:if test="cac:PricingExchangeRate/cbc:Date"> (<xsl:value-of select="cac:PricingExchangeRate/cbc:Date"/>)</xsl:if></td></tr>
              </xsl:if>
              <xsl:if test="cac:Delivery/cac:DeliveryTerms/cbc:ID">
                <tr><td>Teslim Şartı:</td><td><xsl:value-of select="cac:Delivery/cac:DeliveryTerms/cbc:ID"/></td></tr>
              </xsl:if>
              <xsl:for-each select="cac:DespatchDocumentReference">
                <tr><td>İrsaliye No:</td><td><xsl:value-of select="cbc:ID"/> (<xsl:value-of select="cbc:IssueDate"/>)</td></tr>
              </xsl:for-each>
              <xsl:if test="cac:OrderReference">
                <tr><td>Sipariş No:</td><td><xsl:value-of select="cac:OrderReference/cbc:ID"/></td></tr>
              </xsl:if>
            </table>
          </div>
        </div>
        <div>
          <div><strong>SAYIN</strong></div>
          <xsl:call-template name="party">
            <xsl:with-param name="party" select="cac:AccountingCustomerParty/cac:Party"/>
          </xsl:call-template>
        </div>
        <xsl:if test="cac:BuyerCustomerParty/cac:Party">
          <div class="buyer">
            <div><strong>ALICI</strong></div>
            <xsl:call-template name="party">
              <xsl:with-param name="party" select="cac:BuyerCustomerParty/cac:Party"/>
            </xsl:call-template>
          </div>
        </xsl:if>
        <div class="ettn"><strong>ETTN:</strong><xsl:text> </xsl:text><xsl:value-of select="cbc:UUID"/></div>

        <table class="lines">
          <thead>
            <tr>
              <th>Sıra No</th><th>Mal Hizmet</th><th>Miktar</th><th>Birim Fiyat</th>
              <th>İskonto/Artırım</th><th>KDV Oranı</th><th>KDV Tutarı</th><th>Diğer Vergiler</th><th>Mal Hizmet Tutarı</th>
              <xsl:if test="$export"><th>Teslim Şartı</th><th>GTİP</th></xsl:if>
            </tr>
          </thead>
          <tbody>
            <xsl:for-each select="cac:InvoiceLine">
              <tr>
                <td class="num"><xsl:value-of select="cbc:ID"/></td>
                <td><xsl:value-of select="cac:Item/cbc:Name"/></td>
                <td class="num"><xsl:value-of select="format-number(cbc:InvoicedQuantity, '###.##0,########', 'tr')"/><xsl:text> </xsl:text><xsl:call-template name="unit"><xsl:with-param name="code" select="cbc:InvoicedQuantity/@unitCode"/></xsl:call-template></td>
                <td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cac:Price/cbc:PriceAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td>
                <td class="num">
                  <xsl:for-each select="cac:AllowanceCharge">
                    <div class="allowance">
                      <xsl:choose>
                        <xsl:when test="cbc:ChargeIndicator = 'true'">Artırım</xsl:when>
                        <xsl:otherwise>İskonto</xsl:otherwise>
                      </xsl:choose>
                      <xsl:if test="cbc:MultiplierFactorNumeric"> %<xsl:value-of select="format-number(cbc:MultiplierFactorNumeric * 100, '###.##0,##', 'tr')"/></xsl:if>
                      <xsl:if test="cbc:AllowanceChargeReason"> (<xsl:value-of select="cbc:AllowanceChargeReason"/>)</xsl:if>
                      <xsl:text>: </xsl:text>
                      <xsl:if test="cbc:ChargeIndicator != 'true'">-</xsl:if>
                      <xsl:call-template name="money"><xsl:with-param name="value" select="cbc:Amount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template>
                    </div>
                  </xsl:for-each>
                </td>
                <td class="num">%<xsl:value-of select="cac:TaxTotal/cac:TaxSubtotal[cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode = '0015']/cbc:Percent"/></td>
                <td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="sum(cac:TaxTotal/cac:TaxSubtotal[cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode = '0015']/cbc:TaxAmount)"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td>
                <td>
                  <xsl:for-each select="cac:TaxTotal/cac:TaxSubtotal[cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode != '0015'] | cac:WithholdingTaxTotal/cac:TaxSubtotal">
                    <div><xsl:value-of select="cac:TaxCategory/cac:TaxScheme/cbc:Name"/> (%<xsl:value-of select="cbc:Percent"/>) <xsl:value-of select="format-number(cbc:TaxAmount, '###.##0,00', 'tr')"/></div>
                  </xsl:for-each>
                </td>
                <td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cbc:LineExtensionAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td>
                <xsl:if test="$export">
                  <td><xsl:value-of select="cac:Delivery/cac:DeliveryTerms/cbc:ID"/></td>
                  <td><xsl:value-of select="cac:Delivery/cac:Shipment/cac:GoodsItem/cbc:RequiredCustomsID"/></td>
                </xsl:if>
              </tr>
            </xsl:for-each>
          </tbody>
        </table>

        <table class="totals">
          <tr><td>Mal Hizmet Toplam Tutarı</td><td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cac:LegalMonetaryTotal/cbc:LineExtensionAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td></tr>
          <xsl:if test="cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount">
            <tr><td>Toplam İskonto</td><td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cac:LegalMonetaryTotal/cbc:AllowanceTotalAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td></tr>
          </xsl:if>
          <xsl:for-each select="cac:TaxTotal/cac:TaxSubtotal">
            <tr>
              <td>Hesaplanan <xsl:value-of select="cac:TaxCategory/cac:TaxScheme/cbc:Name"/> (%<xsl:value-of select="cbc:Percent"/>)</td>
              <td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cbc:TaxAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td>
            </tr>
          </xsl:for-each>
          <xsl:for-each select="cac:WithholdingTaxTotal/cac:TaxSubtotal">
            <tr>
              <td>Tevkifat (<xsl:value-of select="cac:TaxCategory/cac:TaxScheme/cbc:TaxTypeCode"/>, %<xsl:value-of select="cbc:Percent"/>)</td>
              <td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cbc:TaxAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td>
            </tr>
          </xsl:for-each>
          <tr><td>Vergiler Dahil Toplam Tutar</td><td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td></tr>
          <tr><td>Ödenecek Tutar</td><td class="num"><xsl:call-template name="money"><xsl:with-param name="value" select="cac:LegalMonetaryTotal/cbc:PayableAmount"/><xsl:with-param name="currency" select="$cur"/></xsl:call-template></td></tr>
        </table>

        <div class="notes">
            <xsl:for-each select="cbc:Note"><div><xsl:value-of select="."/></div></xsl:for-each>
            <!-- the document's subtotals carry every exemption of its lines (GİB's rule), once -->
            <xsl:for-each select="cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory[cbc:TaxExemptionReasonCode or cbc:TaxExemptionReason]">
              <div class="exemption">Vergi İstisna Muafiyet Sebebi: <xsl:value-of select="cbc:TaxExemptionReasonCode"/><xsl:if test="cbc:TaxExemptionReason"> - <xsl:value-of select="cbc:TaxExemptionReason"/></xsl:if></div>
            </xsl:for-each>
            <xsl:for-each select="cac:PaymentMeans">
              <div>Ödeme: <xsl:value-of select="cbc:PaymentMeansCode"/>
                <xsl:if test="cbc:PaymentDueDate"> · Vade: <xsl:value-of select="cbc:PaymentDueDate"/></xsl:if>
                <xsl:if test="cac:PayeeFinancialAccount/cbc:ID"> · IBAN: <xsl:value-of select="cac:PayeeFinancialAccount/cbc:ID"/></xsl:if>
              </div>
            </xsl:for-each>
            <xsl:if test="cbc:ProfileID = 'EARSIVFATURA' and cac:AdditionalDocumentReference[cbc:DocumentTypeCode = 'SendingType']/cbc:DocumentType = 'ELEKTRONIK'">
              <div class="earsiv">e-Arşiv izni kapsamında elektronik ortamda iletilmiştir.</div>
            </xsl:if>
            <xsl:if test="not(cac:DespatchDocumentReference)">
              <div class="irsaliye">İrsaliye yerine geçer.</div>
            </xsl:if>
        </div>
        <!-- e-Arşiv internet sale (marked EArchiveType = INTERNET): the sentence the printout carries. -->
        <xsl:if test="cac:AdditionalDocumentReference[cbc:DocumentTypeCode = 'EArchiveType' and cbc:DocumentType = 'INTERNET']">
          <div class="notes internet-sale">Bu satış internet üzerinden yapılmıştır.</div>
        </xsl:if>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
