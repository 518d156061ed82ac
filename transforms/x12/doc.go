// Package x12 translates X12 orders into canonical orders
// (paklog.order.v1): the 850 purchase order a retailer sends and the 940
// warehouse shipping order a depositor sends its 3PL; their changes and
// cancellations (860, cancelling 940) into order changes and
// paklog.order_cancel.v1; and canonical
// messages into the sets a 3PL sends back (see "Outbound sets"): the 856
// ship notice and 945 shipping advice from a ship confirm, the 855
// acknowledgment of an order, and the 846 inventory advice, which is also
// read (InventoryFrom846).
//
// It works on a *x12.TransactionSet read by the edi/x12 Decoder, is a pure
// function of the set, its Envelope and the partner's Options, and does
// not log. OrderFrom850 and OrderFrom940 return the order with order_id
// and source.received_at empty, for the intake to fill; the order has been
// checked against paklog.order.v1 with placeholders in their place.
//
// # Errors
//
// A set that cannot become a good order returns the zero Order and an
// edi/x12 ErrorList holding every problem found, each a *MappingError that
// names the segment, its position, the element, the value and the rule
// (a sentinel such as ErrNotNumber, for errors.Is):
//
//	line 14, PO1 (segment 9 of set 0001): PO102 quantity "x" is not a number
//	line 4, W05 (segment 2 of set 20066): shipping order "35131" has no ship-to: no N1 loop with N101 "ST"
//	line 7, N4 (segment 5 of set 0001): N404 ship_to.country: must match ^[A-Z]{2}$ (ISO 3166-1 alpha-2), got "U5"
//
// Problems of the built order against paklog.order.v1 (ErrInvalidOrder)
// are located at the segment the field came from: ship_to.city at the
// ship-to loop's N4, lines[2].sku at the third PO1.
//
// Changes and cancellations are refused, not translated (ErrPurpose): BEG01
// must be one of Options.OrderPurposes (default "00" original), W0501 one
// of Options.OrderStatuses (default "N"); ChangeFrom860 and CancelFrom940
// translate them (see "Changes and cancellations"). One order has one ship-to: a
// ship-to inside a PO1 loop, an SDQ or a second header ship-to is
// ErrUnsupported.
//
// # 850 purchase order
//
//	X12                                   canonical
//	BEG01 purpose                         must be in Options.OrderPurposes
//	BEG02 PO type                         attributes.po_type
//	BEG03 PO number                       order_number, purchase_order, source.external_id
//	BEG04 release number                  attributes.release_number
//	BEG05 PO date (CCYYMMDD or YYMMDD)    order_date
//	BEG06 contract number                 attributes.contract_number
//	CUR02 currency                        currency, lines[].unit_price.currency
//	                                      (default Options.DefaultCurrency when a line has a price)
//	REF01/REF02 (or REF03)                attributes.ref_<ref01 lower case>
//	PER (header) TE/EM, PER02             customer.phone/email, attributes.buyer_contact
//	DTM 010, else 037 (ShipDateQualifiers)       shipping.requested_ship_date
//	DTM 002 (DeliveryDateQualifiers)             shipping.requested_delivery_date
//	DTM other qualifiers                  attributes.dtm_<qualifier>; DTM05 "D8" reads DTM06
//	TD502 "2" + TD503                     shipping.scac; shipping.carrier via Options.Carriers
//	TD502 other + TD503                   attributes.carrier_id ("92:P3"), not a SCAC
//	TD504 transportation method           attributes.transport_method; service level rule 3
//	TD505 routing                         shipping.method; service level rule 2
//	TD512 service level code              attributes.service_code; service level rule 1;
//	                                      shipping.method when TD505 is empty
//	MSG01, NTE02                          notes (one a line; in a PO1 loop "line <n>: " first)
//	N1 loop (N1 N2 N3 N4 PER), N101 =
//	  ShipToEntity (ST)                   ship_to
//	  BillToEntity (BT)                   bill_to
//	  CustomerEntity (BY)                 customer.name, phone, email
//	  other                               attributes.party_<n101>_name
//	N102                                  name
//	N201 N202                             company
//	N301, N302 and further N3             address1, address2 (joined by ", ")
//	N401 N402 N403                        city, region, postal_code
//	N404                                  country (USA, CAN, MEX… to alpha-2; default Options.DefaultCountry)
//	PER TE / EM                           phone / email; PER02 of the ship-to: attributes.ship_to_contact
//	N104                                  attributes.party_<n101>_id
//	PO101                                 lines[].line_number (default: 1, 2, 3… by PO1)
//	PO102                                 lines[].quantity (> 0)
//	PO103                                 lines[].uom (default EA)
//	PO104                                 lines[].unit_price.amount (".5" becomes "0.5")
//	PO106/PO107 … PO124/PO125             lines[].sku by Options.SKUPrecedence, and
//	  VP VN VC                            lines[].vendor_item
//	  BP IN CB                            lines[].buyer_item (unless Options.OmitBuyerItems)
//	  UP UA                               lines[].upc
//	  UK EN                               lines[].gtin
//	PID05 where PID01 = "F"               lines[].description (several joined by a space)
//	(intake)                              order_id, source.received_at
//	(constant)                            source.channel "edi", source.document "850"
//
// # 940 warehouse shipping order
//
//	X12                                   canonical
//	W0501 order status                    must be in Options.OrderStatuses
//	W0502 depositor order number          order_number, source.external_id
//	W0503 PO number                       purchase_order
//	W0504 reference                       attributes.reference_id
//	N1 loop (N1 N2 N3 N4 G61)             as in the 850; G61 TE/EM for PER
//	N9 (header)                           attributes.ref_<n901 lower case>
//	G62 04                                order_date
//	G62 10 (G62ShipDateQualifiers)        shipping.requested_ship_date
//	G62 02 (G62DeliveryDateQualifiers)    shipping.requested_delivery_date
//	G62 other qualifiers                  attributes.g62_<qualifier>
//	NTE02                                 notes
//	W6601 shipment method of payment      attributes.freight_payment (not a service level)
//	W6602 transportation method           attributes.transport_method; service level rule 3
//	W6605 routing                         shipping.method; service level rule 2
//	W6610 SCAC                            shipping.scac; shipping.carrier via Options.Carriers
//	LX01                                  lines[].line_number ("5", then "5-2"… for more
//	                                      W01 in one LX loop; without LX: 1, 2, 3…)
//	W0101                                 lines[].quantity (> 0)
//	W0102                                 lines[].uom
//	W0103 U.P.C. case code                lines[].upc when no UP/UA pair; counts as UA for the SKU
//	W0104/W0105, W0106/W0107, W0115/W0116 product ID pairs, as PO106… in the 850
//	G69                                   lines[].description
//	(constant)                            source.channel "edi", source.document "940"
//
// W20 (pack, weights), W76 (totals), W0113 (lot) and line-level N9 and G62
// are not mapped: the canonical order has no place for them.
//
// Every order also carries the envelope in its attributes: x12_sender_id
// and x12_receiver_id ("ZZ:ACME", ISA05:ISA06 and ISA07:ISA08), x12_isa13,
// x12_gs06 and x12_st02.
//
// # Changes and cancellations
//
// ChangeFrom860 reads an 860 purchase order change into an OrderChange;
// CancelFrom940 a cancelling 940 into a paklog.order_cancel.v1 message.
// Both leave order_id and source.received_at for the hub, which finds the
// order by source channel, partner and external_id: BCH03 is the BEG03 and
// W0502 the W0502 that OrderFrom850 and OrderFrom940 made the order's
// external_id. A cancel is checked against paklog.order_cancel.v1 with
// placeholders (ErrInvalidCancel).
//
//	860 (X12)                             OrderChange
//	BCH01 in Options.CancelPurposes (01)  cancel: the whole order; POC and other
//	                                      segments are ignored
//	BCH01 in Options.ChangePurposes (04)  lines: one LineChange per POC; when every
//	                                      POC is a cancel, cancel with those lines
//	BCH01 other (00, 05 replace, 06…)     ErrPurpose
//	BCH02, BCH04, BCH08                   attributes.po_type, release_number, contract_number
//	BCH03 PO number                       order_number, purchase_order, source.external_id,
//	                                      cancel.order_number
//	BCH05 change order sequence           change_sequence
//	BCH06, BCH11                          order_date, change_date
//	CUR02                                 currency (default Options.DefaultCurrency with a price)
//	REF, DTM (other qualifiers)           attributes.ref_<ref01>, attributes.dtm_<dtm01>
//	MSG01, NTE02                          notes; cancel.reason after the fixed text
//	POC01                                 lines[].line.line_number (required: the PO101)
//	POC02 via Options.ChangeTypes         lines[].action, lines[].change_code:
//	  AI                                  add (POC03 and a SKU required)
//	  DI                                  cancel
//	  QI / QD                             quantity_increase / quantity_decrease (POC03
//	                                      required; QD to 0 is a cancel)
//	  PC                                  price_change (POC06 required)
//	  PQ                                  price_quantity_change (POC03, POC06 required)
//	  CA                                  change (the values given)
//	  NC                                  no_change
//	  other (CF, CT, RS, RQ, RZ…)         ErrChangeType
//	POC03 quantity ordered                lines[].line.quantity: the line's new quantity
//	POC04 quantity left to receive        lines[].quantity_left_to_receive
//	POC05 unit                            lines[].line.uom (EA with a quantity)
//	POC06 unit price                      lines[].line.unit_price
//	POC08/POC09 … POC26/POC27             lines[].line sku, vendor_item, buyer_item, upc,
//	                                      gtin, as PO106… in the 850
//	PID05 where PID01 = "F"               lines[].line.description
//	(constant)                            source.channel "edi", source.document "860"
//
// An 860 change carries line changes only. A header N1 loop (ship-to,
// bill-to, buyer), TD5, DTM with a requested ship or delivery qualifier,
// SDQ, and an N1 inside a POC loop are ErrUnsupported, named by their
// segment, unless Options.ChangeIgnoredSegments lists them (for partners
// that repeat the order's header unchanged). Line-level DTM, SCH and the
// other segments are ignored, as in the 850.
//
//	940 (X12)                             OrderCancel (CancelFrom940)
//	W0501 in Options.CancelStatuses (F)   otherwise ErrPurpose
//	W0502 depositor order number          order_number, source.external_id
//	NTE02                                 reason, after the fixed text
//	no W01, or Options.CancelWholeOrder   no lines: the whole order
//	LX01 / W01 position                   lines[].line_number, numbered as OrderFrom940
//	W0101                                 lines[].quantity (empty: the whole line)
//	W0103-W0107, W0115/W0116              lines[].sku by Options.SKUPrecedence
//	(constant)                            source.channel "edi", source.document "940"
//
// # Service levels
//
// The first rule that matches decides, keys compared upper case with runs
// of spaces collapsed: (1) ServiceLevelRules.ServiceCodes on TD512,
// (2) Routing on TD505/W6605, (3) TransportMethods on TD504/W6602.
// Nothing matching leaves the level empty: the fulfilment core applies the
// partner's default. DefaultServiceLevels lists the defaults (CG ground,
// ND next_day, SE two_day, "UPS GROUND", H pickup, LT freight, …); a
// partner's entries are merged over them.
//
// # Dates
//
// DT elements are CCYYMMDD; six-digit YYMMDD dates of versions before
// 004010 are read with years 00-49 as 20YY and 50-99 as 19YY. The
// requested ship date is the DTM 010 (requested ship) or, without it, the
// DTM 037 (ship not before): the earliest date the warehouse may ship.
// DTM 038 (ship no later than) is a deadline, not a request: it is kept as
// attributes.dtm_038. In the 940, G62 10 is the requested ship (pick-up)
// date and G62 02 the requested delivery date.
//
// # Outbound sets
//
// WriteASN856, WriteShipAdvice945, WriteOrderAck855 and WriteInventory846
// write one version 004010 transaction set into an edi/x12 Writer whose
// interchange and group the caller has opened (GS01 by FunctionalID: SH,
// SW, PR, IB) and closes: control numbers are the caller's, who keeps the
// partner's gap-free sequences; ST02 is the setControl argument, SE01 is
// counted by the Writer. They are pure functions of their inputs and
// OutboundOptions: the document time is OutboundOptions.Now (never the
// system clock), dates and times are written in OutboundOptions.Location
// (default UTC). The input is checked before anything is written: its
// problems come back together as an edi/x12 ErrorList of *OutputError
// (sentinels ErrNoClock, ErrUnknownLine, ErrNoPackages, ErrMissingElement,
// ErrNoLines, ErrQuantity), and a value holding a delimiter is refused
// (ErrDelimiterInData) with nothing written.
//
// Shipped quantities: a ship confirm's packages[].lines say what is in each
// package, found in the order by line_number (else by sku). When no
// package lists its lines, the one package holds every line at its ordered
// quantity, less what lines_short says was short (several packages without
// contents: ErrNoPackages). A line of lines_short is short; its
// quantity_ordered wins over the order's quantity.
//
// # 856 ship notice (hierarchical structure 0001: shipment, order, pack, item)
//
//	X12                               canonical / OutboundOptions
//	BSN01 "00" original
//	BSN02 shipment ID                 ship_confirm.shipment_id
//	BSN03/BSN04 date, time            Now
//	BSN05 "0001"
//	HL S (HL01 1, no parent)
//	  TD101 packaging code            PackagingCode (default CTN25)
//	  TD102 lading quantity           number of packages
//	  TD106 "G", TD107, TD108         sum of Packages[].Weight when every package has one
//	                                  (one unit, or converted to LB when they differ)
//	  TD501 "B", TD502 "2", TD503     SCAC of ship_confirm.carrier: SCACs (over DefaultSCACs),
//	                                  else order shipping.scac, else the carrier if 2-4 letters
//	  TD504 transport method          order attributes.transport_method, else TransportMethod (U)
//	  TD505 routing                   ship_confirm.service (carrier + service without a SCAC)
//	  REF BM                          BillOfLading, if given
//	  REF CN                          packages[0].tracking_number
//	  DTM 011 date, time              shipped_at
//	  N1 ST loop (N1 N2 N3 N4)        order ship_to; N103 ShipToIDQualifier (92) and
//	                                  N104 attributes.party_st_id (the partner's store number)
//	  N1 SF loop                      Warehouse (N101 ShipFromEntity), if given
//	HL O (parent: the S)
//	  PRF01, PRF04                    purchase_order (else order_number), order_date
//	HL P per package (parent: the O)
//	  MAN GM                          Packages[package_id or tracking_number].SSCC
//	  MAN CP                          tracking_number, without an SSCC
//	HL I per package line (parent: its P)
//	  LIN01                           the order line's line_number
//	  LIN VP / BP / UP                vendor_item / buyer_item / upc; SK sku when none
//	  SN102, SN103                    quantity in the package, the line's uom (EA)
//	  SN105, SN106 (short lines)      quantity ordered, uom
//	  SN108 (short lines)             ShortLineStatus, if set (e.g. BP)
//	CTT01                             number of HL segments
//
// HL04 is 1 for an HL with children, 0 for the items. A line that shipped
// nothing has no HL I. PO4 is not written: the canonical messages have no
// pack size.
//
// # 945 warehouse shipping advice
//
//	X12                               canonical / OutboundOptions
//	W0601 "F" final
//	W0602 depositor order number      order_number
//	W0603 date                        shipped_at
//	W0604 shipment ID                 shipment_id
//	W0606 purchase order              purchase_order
//	W0607 master reference (BOL)      BillOfLading
//	N1 ST loop                        order ship_to, as in the 856
//	N1 WH loop                        Warehouse (N101 WarehouseEntity), if given
//	G62 11                            shipped_at
//	W2701, W2702, W2703               transport method, SCAC, routing, as TD504/TD503/TD505
//	LX01                              1, 2, 3… one per order line, in order
//	W1201                             CC complete, CP when short (lines_short or less shipped)
//	W1202, W1203, W1204               quantity ordered, shipped, ordered - shipped
//	W1205                             uom (EA)
//	W1206 U.P.C. case code            upc when it has 12 digits
//	W1207/W1208                       VN vendor_item, else SK sku
//	W0301                             units shipped (sum of W1203)
//	W0302, W0303                      total weight, as TD107/TD108
//
// # 855 purchase order acknowledgment
//
//	X12                               canonical / OutboundOptions
//	BAK01 "00"
//	BAK02 acknowledgment type         AD every line IA at its quantity; RD every line
//	                                  rejected (IR ID R1-R4); else AC
//	BAK03, BAK04                      purchase_order (else order_number), order_date (required)
//	BAK05 release                     attributes.release_number
//	BAK09 acknowledgment date         Now
//	PO101-PO104                       line_number, quantity, uom, unit_price.amount
//	PO106… ID pairs                   VP vendor_item, BP buyer_item, UP upc; SK sku when none
//	ACK01, ACK02, ACK03               LineAcks[line_number].Status (IA) and Quantity (the
//	                                  ordered quantity; 0 for rejections), uom
//	ACK04 "068", ACK05                LineAcks[line_number].Date, if given
//	CTT01, CTT02                      number of PO1, sum of quantities
//
// # 846 inventory advice
//
//	X12                               canonical InventoryAdvice
//	BIA01 "00", BIA02                 InventoryReportType (DD)
//	BIA03 reference                   the set control number (written); not read
//	BIA04, BIA05 date, time           as_of (written in Location; read as UTC); a header
//	                                  DTM 405 wins when read
//	N1 WH, N103, N104 (header)        items[].warehouse when all items share one
//	                                  (N103 WarehouseIDQualifier, ZZ); read: N104, else N102
//	LIN01                             1, 2, 3… (written); not read
//	LIN SK / UP (written)             items[].sku / upc
//	LIN pairs (read)                  sku by Options.SKUPrecedence, upc from UP, else UA
//	QTY 33, QTY02, QTY03              quantity_available (may be negative), uom
//	QTY 17                            quantity_on_hand (not negative when read)
//	N1 WH after an item's QTYs        that item's warehouse, when items differ
//	CTT01                             number of items (written); not read
//
// A quantity not reported is left out (nil), which is not zero; a read
// item with a quantity but no QTY03 gets uom EA. Read problems are
// *MappingError: no BIA or LIN, an item without a usable ID, a QTY02 that
// is missing or not a number, a QTY outside a LIN loop, two units for one
// item.
package x12
