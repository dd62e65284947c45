"""`python -m photochanger` runs the same command line as `photochanger`."""

from photochanger.cli import main

raise SystemExit(main())
