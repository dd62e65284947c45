"""Tests that need a system tool: `scripts/system_deps.sh` (run by `make test` and `.ci/run`) installs it.

A missing tool is a failure, never a skip: a suite that passed without nginx or Chromium proved nothing
about the parts they test.
"""

import os
import shutil

import pytest

SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def require_tool(name: str, why: str) -> str:
    """The absolute path of `name`; without it the test fails, naming the command that installs it."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN_DIRS))
    if path is not None:
        return path
    pytest.fail(f"`{name}` is not installed ({why}); `make system-deps` installs it")
