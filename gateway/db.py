"""`uams-gateway db upgrade | current | purge`: the store's schema and retention by hand.

- `db upgrade` migrates the configured database to this gateway's revision
  (`--sql` prints the DDL for the configured backend instead, for a DBA to run);
- `db current` prints the database's revision; exit status 0 when it is the one
  this gateway needs, 1 when not (so scripts and health checks can use it);
- `db purge` deletes payloads past `[retention] payload_max_age_days` and
  acknowledged notifications past `notification_max_age_days` now, in the job's
  batches; `--dry-run` only counts what would go (both).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from adapters import migrations
from adapters.errors import StoreError
from adapters.store import Store, open_store
from gateway.config import Config

LoadConfig = Callable[[argparse.Namespace], Config]


def add_arguments(parser: argparse.ArgumentParser, config_arg: Callable[[Any], None]) -> None:
    sub = parser.add_subparsers(dest="db_action", required=True)
    upgrade = sub.add_parser("upgrade", help="migrate the database to this gateway's revision")
    config_arg(upgrade)
    upgrade.add_argument("--sql", action="store_true",
                         help="print the migration SQL for the configured backend, run nothing")
    current = sub.add_parser("current", help="show the database's schema revision")
    config_arg(current)
    purge = sub.add_parser("purge", help="delete payloads and acknowledged notifications "
                                         "older than [retention] allows")
    config_arg(purge)
    purge.add_argument("--dry-run", action="store_true", help="only show what would be deleted")
    purge.add_argument("--older-than-days", type=int, default=None, metavar="DAYS",
                       help="override [retention] payload_max_age_days")


def run(args: argparse.Namespace, load: LoadConfig) -> int:
    config = load(args)
    if args.db_action == "upgrade" and args.sql:
        dialect = open_store(config.store.url).dialect_name
        sys.stdout.write(migrations.offline_sql(dialect))
        return 0
    store = open_store(config.store.url, sqlite_synchronous=config.store.sqlite_synchronous)
    try:
        return _ACTIONS[args.db_action](args, config, store)
    except StoreError as exc:
        print(f"uams-gateway: store error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _upgrade(args: argparse.Namespace, config: Config, store: Store) -> int:
    before = migrations.upgrade(store)
    after = migrations.current(store)
    if before == after:
        print(f"database already at revision {after} (head)")
    else:
        print(f"database upgraded from {before or 'empty'} to revision {after} (head)")
    return 0


def _current(args: argparse.Namespace, config: Config, store: Store) -> int:
    found = migrations.current(store)
    wanted = migrations.head()
    if found == wanted:
        print(f"{found} (head)")
        return 0
    print(f"{found or 'none'} (this gateway needs {wanted}: run `uams-gateway db upgrade`)")
    return 1


def _purge(args: argparse.Namespace, config: Config, store: Store) -> int:
    from gateway.retention import RetentionJob

    settings = config.retention
    if args.older_than_days is not None:
        if args.older_than_days < 1:
            print("uams-gateway: --older-than-days must be at least 1", file=sys.stderr)
            return 2
        settings = replace(settings, payload_max_age_days=args.older_than_days)
    migrations.require_current(store)
    publishing = bool(config.mqtt.url)
    job = RetentionJob(store, settings, publishing=publishing)
    summary = job.summary()
    acknowledged = "pulled or published" if publishing else "pulled"
    if args.dry_run:
        span = (f", received {summary.oldest} … {summary.newest}" if summary.payloads else "")
        print(f"would delete {summary.payloads} payloads received before {summary.cutoff}{span}")
        print(f"would delete {summary.notifications} notifications ({acknowledged}) created "
              f"before {summary.notification_cutoff}; {summary.notifications_kept} as old "
              "but not acknowledged are kept")
        return 0
    purged = job.purge()
    print(f"deleted {purged.payloads} payloads received before {summary.cutoff}")
    print(f"deleted {purged.notifications} notifications ({acknowledged}) created before "
          f"{summary.notification_cutoff}")
    return 0


_ACTIONS: dict[str, Callable[[argparse.Namespace, Config, Store], int]] = {
    "upgrade": _upgrade,
    "current": _current,
    "purge": _purge,
}
