"""The consignee's clearance lock, on every backend: a declaration and a certificate of one
consignee are decided one after the other, the second seeing what the first committed."""

from __future__ import annotations

import threading
import time

from adapters.repositories.unit_of_work import SqlUnitOfWork
from adapters.store import Store
from protocol.bodies.certificate import CertificateGoods, ElectronicCertificate

TAX_ID = "1111111111"


def _certificate(number: str) -> ElectronicCertificate:
    return ElectronicCertificate(number=number, cert_type="PHYTOSANITARY",
                                 issued_at="2026-12-01T09:00:00Z", valid_until="2026-12-31",
                                 consignee_tax_id=TAX_ID, origin_country="GE",
                                 goods=(CertificateGoods("080810", "Apples"),))


def test_second_transaction_waits_for_the_lock_and_sees_the_first(store: Store) -> None:
    first, second = store.open_session(), store.open_session()
    seen: list[object] = []
    try:
        first.begin()
        SqlUnitOfWork(first).clearance.lock_consignee(TAX_ID)

        def contender() -> None:
            second.begin()  # SQLite queues here already (one writer at a time)
            uow = SqlUnitOfWork(second)
            uow.clearance.lock_consignee(TAX_ID)
            seen.append(uow.certificates.by_number("LOCK-1"))
            second.commit()

        thread = threading.Thread(target=contender)
        thread.start()
        time.sleep(0.3)
        assert thread.is_alive(), "the second transaction did not wait for the lock"
        SqlUnitOfWork(first).certificates.insert(
            _certificate("LOCK-1"), issuer_id="MOA-0001", issued_date="2026-12-01",
            status="VALID", registered_at="2026-12-01T09:00:00.000000Z", message_pk=None)
        first.commit()
        thread.join(timeout=10)
        assert not thread.is_alive()
        assert len(seen) == 1 and seen[0] is not None  # it saw the committed certificate
    finally:
        first.close()
        second.close()


def test_other_consignees_do_not_wait(store: Store) -> None:
    if store.dialect_name == "sqlite":
        return  # SQLite runs one writer at a time whatever the rows: nothing to compare
    first, second = store.open_session(), store.open_session()
    try:
        first.begin()
        SqlUnitOfWork(first).clearance.lock_consignee(TAX_ID)
        second.begin()
        started = time.monotonic()
        SqlUnitOfWork(second).clearance.lock_consignee("2222222222")
        assert time.monotonic() - started < 1
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
