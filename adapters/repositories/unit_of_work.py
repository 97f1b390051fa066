"""`SqlUnitOfWork`: the ports of `handlers.ports` over one `SqlSession`."""

from __future__ import annotations

from adapters.repositories.core import SqlEventLog, SqlMessageLog
from adapters.repositories.declarations import SqlDeclarationRepository
from adapters.repositories.outbox import SqlOutbox
from adapters.sql.session import SqlSession
from adapters.tables.core import SEQUENCES


class SqlUnitOfWork:
    def __init__(self, db: SqlSession) -> None:
        self.db = db
        self.messages = SqlMessageLog(db)
        self.events = SqlEventLog(db)
        self.declarations = SqlDeclarationRepository(db)
        self.outbox = SqlOutbox(db)

    def next_number(self, kind: str) -> int:
        return self.db.next_value(SEQUENCES[kind].name)
