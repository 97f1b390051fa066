"""Who may see which object (PROTOCOL §5). Invisible objects are answered as NOT_FOUND."""

from __future__ import annotations

from handlers.participants import Participant, ParticipantRegistry, Role


def parties_of_declaration(declarant_id: str, consignee_tax_id: str,
                           registry: ParticipantRegistry) -> set[str]:
    """Participant ids party to a declaration: its declarant and the consignee's traders."""
    parties = {declarant_id}
    parties.update(p.id for p in registry.traders_with_tax_id(consignee_tax_id))
    return parties


def can_see(asker: Participant, parties: set[str]) -> bool:
    """Customs sees all; a partner sees what its granted participants see; others their own."""
    if asker.role is Role.CUSTOMS:
        return True
    if asker.role is Role.PARTNER:
        return bool(parties & asker.grants)
    return asker.id in parties


def recipients(parties: set[str], registry: ParticipantRegistry) -> set[str]:
    """Everyone a status change of an object is notified to: its parties and their partners."""
    out = set(parties)
    for pid in parties:
        out.update(p.id for p in registry.partners_granted(pid))
    return out
