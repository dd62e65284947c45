"""Thin wrapper for cron: `python scripts/cleanup_media.py [--dry-run] [--now ISO-8601]` = `photochanger cleanup`."""

import sys

from photochanger.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["cleanup", *sys.argv[1:]]))
