"""`SqlUnitOfWork`: the ports of `handlers.ports` over one `SqlSession`."""

from __future__ import annotations

from adapters.repositories.certificates import SqlCertificateRepository
from adapters.repositories.clearance import SqlClearanceRepository
from adapters.repositories.core import SqlEventLog, SqlMessageLog
from adapters.repositories.declarations import SqlDeclarationRepository
from adapters.repositories.enforcement import SqlOffenseRepository
from adapters.repositories.outbox import SqlOutbox
from adapters.repositories.reports import SqlReportQueries
from adapters.repositories.transport import SqlCrossingRepository, SqlPreArrivalRepository
from adapters.sql.session import SqlSession
from adapters.tables.core import SEQUENCES


class SqlUnitOfWork:
    def __init__(self, db: SqlSession) -> None:
        self.db = db
        self.messages = SqlMessageLog(db)
        self.events = SqlEventLog(db)
        self.declarations = SqlDeclarationRepository(db)
        self.outbox = SqlOutbox(db)
        self.certificates = SqlCertificateRepository(db)
        self.clearance = SqlClearanceRepository(db)
        self.pre_arrivals = SqlPreArrivalRepository(db)
        self.crossings = SqlCrossingRepository(db)
        self.offenses = SqlOffenseRepository(db)
        self.reports = SqlReportQueries(db)

    def forget_prefetched(self) -> None:
        self.messages.forget_prefetched()
        self.declarations.forget_prefetched()

    def next_number(self, kind: str) -> int:
        return self.db.next_value(SEQUENCES[kind].name)
