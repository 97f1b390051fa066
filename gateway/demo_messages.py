"""The UAMS/1 bodies the demo sends (`gateway.demo`), built from plain values."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from protocol import namespaces as ns


def _el(name: str, value: object) -> str:
    return f"<{name}>{escape(str(value))}</{name}>"


@dataclass(frozen=True)
class Item:
    hs: str
    description: str
    origin: str
    amount: Decimal
    documents: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Declaration:
    """What the demo declares; `taxes` are (Type, Amount, Currency)."""

    lrn: str
    declarant: str
    office: str
    point: str
    items: tuple[Item, ...]
    procedure: str = "IM"
    currency: str = "USD"
    consignee_tax_id: str = "1234567890"
    consignor: tuple[str, str] = ("Anadolu Export A.S.", "TR")
    taxes: tuple[tuple[str, Decimal, str], ...] = field(default=())

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal(0))

    def xml(self) -> str:
        items = "".join(
            f"<GoodsItem>{_el('SequenceNumber', n)}{_el('HSCode', i.hs)}"
            f"{_el('Description', i.description)}{_el('OriginCountry', i.origin)}"
            "<GrossMassKg>1250.5</GrossMassKg><NetMassKg>1200</NetMassKg>"
            f"{_el('InvoiceAmount', f'{i.amount:.2f}')}"
            + "".join(f"<Document>{_el('Type', t)}{_el('Number', num)}</Document>"
                      for t, num in i.documents)
            + "</GoodsItem>"
            for n, i in enumerate(self.items, 1))
        taxes = "".join(f"<Tax>{_el('Type', t)}{_el('Amount', f'{a:.2f}')}"
                        f"{_el('Currency', c)}</Tax>" for t, a, c in self.taxes)
        return (
            f'<CustomsDeclaration xmlns="{ns.DECLARATION}">'
            f"{_el('ProcedureType', self.procedure)}{_el('LocalReferenceNumber', self.lrn)}"
            f"{_el('CustomsOffice', self.office)}{_el('Declarant', self.declarant)}"
            f"<Consignor>{_el('Name', self.consignor[0])}{_el('Country', self.consignor[1])}"
            "</Consignor><Consignee><Name>Caspian Foods LLC</Name>"
            f"{_el('TaxId', self.consignee_tax_id)}<Country>AZ</Country></Consignee>"
            "<TransportMeans><Mode>ROAD</Mode><Identification>10-AA-501</Identification>"
            "<Nationality>AZ</Nationality></TransportMeans>"
            f"{_el('BorderCrossingPoint', self.point)}{_el('InvoiceCurrency', self.currency)}"
            f"{_el('TotalInvoiceAmount', f'{self.total:.2f}')}{items}{taxes}"
            "</CustomsDeclaration>")


def certificate(number: str, cert_type: str, issued_at: str, valid_until: str,
                goods: tuple[tuple[str, str], ...], *, origin: str = "GE",
                tax_id: str = "1234567890") -> str:
    lines = "".join(f"<Goods>{_el('HSCode', hs)}{_el('Description', d)}</Goods>"
                    for hs, d in goods)
    return (f'<ElectronicCertificate xmlns="{ns.CERTIFICATE}">'
            f"{_el('CertificateNumber', number)}{_el('CertificateType', cert_type)}"
            f"{_el('IssuedAt', issued_at)}{_el('ValidUntil', valid_until)}"
            f"{_el('ConsigneeTaxId', tax_id)}{_el('OriginCountry', origin)}{lines}"
            "</ElectronicCertificate>")


def revocation(number: str, reason: str) -> str:
    return (f'<CertificateRevocation xmlns="{ns.CERTIFICATE}">'
            f"{_el('CertificateNumber', number)}{_el('Reason', reason)}</CertificateRevocation>")


def control_decision(number: str, decision: str, officer: str, note: str) -> str:
    return (f'<ControlDecision xmlns="{ns.DECLARATION}">{_el("DeclarationNumber", number)}'
            f"{_el('Decision', decision)}{_el('Officer', officer)}{_el('Note', note)}"
            "</ControlDecision>")


def pre_arrival(direction: str, point: str, expected_at: str, vehicle: str,
                declarations: tuple[str, ...], *, country: str = "AZ",
                driver: str = "Rashad Aliyev") -> str:
    numbers = "".join(_el("DeclarationNumber", n) for n in declarations)
    return (f'<VehiclePreArrival xmlns="{ns.TRANSPORT}">{_el("Direction", direction)}'
            f"{_el('BorderCrossingPoint', point)}{_el('ExpectedAt', expected_at)}"
            f"{_el('VehicleRegistration', vehicle)}{_el('VehicleCountry', country)}"
            f"{_el('DriverName', driver)}<DriverDocument>AZE1234567</DriverDocument>"
            f"{numbers}</VehiclePreArrival>")


def crossing(direction: str, point: str, crossed_at: str, vehicle: str, *,
             pre_arrival_number: str | None = None) -> str:
    pre = _el("PreArrivalNumber", pre_arrival_number) if pre_arrival_number else ""
    return (f'<BorderCrossing xmlns="{ns.TRANSPORT}">{_el("Direction", direction)}'
            f"{_el('BorderCrossingPoint', point)}{_el('CrossedAt', crossed_at)}"
            f"{_el('VehicleRegistration', vehicle)}{pre}</BorderCrossing>")


def offense(offense_type: str, detected_at: str, office: str, description: str, *,
            declaration: str | None = None, vehicle: str | None = None) -> str:
    decl = _el("DeclarationNumber", declaration) if declaration else ""
    veh = _el("VehicleRegistration", vehicle) if vehicle else ""
    return (f'<OffenseReport xmlns="{ns.ENFORCEMENT}">{_el("OffenseType", offense_type)}'
            f"{_el('DetectedAt', detected_at)}{_el('CustomsOffice', office)}{decl}{veh}"
            f"{_el('Description', description)}</OffenseReport>")


def status_request(*, reference: str | None = None, lrn: str | None = None) -> str:
    inner = _el("Reference", reference) if reference else _el("LocalReferenceNumber", lrn)
    return f'<StatusRequest xmlns="{ns.STATUS}">{inner}</StatusRequest>'


def pull_request(ack_up_to: int, most: int = 500) -> str:
    return (f'<PullRequest xmlns="{ns.STATUS}">{_el("AckUpTo", ack_up_to)}'
            f"{_el('MaxMessages', most)}</PullRequest>")


def report_request(report_type: str, date_from: str, date_to: str, office: str) -> str:
    return (f'<ReportRequest xmlns="{ns.REPORT}">{_el("ReportType", report_type)}'
            f"{_el('From', date_from)}{_el('To', date_to)}{_el('CustomsOffice', office)}"
            "</ReportRequest>")
