"""Where tests keep what a person may want to look at afterwards (screenshots, Hypothesis examples).

Never inside the checkout: `TEST_ARTIFACTS_DIR`, or `photochanger-test-artifacts` in the system temp dir.
"""

import os
import tempfile
from pathlib import Path

ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS_DIR") or Path(tempfile.gettempdir()) / "photochanger-test-artifacts"
)
