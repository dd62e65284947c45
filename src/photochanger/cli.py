"""The `photochanger` command: serve, migrate, cleanup, version (later issues add their own sub-commands)."""

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from photochanger import __version__
from photochanger.config import AppConfig
from photochanger.core import migrations, passwords
from photochanger.settings.cli import add_commands as add_settings_commands
from photochanger.users.cli import add_commands as add_users_commands

Handler = Callable[[argparse.Namespace, AppConfig], int]


def _load_config() -> AppConfig:
    try:
        config = AppConfig()
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        print(f"photochanger: invalid configuration: {problems}", file=sys.stderr)
        raise SystemExit(2) from None
    passwords.configure(config.password_hash_profile)
    return config


def _cmd_version(_args: argparse.Namespace, _config: AppConfig) -> int:
    print(__version__)
    return 0


def _cmd_migrate(args: argparse.Namespace, config: AppConfig) -> int:
    migrations.upgrade(config.database_url, args.revision)
    print(f"database migrated to {args.revision}")
    return 0


def _cmd_serve(args: argparse.Namespace, config: AppConfig) -> int:
    import uvicorn

    # Before prometheus_client is first imported (here, or in a worker): every worker of this node writes to
    # the same directory and any of them answers /metrics for all (`photochanger.metrics.multiproc`).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str((config.var_dir / "metrics").resolve()))

    from photochanger.core.http_reads import HTTP_PROTOCOL
    from photochanger.core.logging import configure_logging
    from photochanger.core.memory import tune_malloc
    from photochanger.metrics import multiproc

    multiproc.prepare(Path(os.environ[multiproc.ENV]))
    # uvicorn gets log_config=None: its error and access logs go through our (redacting) formatter.
    configure_logging(config.log_level, config.log_format)
    tune_malloc()
    if not args.no_migrate:
        migrations.upgrade(config.database_url)
    uvicorn.run(
        "photochanger.app:create_app_from_env",
        factory=True,
        host=args.host or config.host,
        port=args.port or config.port,
        workers=args.workers,
        log_config=None,
        # Reads into one shared buffer, a bounded piece at a time (`core.http_reads`).
        http=HTTP_PROTOCOL,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        timeout_graceful_shutdown=args.graceful_timeout,
    )
    return 0


def _aware_datetime(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 date-time: {value!r}") from None
    if parsed.tzinfo is None:
        raise argparse.ArgumentTypeError("give a UTC offset, e.g. 2026-11-22T12:00:00Z")
    return parsed


def _cmd_cleanup(args: argparse.Namespace, config: AppConfig) -> int:
    import asyncio

    from photochanger.cleanup.service import CleanupBusy, CleanupReport, run_cleanup
    from photochanger.core.db import create_engine
    from photochanger.core.time import utcnow

    async def run() -> CleanupReport:
        engine = create_engine(
            config.database_url, pool_size=2, connect_timeout=config.db_connect_timeout_seconds
        )
        try:
            return await run_cleanup(
                engine, config, now=args.now or utcnow(), dry_run=args.dry_run, batch_size=args.batch_size
            )
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except CleanupBusy as exc:
        # Overlapping timer runs are expected now and then; the running one does the work.
        print(f"cleanup skipped: {exc.detail}")
        return 0
    except Exception as exc:
        print(f"photochanger cleanup: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="photochanger", description="PhotoChanger photo-booth server")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate the database, then serve HTTP")
    serve.add_argument("--host", default=None, help="bind address (default PHOTOCHANGER_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default PHOTOCHANGER_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--no-migrate", action="store_true", help="do not run migrations first")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1", help="proxies trusted for X-Forwarded-*")
    serve.add_argument("--graceful-timeout", type=int, default=130, help="seconds to let requests finish")
    serve.set_defaults(handler=_cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.set_defaults(handler=_cmd_migrate)

    cleanup = sub.add_parser("cleanup", help="delete expired results and stale temp files, report orphans")
    cleanup.add_argument("--dry-run", action="store_true", help="report what would be done, change nothing")
    cleanup.add_argument("--now", type=_aware_datetime, default=None, help="ISO-8601 time to clean as of")
    cleanup.add_argument("--batch-size", type=int, default=500, help="jobs per transaction")
    cleanup.set_defaults(handler=_cmd_cleanup)

    add_users_commands(sub)
    add_settings_commands(sub)

    version = sub.add_parser("version", help="print the version")
    version.set_defaults(handler=_cmd_version)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args, _load_config())


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
