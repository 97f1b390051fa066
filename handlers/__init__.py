"""The single-window rules: one module per message type, no I/O of their own.

Handlers read and change state only through the unit of work they are given
(`handlers.ports.UnitOfWork`); adapters implement those ports.
"""
