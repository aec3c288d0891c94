<?xml version="1.0" encoding="UTF-8"?>
<!--
  entegrator's e-İrsaliye views (XSLT 1.0), used when a document carries no stylesheet of its
  own: the despatch advice (e-İRSALİYE) and its answer (İRSALİYE YANITI).
  The layout follows GİB's standard e-İrsaliye views: the issuer top left, the document kind and
  QR code in the middle, the document's identity on the right, the addressee (SAYIN) and the other
  parties below, the shipment (drivers, plates, carrier), then the lines and the notes.
  The element with id "karekod" is filled by the renderer with the QR code (SVG).
-->
<xsl:stylesheet version="1.0"
    xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:da="urn:oasis:names:specification:ubl:schema:xsd:DespatchAdvice-2"
    xmlns:ra="urn:oasis:names:specification:ubl:schema:xsd:ReceiptAdvice-2"
    xmlns:cac="urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
    xmlns:cbc="urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
    exclude-result-prefixes="da ra cac cbc">
  <xsl:output method="html" encoding="UTF-8" indent="no" doctype-system="about:legacy-compat"/>
  <xsl:decimal-format name="tr" decimal-separator="," grouping-separator="."/>
  <!-- "1" when the caller knows the document is cancelled (the XML itself never says so). -->
  <xsl:param name="cancelled" select="''"/>

  <!-- Unit names as GİB's e-İrsaliye view writes them; other codes are shown as they are. -->
  <xsl:template name="unit">
    <xsl:param name="code"/>
    <xsl:choose>
      <xsl:when test="$code = 'C62' or $code = 'NIU'">Adet</xsl:when>
      <xsl:when test="$code = 'PR'">Çift</xsl:when>
      <xsl:when test="$code = 'SET'">Set</xsl:when>
      <xsl:when test="$code = 'PA'">Paket</xsl:when>
      <xsl:when test="$code = 'BX'">Kutu</xsl:when>
      <xsl:when test="$code = 'KGM'">kg</xsl:when>
      <xsl:when test="$code = 'GRM'">g</xsl:when>
      <xsl:when test="$code = 'TNE'">ton</xsl:when>
      <xsl:when test="$code = 'NT'">Net Ton</xsl:when>
      <xsl:when test="$code = 'GT'">Gross Ton</xsl:when>
      <xsl:when test="$code = 'LTR'">lt</xsl:when>
      <xsl:when test="$code = 'MTR'">m</xsl:when>
      <xsl:when test="$code = 'MMT'">mm</xsl:when>
      <xsl:when test="$code = 'CMT'">cm</xsl:when>
      <xsl:when test="$code = 'KTM'">km</xsl:when>
      <xsl:when test="$code = 'MTK'">m²</xsl:when>
      <xsl:when test="$code = 'MTQ'">m³</xsl:when>
      <xsl:when test="$code = 'KWH'">kWh</xsl:when>
      <xsl:when test="$code = 'HUR'">Saat</xsl:when>
      <xsl:when test="$code = 'DAY'">Gün</xsl:when>
      <xsl:when test="$code = 'MON'">Ay</xsl:when>
      <xsl:when test="$code = 'ANN'">Yıl</xsl:when>
      <xsl:otherwise><xsl:value-of select="$code"/></xsl:otherwise>
    </xsl:choose>
  </xsl:template>

  <xsl:template name="quantity">
    <xsl:param name="node"/>
    <xsl:if test="$node">
      <xsl:value-of select="format-number($node, '###.##0,########', 'tr')"/>
      <xsl:text> </xsl:text>
      <xsl:call-template name="unit"><xsl:with-param name="code" select="$node/@unitCode"/></xsl:call-template>
    </xsl:if>
  </xsl:template>

  <xsl:template name="date">
    <xsl:param name="value"/>
    <xsl:value-of select="concat(substring($value, 9, 2), '-', substring($value, 6, 2), '-', substring($value, 1, 4))"/>
  </xsl:template>

  <xsl:template name="party-name">
    <xsl:param name="party"/>
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
  </xsl:template>

  <xsl:template name="address">
    <xsl:param name="address"/>
    <div>
      <xsl:value-of select="$address/cbc:StreetName"/>
      <xsl:if test="$address/cbc:BuildingNumber"><xsl:text> No:</xsl:text><xsl:value-of select="$address/cbc:BuildingNumber"/></xsl:if>
    </div>
    <div>
      <xsl:value-of select="$address/cbc:PostalZone"/><xsl:text> </xsl:text>
      <xsl:value-of select="$address/cbc:CitySubdivisionName"/><xsl:text> / </xsl:text>
      <xsl:value-of select="$address/cbc:CityName"/><xsl:text> </xsl:text>
      <xsl:value-of select="$address/cac:Country/cbc:Name"/>
    </div>
  </xsl:template>

  <xsl:template name="party">
    <xsl:param name="party"/>
    <xsl:param name="title" select="''"/>
    <div class="party">
      <xsl:if test="$title != ''"><div class="role"><xsl:value-of select="$title"/></div></xsl:if>
      <strong><xsl:call-template name="party-name"><xsl:with-param name="party" select="$party"/></xsl:call-template></strong>
      <xsl:for-each select="$party/cac:PostalAddress">
        <xsl:call-template name="address"><xsl:with-param name="address" select="."/></xsl:call-template>
      </xsl:for-each>
      <xsl:if test="$party/cac:Contact/cbc:Telephone"><div>Tel: <xsl:value-of select="$party/cac:Contact/cbc:Telephone"/></div></xsl:if>
      <xsl:if test="$party/cac:Contact/cbc:ElectronicMail"><div>E-Posta: <xsl:value-of select="$party/cac:Contact/cbc:ElectronicMail"/></div></xsl:if>
      <xsl:if test="$party/cac:PartyTaxScheme/cac:TaxScheme/cbc:Name"><div>Vergi Dairesi: <xsl:value-of select="$party/cac:PartyTaxScheme/cac:TaxScheme/cbc:Name"/></div></xsl:if>
      <xsl:for-each select="$party/cac:PartyIdentification/cbc:ID">
        <div><xsl:value-of select="@schemeID"/>: <xsl:value-of select="."/></div>
      </xsl:for-each>
    </div>
  </xsl:template>

  <xsl:template name="style">
    <style>
      @page { size: A4; margin: 12mm; }
      body { font-family: "DejaVu Sans", Arial, sans-serif; font-size: 9pt; color: #000; margin: 0; }
      @media screen {
        html { background: #d9d9d9; }
        body { background: #fff; width: 210mm; min-height: 297mm; margin: 5mm auto; padding: 12mm; box-sizing: border-box; box-shadow: 0 0 2mm rgba(0, 0, 0, 0.3); }
      }
      .top { display: flex; justify-content: space-between; align-items: flex-start; gap: 8mm; }
      .top > div { flex: 1; }
      .kind { text-align: center; }
      .kind h1 { font-size: 14pt; margin: 2mm 0; letter-spacing: 1px; }
      #karekod svg { width: 40mm; height: 40mm; display: block; margin: 0 auto; }
      .party { border-top: 1px solid #000; border-bottom: 1px solid #000; padding: 2mm 0; margin: 2mm 0; }
      .role { font-weight: bold; }
      .parties { display: flex; gap: 6mm; }
      .parties > div { flex: 1; }
      table { border-collapse: collapse; width: 100%; }
      table.info td { border: 1px solid #000; padding: 1mm 2mm; }
      table.info td:first-child { font-weight: bold; white-space: nowrap; }
      .shipment { margin-top: 3mm; border: 1px solid #000; padding: 2mm; }
      .shipment h2 { font-size: 10pt; margin: 0 0 1mm 0; }
      table.lines { margin-top: 4mm; }
      table.lines th, table.lines td { border: 1px solid #000; padding: 1mm; vertical-align: top; }
      table.lines th { background: #eee; }
      td.num { text-align: right; white-space: nowrap; }
      .detail { font-size: 8pt; }
      .notes { margin-top: 4mm; border: 1px solid #000; padding: 2mm; }
      .ettn { margin-top: 2mm; }
      .iptal { border: 3px solid #c00; color: #c00; font-size: 20pt; font-weight: bold; text-align: center; padding: 2mm; margin: 2mm 0; }
    </style>
  </xsl:template>

  <!-- The despatch advice: e-İRSALİYE. -->
  <xsl:template match="/da:DespatchAdvice">
    <xsl:variable name="shipment" select="cac:Shipment"/>
    <html lang="tr">
      <head>
        <meta charset="UTF-8"/>
        <title><xsl:value-of select="cbc:ID"/></title>
        <xsl:call-template name="style"/>
      </head>
      <body>
        <xsl:if test="$cancelled = '1'">
          <div class="iptal">İPTAL EDİLMİŞTİR</div>
        </xsl:if>
        <div class="top">
          <div>
            <xsl:call-template name="party">
              <xsl:with-param name="party" select="cac:DespatchSupplierParty/cac:Party"/>
            </xsl:call-template>
            <xsl:if test="cac:DespatchSupplierParty/cac:DespatchContact/cbc:Name">
              <div class="contact">Teslim Eden: <xsl:value-of select="cac:DespatchSupplierParty/cac:DespatchContact/cbc:Name"/></div>
            </xsl:if>
          </div>
          <div class="kind">
            <div id="karekod"/>
            <h1>e-İRSALİYE</h1>
          </div>
          <div>
            <table class="info">
              <tr><td>Özelleştirme No:</td><td><xsl:value-of select="cbc:CustomizationID"/></td></tr>
              <tr><td>Senaryo:</td><td><xsl:value-of select="cbc:ProfileID"/></td></tr>
              <tr><td>İrsaliye Tipi:</td><td><xsl:value-of select="cbc:DespatchAdviceTypeCode"/></td></tr>
              <tr><td>İrsaliye No:</td><td><xsl:value-of select="cbc:ID"/></td></tr>
              <tr><td>İrsaliye Tarihi:</td><td><xsl:call-template name="date"><xsl:with-param name="value" select="cbc:IssueDate"/></xsl:call-template><xsl:if test="cbc:IssueTime"><xsl:text> </xsl:text><xsl:value-of select="cbc:IssueTime"/></xsl:if></td></tr>
              <xsl:for-each select="$shipment/cac:Delivery/cac:Despatch">
                <tr><td>Fiili Sevk Tarihi:</td><td><xsl:call-template name="date"><xsl:with-param name="value" select="cbc:ActualDespatchDate"/></xsl:call-template></td></tr>
                <tr><td>Fiili Sevk Zamanı:</td><td><xsl:value-of select="cbc:ActualDespatchTime"/></td></tr>
              </xsl:for-each>
              <xsl:for-each select="cac:OrderReference">
                <tr><td>Sipariş No:</td><td><xsl:value-of select="cbc:ID"/></td></tr>
                <tr><td>Sipariş Tarihi:</td><td><xsl:call-template name="date"><xsl:with-param name="value" select="cbc:IssueDate"/></xsl:call-template></td></tr>
              </xsl:for-each>
              <xsl:for-each select="cac:AdditionalDocumentReference[cbc:DocumentType = 'MATBU']">
                <tr><td>Matbu Belge No:</td><td><xsl:value-of select="cbc:ID"/> (<xsl:call-template name="date"><xsl:with-param name="value" select="cbc:IssueDate"/></xsl:call-template>)</td></tr>
              </xsl:for-each>
            </table>
          </div>
        </div>
        <div>
          <div><strong>SAYIN</strong></div>
          <xsl:call-template name="party">
            <xsl:with-param name="party" select="cac:DeliveryCustomerParty/cac:Party"/>
          </xsl:call-template>
        </div>
        <xsl:if test="cac:BuyerCustomerParty/cac:Party or cac:SellerSupplierParty/cac:Party or cac:OriginatorCustomerParty/cac:Party">
          <div class="parties">
            <xsl:if test="cac:BuyerCustomerParty/cac:Party">
              <div class="buyer"><xsl:call-template name="party"><xsl:with-param name="party" select="cac:BuyerCustomerParty/cac:Party"/><xsl:with-param name="title" select="'Asıl Alıcı'"/></xsl:call-template></div>
            </xsl:if>
            <xsl:if test="cac:SellerSupplierParty/cac:Party">
              <div class="seller"><xsl:call-template name="party"><xsl:with-param name="party" select="cac:SellerSupplierParty/cac:Party"/><xsl:with-param name="title" select="'Asıl Satıcı'"/></xsl:call-template></div>
            </xsl:if>
            <xsl:if test="cac:OriginatorCustomerParty/cac:Party">
              <div class="originator"><xsl:call-template name="party"><xsl:with-param name="party" select="cac:OriginatorCustomerParty/cac:Party"/><xsl:with-param name="title" select="'Siparişi Veren'"/></xsl:call-template></div>
            </xsl:if>
          </div>
        </xsl:if>
        <div class="ettn"><strong>ETTN:</strong><xsl:text> </xsl:text><xsl:value-of select="cbc:UUID"/></div>

        <div class="shipment">
          <h2>Taşıyıcı Bilgileri</h2>
          <xsl:for-each select="$shipment/cac:ShipmentStage/cac:DriverPerson">
            <div class="driver">Şoför: <xsl:value-of select="concat(cbc:FirstName, ' ', cbc:FamilyName)"/>, TCKN: <xsl:value-of select="cbc:NationalityID"/><xsl:if test="cbc:Title"> (<xsl:value-of select="cbc:Title"/>)</xsl:if></div>
          </xsl:for-each>
          <xsl:for-each select="$shipment/cac:ShipmentStage/cac:TransportMeans/cac:RoadTransport/cbc:LicensePlateID">
            <div class="plate">Araç plaka numarası: <xsl:value-of select="."/></div>
          </xsl:for-each>
          <xsl:for-each select="$shipment/cac:TransportHandlingUnit/cac:TransportEquipment/cbc:ID">
            <div class="trailer">Dorse plaka numarası: <xsl:value-of select="."/></div>
          </xsl:for-each>
          <xsl:for-each select="$shipment/cac:Delivery/cac:CarrierParty">
            <div class="carrier">Taşıyıcı Firma: <xsl:call-template name="party-name"><xsl:with-param name="party" select="."/></xsl:call-template>
              <xsl:for-each select="cac:PartyIdentification/cbc:ID[@schemeID = 'VKN' or @schemeID = 'TCKN']">, <xsl:value-of select="@schemeID"/>: <xsl:value-of select="."/></xsl:for-each>
            </div>
          </xsl:for-each>
          <xsl:for-each select="$shipment/cac:Delivery/cac:DeliveryAddress">
            <div class="delivery-address"><strong>Teslimat Adresi:</strong>
              <xsl:call-template name="address"><xsl:with-param name="address" select="."/></xsl:call-template>
            </div>
          </xsl:for-each>
          <xsl:for-each select="$shipment/cac:GoodsItem/cbc:ValueAmount">
            <div class="goods-value">Malların Değeri: <xsl:value-of select="format-number(., '###.##0,00', 'tr')"/><xsl:text> </xsl:text><xsl:choose><xsl:when test="@currencyID = 'TRY'">TL</xsl:when><xsl:otherwise><xsl:value-of select="@currencyID"/></xsl:otherwise></xsl:choose></div>
          </xsl:for-each>
        </div>

        <table class="lines">
          <thead>
            <tr><th>Sıra No</th><th>Mal</th><th>Miktar</th><th>Sonra Gönderilecek Miktar</th><th>Açıklama</th></tr>
          </thead>
          <tbody>
            <xsl:for-each select="cac:DespatchLine">
              <tr>
                <td class="num"><xsl:value-of select="cbc:ID"/></td>
                <td>
                  <xsl:value-of select="cac:Item/cbc:Name"/>
                  <xsl:for-each select="cac:Item/cbc:BrandName | cac:Item/cbc:ModelName"><xsl:text> </xsl:text><xsl:value-of select="."/></xsl:for-each>
                  <xsl:for-each select="cac:Item/cac:SellersItemIdentification/cbc:ID"><div class="detail">Satıcı Kodu: <xsl:value-of select="."/></div></xsl:for-each>
                  <xsl:for-each select="cac:Item/cac:BuyersItemIdentification/cbc:ID"><div class="detail">Alıcı Kodu: <xsl:value-of select="."/></div></xsl:for-each>
                  <xsl:for-each select="cac:Item/cac:AdditionalItemIdentification/cbc:ID">
                    <div class="detail">
                      <xsl:choose>
                        <xsl:when test="@schemeID = 'KUNYENO'">Künye Numarası</xsl:when>
                        <xsl:when test="@schemeID = 'ETIKETNO'">Etiket Numarası</xsl:when>
                        <xsl:otherwise><xsl:value-of select="@schemeID"/></xsl:otherwise>
                      </xsl:choose>: <xsl:value-of select="."/>
                    </div>
                  </xsl:for-each>
                </td>
                <td class="num"><xsl:call-template name="quantity"><xsl:with-param name="node" select="cbc:DeliveredQuantity"/></xsl:call-template></td>
                <td class="num"><xsl:call-template name="quantity"><xsl:with-param name="node" select="cbc:OutstandingQuantity"/></xsl:call-template></td>
                <td>
                  <xsl:for-each select="cbc:OutstandingReason"><div><xsl:value-of select="."/></div></xsl:for-each>
                  <xsl:for-each select="cbc:Note | cac:Item/cbc:Description"><div><xsl:value-of select="."/></div></xsl:for-each>
                </td>
              </tr>
            </xsl:for-each>
          </tbody>
        </table>

        <xsl:if test="cbc:Note">
          <div class="notes">
            <xsl:for-each select="cbc:Note"><div><xsl:value-of select="."/></div></xsl:for-each>
          </div>
        </xsl:if>
      </body>
    </html>
  </xsl:template>

  <!-- The receipt advice: İRSALİYE YANITI, issued by the receiver of the goods. -->
  <xsl:template match="/ra:ReceiptAdvice">
    <html lang="tr">
      <head>
        <meta charset="UTF-8"/>
        <title><xsl:value-of select="cbc:ID"/></title>
        <xsl:call-template name="style"/>
      </head>
      <body>
        <xsl:if test="$cancelled = '1'">
          <div class="iptal">İPTAL EDİLMİŞTİR</div>
        </xsl:if>
        <div class="top">
          <div>
            <xsl:call-template name="party">
              <xsl:with-param name="party" select="cac:DeliveryCustomerParty/cac:Party"/>
              <xsl:with-param name="title" select="'Teslim Alan'"/>
            </xsl:call-template>
          </div>
          <div class="kind">
            <div id="karekod"/>
            <h1>İRSALİYE YANITI</h1>
          </div>
          <div>
            <table class="info">
              <tr><td>Özelleştirme No:</td><td><xsl:value-of select="cbc:CustomizationID"/></td></tr>
              <tr><td>Senaryo:</td><td><xsl:value-of select="cbc:ProfileID"/></td></tr>
              <tr><td>İrsaliye Yanıtı Tipi:</td><td><xsl:value-of select="cbc:ReceiptAdviceTypeCode"/></td></tr>
              <tr><td>İrsaliye Yanıtı No:</td><td><xsl:value-of select="cbc:ID"/></td></tr>
              <tr><td>İrsaliye Yanıtı Tarihi:</td><td><xsl:call-template name="date"><xsl:with-param name="value" select="cbc:IssueDate"/></xsl:call-template><xsl:if test="cbc:IssueTime"><xsl:text> </xsl:text><xsl:value-of select="cbc:IssueTime"/></xsl:if></td></tr>
              <xsl:for-each select="cac:AdditionalDocumentReference[cbc:DocumentTypeCode = 'DespatchAdviceID']">
                <tr><td>İrsaliye No:</td><td><xsl:value-of select="cbc:ID"/></td></tr>
              </xsl:for-each>
              <xsl:for-each select="cac:DespatchDocumentReference">
                <tr><td>İrsaliye ETTN:</td><td class="despatch-ref"><xsl:value-of select="cbc:ID"/></td></tr>
                <tr><td>İrsaliye Tarihi:</td><td><xsl:call-template name="date"><xsl:with-param name="value" select="cbc:IssueDate"/></xsl:call-template></td></tr>
              </xsl:for-each>
              <xsl:for-each select="cac:Shipment/cac:Delivery/cbc:ActualDeliveryDate">
                <tr><td>Fiili Teslim Tarihi:</td><td><xsl:call-template name="date"><xsl:with-param name="value" select="."/></xsl:call-template><xsl:for-each select="../cbc:ActualDeliveryTime"><xsl:text> </xsl:text><xsl:value-of select="."/></xsl:for-each></td></tr>
              </xsl:for-each>
            </table>
          </div>
        </div>
        <div>
          <div><strong>SAYIN</strong></div>
          <xsl:call-template name="party">
            <xsl:with-param name="party" select="cac:DespatchSupplierParty/cac:Party"/>
            <xsl:with-param name="title" select="'Teslim Eden'"/>
          </xsl:call-template>
        </div>
        <xsl:if test="cac:BuyerCustomerParty/cac:Party or cac:SellerSupplierParty/cac:Party">
          <div class="parties">
            <xsl:if test="cac:BuyerCustomerParty/cac:Party">
              <div class="buyer"><xsl:call-template name="party"><xsl:with-param name="party" select="cac:BuyerCustomerParty/cac:Party"/><xsl:with-param name="title" select="'Asıl Alıcı'"/></xsl:call-template></div>
            </xsl:if>
            <xsl:if test="cac:SellerSupplierParty/cac:Party">
              <div class="seller"><xsl:call-template name="party"><xsl:with-param name="party" select="cac:SellerSupplierParty/cac:Party"/><xsl:with-param name="title" select="'Asıl Satıcı'"/></xsl:call-template></div>
            </xsl:if>
          </div>
        </xsl:if>
        <div class="ettn"><strong>ETTN:</strong><xsl:text> </xsl:text><xsl:value-of select="cbc:UUID"/></div>

        <table class="lines">
          <thead>
            <tr>
              <th>Sıra No</th><th>Mal</th><th>İrsaliye Satırı</th><th>Kabul Edilen Miktar</th>
              <th>Kabul Edilmeyen Miktar</th><th>Red Nedeni</th><th>Eksik Miktar</th><th>Fazla Miktar</th>
              <th>Şikayet</th>
            </tr>
          </thead>
          <tbody>
            <xsl:for-each select="cac:ReceiptLine">
              <tr>
                <td class="num"><xsl:value-of select="cbc:ID"/></td>
                <td>
                  <xsl:value-of select="cac:Item/cbc:Name"/>
                  <xsl:for-each select="cac:Item/cac:SellersItemIdentification/cbc:ID"><div class="detail">Satıcı Kodu: <xsl:value-of select="."/></div></xsl:for-each>
                </td>
                <td class="num"><xsl:value-of select="cac:DespatchLineReference/cbc:LineID"/></td>
                <td class="num"><xsl:call-template name="quantity"><xsl:with-param name="node" select="cbc:ReceivedQuantity"/></xsl:call-template></td>
                <td class="num"><xsl:call-template name="quantity"><xsl:with-param name="node" select="cbc:RejectedQuantity"/></xsl:call-template></td>
                <td><xsl:for-each select="cbc:RejectReason"><div><xsl:value-of select="."/></div></xsl:for-each></td>
                <td class="num"><xsl:call-template name="quantity"><xsl:with-param name="node" select="cbc:ShortQuantity"/></xsl:call-template></td>
                <td class="num"><xsl:call-template name="quantity"><xsl:with-param name="node" select="cbc:OversupplyQuantity"/></xsl:call-template></td>
                <td><xsl:for-each select="cbc:TimingComplaint"><div><xsl:value-of select="."/></div></xsl:for-each></td>
              </tr>
            </xsl:for-each>
          </tbody>
        </table>

        <xsl:if test="cbc:Note">
          <div class="notes">
            <xsl:for-each select="cbc:Note"><div><xsl:value-of select="."/></div></xsl:for-each>
          </div>
        </xsl:if>
      </body>
    </html>
  </xsl:template>
</xsl:stylesheet>
