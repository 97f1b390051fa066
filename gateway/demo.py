"""`uams-gateway demo`: "a day at the border", played against a running gateway.

Every participant of the development registry connects with its development
certificate and does its part: the ministries issue (and revoke) certificates,
brokers and a trader declare, customs controls, carriers announce trucks, the
border post records them and an offense, headquarters and the Ministry of Taxes
ask for reports, the trader pulls its notifications. Each step says what it
expects by the contract (PROTOCOL.md) and prints what happened; the exit status
is 0 when everything went as expected, 1 when anything did not, 2 when the
gateway could not be reached. Every run uses its own numbers, customs office and
border crossing point, so it can be repeated against the same store and its
reports are exact.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from gateway.demo_player import Day, Player, Unreachable
from gateway.demo_scenes import SCENES

EXIT_OK, EXIT_UNEXPECTED, EXIT_UNREACHABLE = 0, 1, 2


async def play(host: str, port: int, pki_dir: Path, out: TextIO = sys.stdout, *,
               server_hostname: str | None = None) -> int:
    """Play the whole day; returns the exit status."""
    player = Player(host, port, pki_dir, out, server_hostname)
    try:
        now = datetime.now(UTC)
        day = Day(f"BAKU-{player.run}", f"RED-BRIDGE-{player.run}")
        player.say(f"A day at the border (run {player.run}) against {host}:{port}")
        for scene in SCENES:
            await scene(player, day, now)
    except Unreachable as exc:
        player.say(f"cannot play the demo: {exc}")
        return EXIT_UNREACHABLE
    finally:
        await player.close()
    if player.unexpected:
        player.say(f"{player.unexpected} of {player.steps} steps did not go as expected.")
        return EXIT_UNEXPECTED
    player.say(f"All {player.steps} steps went as expected.")
    return EXIT_OK


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7400)
    parser.add_argument("--pki-dir", type=Path, default=Path("certs/dev"),
                        help="development PKI: ca.crt and <participant>.crt/.key "
                             "(default: certs/dev)")


def run(args: argparse.Namespace) -> int:
    """`uams-gateway demo`: play the scenario against the gateway at --host/--port."""
    if not (args.pki_dir / "ca.crt").is_file():
        print(f"uams-gateway demo: {args.pki_dir / 'ca.crt'} is missing: run "
              "`uams-gateway certs init`", file=sys.stderr)
        return EXIT_UNREACHABLE
    return asyncio.run(play(args.host, args.port, args.pki_dir))
