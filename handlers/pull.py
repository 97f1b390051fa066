"""PullRequest → PullResponse: a participant fetches its own status notifications.

Each participant pulls the notifications addressed to it (a partner's own
notifications are those of the participants it is granted). The request first
*releases* what the puller has stored: every notification with Seq ≤ AckUpTo
is marked pulled and is never shown to a puller again. It then returns up to
MaxMessages not-yet-pulled notifications with Seq > AckUpTo, in increasing Seq,
and More = true when further ones are waiting. Pulling ignores MQTT: a
notification already acknowledged by the broker is still pulled until the
puller acknowledges it (see docs/notifications.md).

The handler runs in the group-commit writer's transaction, so within one
process pulls are serialized by the writer; `Outbox.lock_stream` serializes
them across nodes. AckUpTo above the last Seq ever issued to the participant
is refused (`BUSINESS_RULE`): acknowledging numbers not yet issued would
silently release notifications the puller has never seen.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.outcomes import Answer
from protocol.answers import NotificationView, pull_response_body
from protocol.bodies.status import read_pull_request
from protocol.envelope import Message
from protocol.errors import rule_violation

ACK_RULE = "ACK_UP_TO_ISSUED"


def answer(ctx: Context, message: Message) -> Answer:
    """Release the caller's notifications up to AckUpTo, then hand out the next ones."""
    request = message.read(read_pull_request)
    outbox = ctx.uow.outbox
    recipient = ctx.participant.id
    last_seq = outbox.lock_stream(recipient)
    if request.ack_up_to > last_seq:
        raise rule_violation(
            ACK_RULE,
            f"AckUpTo must not exceed the last sequence number issued to {recipient} "
            f"({last_seq}).")
    if request.ack_up_to > 0:
        outbox.acknowledge(recipient, request.ack_up_to)
    rows = outbox.unacknowledged(recipient, request.ack_up_to, request.max_messages + 1)
    more = len(rows) > request.max_messages
    views = [NotificationView(n.seq, n.at, n.reference, n.kind, n.status, n.note)
             for n in rows[:request.max_messages]]
    return Answer("PullResponse", pull_response_body(notifications=views, more=more))
