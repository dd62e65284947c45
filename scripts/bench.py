"""`make bench`: start the real server (production settings) and drive it over loopback sockets.

Prints one table per item of issue 11, and the Gemini-slot cell of issue 19, and writes everything measured
(raw latencies included) to `bench/results/<timestamp>.json`. `--quick` is a smoke run with small sizes and few requests.
Benchmarks print numbers; they pass or fail nothing.
"""

import argparse
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from scripts.benchmarks import common  # noqa: E402

SECTIONS = ("ingest", "holding", "gemini", "scaleout", "downloads", "data", "events")


def _csv_floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x]


def _csv_ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _csv_sizes(text: str) -> list[tuple[int, int]]:
    """`6000x4000,3264x2448` -> [(6000, 4000), (3264, 2448)]."""
    out = []
    for item in text.split(","):
        if item:
            width, height = item.lower().split("x")
            out.append((int(width), int(height)))
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, few requests")
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma list of {', '.join(SECTIONS)}")
    parser.add_argument(
        "--backend",
        choices=("postgres", "sqlite"),
        default=None,
        help="database for items 1-3 (default: PostgreSQL when it answers, else SQLite)",
    )
    parser.add_argument("--sizes-mb", type=_csv_floats, default=[1, 5, 15])
    parser.add_argument("--concurrency", type=_csv_ints, default=[1, 4, 16])
    parser.add_argument("--requests", type=int, default=12, help="timed uploads per cell (at least 2x conc)")
    parser.add_argument("--holding-uploads", type=int, default=200)
    parser.add_argument("--holding-in-flight", type=int, default=30)
    parser.add_argument("--holding-provider-seconds", type=float, default=5.0)
    parser.add_argument("--holding-upload-mb", type=float, default=3.0)
    parser.add_argument(
        "--scale-mb", type=float, default=15.0, help="photo for scale-out (15 -> 12.8 MB JPEG)"
    )
    parser.add_argument("--scale-concurrency", type=int, default=4)
    parser.add_argument("--scale-requests", type=int, default=24)
    parser.add_argument("--gemini-photos", type=_csv_sizes, default=[(6000, 4000), (3264, 2448), (1100, 825)])
    parser.add_argument("--gemini-concurrency", type=_csv_ints, default=[1, 4])
    parser.add_argument("--gemini-requests", type=int, default=12)
    parser.add_argument("--uplink-mbit", type=float, default=50.0)
    parser.add_argument("--download-mb", type=float, default=2.0)
    parser.add_argument("--download-seconds", type=float, default=8.0)
    parser.add_argument("--download-connections", type=int, default=16)
    parser.add_argument(
        "--rows",
        type=_csv_ints,
        default=[10_000, 100_000, 1_000_000],
        help="job rows for the stats timings (grown in place)",
    )
    parser.add_argument(
        "--cleanup-fraction",
        type=float,
        default=0.1,
        help="expired results to clean, as a fraction of the rows at each step",
    )
    parser.add_argument("--data-backends", default="postgres,sqlite")
    parser.add_argument("--event-results", type=_csv_ints, default=[100, 1_000], help="event ZIP sizes")
    parser.add_argument("--event-result-kb", type=int, default=1024, help="size of each result and original")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results")
    return parser  # fmt: skip


def quick(args: argparse.Namespace) -> None:
    args.sizes_mb = [1, 5]
    args.concurrency = [1, 4]
    args.requests = 4
    args.holding_uploads = 40
    args.holding_in_flight = 10
    args.holding_provider_seconds = 2.0
    args.holding_upload_mb = 1.0
    args.download_seconds = 2.0
    args.scale_requests = 8
    args.gemini_photos = [(6000, 4000), (1100, 825)]
    args.gemini_requests = 4
    args.rows = [2_000, 10_000]
    args.event_results = [20, 100]
    args.event_result_kb = 256


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        quick(args)
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = only - set(SECTIONS)
    if unknown:
        print(f"unknown sections: {sorted(unknown)}", file=sys.stderr)
        return 2
    backend = args.backend or ("postgres" if common.postgres_available() else "sqlite")
    started = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results: dict[str, Any] = {
        "started_at": stamp,
        "backend": backend,
        "load_at_start": common.load_average(),
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "tables": [],
        "raw": {},
    }
    print(f"PhotoChanger benchmarks on {backend} ({results['load_at_start']})")
    tables: list[common.Table] = []
    with tempfile.TemporaryDirectory(prefix="pcbench-") as tmp:
        work = Path(tmp)
        if "ingest" in only or "holding" in only:
            from scripts.benchmarks import ingest

            if "ingest" in only:
                (work / "ingest").mkdir()
                with common.scratch_database(backend, work / "ingest") as url:
                    table, raw = ingest.overhead(
                        url, work / "ingest", sizes_mb=args.sizes_mb, concurrencies=args.concurrency,
                        requests=args.requests,
                    )  # fmt: skip
                tables.append(table)
                results["raw"]["ingest"] = raw
            if "holding" in only:
                (work / "holding").mkdir()
                with common.scratch_database(backend, work / "holding") as url:
                    table, raw = ingest.holding(
                        url, work / "holding", uploads=args.holding_uploads, in_flight=args.holding_in_flight,
                        provider_seconds=args.holding_provider_seconds, upload_mb=args.holding_upload_mb,
                    )  # fmt: skip
                tables.append(table)
                results["raw"]["holding"] = raw
        if "scaleout" in only:
            from scripts.benchmarks import ingest

            (work / "scaleout").mkdir()
            with common.scratch_database(backend, work / "scaleout") as url:
                table, raw = ingest.scale_out(
                    url, work / "scaleout", size_mb=args.scale_mb, concurrency=args.scale_concurrency,
                    requests=args.scale_requests,
                )  # fmt: skip
            tables.append(table)
            results["raw"]["scaleout"] = raw
        if "gemini" in only:
            from scripts.benchmarks import gemini

            (work / "gemini").mkdir()
            with common.scratch_database(backend, work / "gemini") as url:
                table, raw = gemini.run(
                    url, work / "gemini", photos=args.gemini_photos, concurrencies=args.gemini_concurrency,
                    requests=args.gemini_requests, uplink_mbit=args.uplink_mbit,
                )  # fmt: skip
            tables.append(table)
            results["raw"]["gemini"] = raw
        if "downloads" in only:
            from scripts.benchmarks import downloads

            (work / "downloads").mkdir()
            with common.scratch_database(backend, work / "downloads") as url:
                table, raw = downloads.run(
                    url, work / "downloads", size_mb=args.download_mb, seconds=args.download_seconds,
                    connections=args.download_connections,
                )  # fmt: skip
            tables.append(table)
            results["raw"]["downloads"] = raw
        if "data" in only:
            from scripts.benchmarks import data

            wanted = [b.strip() for b in args.data_backends.split(",") if b.strip()]
            for db in wanted:
                if db == "postgres" and not common.postgres_available():
                    print("  data: PostgreSQL unreachable, skipped")
                    continue
                (work / f"data-{db}").mkdir()
                with common.scratch_database(db, work / f"data-{db}") as url:
                    db_tables, raw = data.run(
                        url, work / f"data-{db}", backend=db, rows=args.rows,
                        cleanup_fraction=args.cleanup_fraction,
                    )  # fmt: skip
                tables.extend(db_tables)
                results["raw"][f"data-{db}"] = raw
        if "events" in only:
            from scripts.benchmarks import events

            (work / "events").mkdir()
            with common.scratch_database(backend, work / "events") as url:
                table, raw = events.run(
                    url, work / "events", sizes=args.event_results, result_kb=args.event_result_kb
                )
            tables.append(table)
            results["raw"]["events"] = raw
        # Server, floor and nginx logs survive the scratch directory, next to the JSON.
        logs = args.out / f"{stamp}-logs"
        for log in work.rglob("*.log"):
            target = logs / log.relative_to(work).as_posix().replace("/", "_")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log, target)
    elapsed = time.monotonic() - started
    results["seconds"] = elapsed
    results["load_at_end"] = common.load_average()
    results["tables"] = [t.as_json() for t in tables]
    print()
    for table in tables:
        print(table.render())
        print()
    print(f"total {elapsed:.0f} s; {results['load_at_end']}")
    out = args.out / f"{stamp}{'-quick' if args.quick else ''}.json"
    common.write_json(out, results)
    print(f"results: {out.relative_to(REPO) if out.is_relative_to(REPO) else out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
