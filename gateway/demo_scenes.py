"""The scenes of `uams-gateway demo`, in the order of the day (see `gateway.demo`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal

from gateway import demo_messages as m
from gateway.demo_player import Day, Player, R, S, _iso, in_days

D = Decimal
Scene = Callable[[Player, Day, datetime], Awaitable[None]]


async def declare(p: Player, day: Day, decl: m.Declaration, what: str, *,
                  status: str | None = None, code: str | None = None,
                  final: str | None = None) -> str:
    reply = p.check(decl.declarant, f"declares {what}",
                    await p.send(decl.declarant, "CustomsDeclaration", decl.xml()),
                    status=status, code=code)
    number = reply.reference or ""
    if reply.is_receipt:
        day.declared.append((decl, number))
        day.final[number] = final or reply.status or ""
    return number


def _decl(p: Player, day: Day, name: str, declarant: str, items: tuple[m.Item, ...],
          **kw: object) -> m.Declaration:
    return m.Declaration(lrn=f"{p.run}-{name}", declarant=declarant, office=day.office,
                         point=day.point, items=items, **kw)  # type: ignore[arg-type]


async def certificates(p: Player, day: Day, now: datetime) -> None:
    p.say("08:00  The ministries issue certificates")
    issued, until = _iso(now - timedelta(days=1)), in_days(now, 30)
    p.check("MOA-0001", f"phytosanitary certificate PHY-{p.run}-1 for apples", await p.send(
        "MOA-0001", "ElectronicCertificate", m.certificate(
            f"PHY-{p.run}-1", "PHYTOSANITARY", issued, until, (("080810", "Fresh apples"),))),
        status="VALID")
    p.check("MOH-0001", f"sanitary certificate SAN-{p.run}-1 for biscuits", await p.send(
        "MOH-0001", "ElectronicCertificate", m.certificate(
            f"SAN-{p.run}-1", "SANITARY", issued, until, (("190531", "Sweet biscuits"),),
            origin="TR")), status="VALID")


async def released_at_once(p: Player, day: Day, now: datetime) -> None:
    p.say("09:00  Declarations that need nothing more are released at once")
    await declare(p, day, _decl(p, day, "LAPTOPS", "BRK-0001", (
        m.Item("847130", "Portable computers", "CN", D("12000.00")),),
        taxes=(("DUTY", D("1200.00"), "AZN"), ("VAT", D("3600.00"), "AZN"))),
        "laptops (no certificate needed)", status="RELEASED", final="ARRIVED")
    await declare(p, day, _decl(p, day, "APPLES", "BRK-0001", (
        m.Item("080810", "Fresh apples", "GE", D("8000.00"),
               (("PHYTOSANITARY", f"PHY-{p.run}-1"),)),), consignor=("Kakheti Fruit", "GE"),
        taxes=(("VAT", D("2448.00"), "AZN"),)),
        "apples with certificate PHY-…-1", status="RELEASED", final="ARRIVED")
    await declare(p, day, _decl(p, day, "CARPETS", "BRK-0001", (
        m.Item("570110", "Hand-knotted wool carpets", "AZ", D("25000.00")),),
        procedure="EX", currency="EUR", consignor=("Azer-Ilme Carpets", "AZ")),
        "an export of carpets", status="RELEASED", final="EXITED")


async def waits_for_certificate(p: Player, day: Day, now: datetime) -> None:
    p.say("10:00  A trader's tomatoes wait for their certificate")
    # consigned to a customer of its own, new on every run: no earlier certificate counts
    customer = f"7{int(p.run, 16):09d}"
    decl = _decl(p, day, "TOMATOES", "TRD-0001", (
        m.Item("070200", "Fresh tomatoes", "TR", D("6000.00")),),
        consignee_tax_id=customer, taxes=(("VAT", D("1836.00"), "AZN"),))
    number = await declare(p, day, decl, "tomatoes (no certificate yet)",
                           status="AWAITING_CERTIFICATES", final="ARRIVED")
    p.check("MOA-0001", f"phytosanitary certificate PHY-{p.run}-2 for tomatoes", await p.send(
        "MOA-0001", "ElectronicCertificate", m.certificate(
            f"PHY-{p.run}-2", "PHYTOSANITARY", _iso(now - timedelta(days=1)),
            in_days(now, 30), (("070200", "Fresh tomatoes"),), origin="TR",
            tax_id=customer)), status="VALID")
    reply = await p.send("TRD-0001", "StatusRequest", m.status_request(lrn=decl.lrn))
    status = reply.body.findtext(S + "Status") if reply.message_type == "StatusResponse" else ""
    p.verify(f"TRD-0001  asks about {decl.lrn}", status == "RELEASED",
             f"{number} is {status or reply.code} (expected RELEASED)")


async def control(p: Player, day: Day, now: datetime) -> None:
    p.say("11:00  High-value consignments go to control")
    excavator = await declare(p, day, _decl(p, day, "EXCAVATOR", "BRK-0001", (
        m.Item("842952", "Crawler excavator", "JP", D("300000.00")),),
        taxes=(("DUTY", D("15000.00"), "AZN"), ("VAT", D("91800.00"), "AZN"),
               ("EXCISE", D("500.00"), "USD"))),
        "an excavator worth USD 300,000", status="UNDER_CONTROL", final="ARRIVED")
    p.check("SCC-OFF1", "releases the excavator after a documentary check", await p.send(
        "SCC-OFF1", "ControlDecision", m.control_decision(
            excavator, "RELEASED", "OFF-17", "Documents checked, match the invoice.")),
        status="RELEASED")
    inverters = await declare(p, day, _decl(p, day, "INVERTERS", "BRK-0001", (
        m.Item("850440", "Solar inverters", "CN", D("280000.00")),),
        taxes=(("DUTY", D("14000.00"), "AZN"),)),
        "inverters worth USD 280,000", status="UNDER_CONTROL", final="REJECTED")
    p.check("SCC-OFF1", "rejects the inverters", await p.send(
        "SCC-OFF1", "ControlDecision", m.control_decision(
            inverters, "REJECTED", "OFF-17", "The goods found are not the goods declared.")),
        status="REJECTED")
    day.named["inverters"] = inverters


async def revoked(p: Player, day: Day, now: datetime) -> None:
    p.say("12:00  A certificate is revoked")
    p.check("MOH-0001", f"revokes SAN-{p.run}-1", await p.send(
        "MOH-0001", "CertificateRevocation", m.revocation(
            f"SAN-{p.run}-1", "Laboratory found Salmonella in the batch.")), status="REVOKED")
    biscuits = (m.Item("190531", "Sweet biscuits", "TR", D("4000.00"),
                       (("SANITARY", f"SAN-{p.run}-1"),)),)
    await declare(p, day, _decl(p, day, "BISCUITS-1", "BRK-0001", biscuits),
                  "biscuits with the revoked certificate", code="BUSINESS_RULE")
    p.check("MOH-0001", f"issues a new certificate SAN-{p.run}-2", await p.send(
        "MOH-0001", "ElectronicCertificate", m.certificate(
            f"SAN-{p.run}-2", "SANITARY", _iso(now - timedelta(days=1)), in_days(now, 30),
            (("190531", "Sweet biscuits"),), origin="TR")), status="VALID")
    biscuits = (m.Item("190531", "Sweet biscuits", "TR", D("4000.00"),
                       (("SANITARY", f"SAN-{p.run}-2"),)),)
    await declare(p, day, _decl(p, day, "BISCUITS-2", "BRK-0001", biscuits,
                                taxes=(("VAT", D("1224.00"), "AZN"),)),
                  "biscuits with the new certificate", status="RELEASED", final="ARRIVED")


def _numbers(day: Day, *final: str) -> tuple[str, ...]:
    return tuple(n for d, n in day.declared if day.final.get(n) in final
                 and d.procedure == ("EX" if "EXITED" in final else "IM")
                 and d.declarant == "BRK-0001")


async def border(p: Player, day: Day, now: datetime) -> None:
    p.say("14:00  Trucks are announced and cross the border")
    expected, crossed = _iso(now + timedelta(hours=1)), _iso(now)
    imports = _numbers(day, "ARRIVED")
    tomatoes = next(n for d, n in day.declared if d.declarant == "TRD-0001")
    truck = p.check("BRK-0001", "announces truck 10-AA-501 with its imports", await p.send(
        "BRK-0001", "VehiclePreArrival", m.pre_arrival("ENTRY", day.point, expected,
                                                       "10-AA-501", imports)),
        status="ANNOUNCED")
    p.check("CAR-0001", "announces truck 34 KL 88 with the tomatoes", await p.send(
        "CAR-0001", "VehiclePreArrival", m.pre_arrival("ENTRY", day.point, expected, "34 KL 88",
                                                       (tomatoes,), country="TR",
                                                       driver="Mehmet Yilmaz")),
        status="ANNOUNCED")
    p.check("CAR-0001", "announces truck 77-CC-300 leaving with the carpets", await p.send(
        "CAR-0001", "VehiclePreArrival", m.pre_arrival("EXIT", day.point, expected, "77-CC-300",
                                                       _numbers(day, "EXITED"))),
        status="ANNOUNCED")
    p.check("BCP-0001", "records 10-AA-501 entering (pre-arrival named)", await p.send(
        "BCP-0001", "BorderCrossing", m.crossing("ENTRY", day.point, crossed, "10-AA-501",
                                                 pre_arrival_number=truck.reference)),
        status="RECORDED")
    p.check("BCP-0001", "records 34KL88 entering (matched by plate)", await p.send(
        "BCP-0001", "BorderCrossing", m.crossing("ENTRY", day.point, crossed, "34KL88")),
        status="RECORDED")
    p.check("BCP-0001", "records 77CC300 leaving (matched by plate)", await p.send(
        "BCP-0001", "BorderCrossing", m.crossing("EXIT", day.point, crossed, "77CC300")),
        status="RECORDED")
    p.check("BCP-0001", "records 99-XX-999 entering, never announced", await p.send(
        "BCP-0001", "BorderCrossing", m.crossing("ENTRY", day.point, crossed, "99-XX-999")),
        status="UNANNOUNCED")
    for decl, number in day.declared:
        want = day.final[number]
        who = decl.declarant
        status, _ = await p.status(who, number)
        p.verify(f"{who}  asks about {decl.lrn}", status == want,
                 f"{number} is {status} (expected {want})")


async def enforcement(p: Player, day: Day, now: datetime) -> None:
    p.say("15:00  Offenses")
    p.check("BCP-0001", "reports cigarettes smuggled in 99-XX-999", await p.send(
        "BCP-0001", "OffenseReport", m.offense(
            "SMUGGLING", _iso(now), day.office, "Twelve cartons of cigarettes behind the "
            "spare tyre, not declared.", vehicle="99-XX-999")), status="REPORTED")
    inverters = day.named["inverters"]
    reply = p.check("SCC-OFF1", "reports the undervalued inverters", await p.send(
        "SCC-OFF1", "OffenseReport", m.offense(
            "UNDERVALUATION", _iso(now), day.office, "Invoice at a third of the market price.",
            declaration=inverters)), status="REPORTED")
    _, notes = await p.status("BRK-0001", inverters)
    p.verify("BRK-0001  sees the offense on its declaration",
             any(reply.reference and reply.reference in n for n in notes),
             notes[-1] if notes else "no events")


def _expected_rows(day: Day, report: str) -> list[tuple[str, ...]]:
    counted = [d for d, n in day.declared if day.final[n] != "REJECTED"]
    if report == "FINANCIAL":
        count: dict[str, int] = defaultdict(int)
        amount: dict[str, Decimal] = defaultdict(Decimal)
        for d in counted:
            for tax_type in sorted({t for t, _, _ in d.taxes}):
                count[tax_type] += 1
            for tax_type, value, currency in d.taxes:
                amount[tax_type] += value if currency == "AZN" else D(0)
        return [(day.office, t, str(count[t]), f"{amount[t]:.2f}") for t in sorted(count)]
    if report == "FOREIGN_EXCHANGE":
        per: dict[str, list[Decimal]] = defaultdict(list)
        for d in counted:
            per[d.currency].append(d.total)
        return [(c, str(len(v)), f"{sum(v, D(0)):.2f}") for c, v in sorted(per.items())]
    return [(day.point, "ENTRY", "3", "2"), (day.point, "EXIT", "1", "1")]


async def reports(p: Player, day: Day, now: datetime) -> None:
    p.say("17:00  Reports for the day (rejected declarations are not counted)")
    start, end = in_days(now, -1), in_days(now, 1)
    for asker, report, office in (("SCC-OFF1", "FINANCIAL", day.office),
                                  ("MTX-0001", "FINANCIAL", day.office),
                                  ("SCC-OFF1", "FOREIGN_EXCHANGE", day.office),
                                  ("SCC-OFF1", "TRAFFIC", day.point)):
        reply = p.check(asker, f"asks for the {report} report of {office}", await p.send(
            asker, "ReportRequest", m.report_request(report, start, end, office)),
            answer="ReportResponse")
        rows = [tuple(c.text or "" for c in row) for row in reply.body.iter(R + "Row")]
        for row in rows:
            p.say(f"              {' | '.join(row)}")
        want = _expected_rows(day, report)
        p.verify(f"{asker}  {report} figures", rows == want,
                 "as declared" if rows == want else f"expected {want}")


async def notifications(p: Player, day: Day, now: datetime) -> None:
    p.say("18:00  The trader's system pulls its notifications")
    tomatoes = next(n for d, n in day.declared if d.declarant == "TRD-0001")
    seen: list[str] = []
    ack = 0
    for _ in range(100):  # at most 100 pages of 500
        reply = await p.send("TRD-0001", "PullRequest", m.pull_request(ack))
        if reply.message_type != "PullResponse":
            p.check("TRD-0001", "pulls", reply, answer="PullResponse")
            return
        for note in reply.body.iter(S + "Notification"):
            ack = max(ack, int(note.findtext(S + "Seq") or 0))
            if note.findtext(S + "Reference") == tomatoes:
                seen.append(note.findtext(S + "Status") or "")
        if reply.body.findtext(S + "More") != "true":
            break
    await p.send("TRD-0001", "PullRequest", m.pull_request(ack, 1))  # acknowledge the last
    want = ["REGISTERED", "AWAITING_CERTIFICATES", "RELEASED", "ARRIVED"]
    p.verify("TRD-0001  its tomatoes, as notified", [s for s in seen if s in want] == want,
             " → ".join(seen))


SCENES: list[Scene] = [certificates, released_at_once, waits_for_certificate, control, revoked,
                       border, enforcement, reports, notifications]
