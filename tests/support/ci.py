"""Tests that need a system tool: skipped locally with a reason when it is missing, failed under CI."""

import os
import shutil

import pytest

SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def require_tool(name: str, why: str) -> str:
    """The absolute path of `name`; without it, fail under `CI=true` (.ci/run installs it), else skip."""
    path = shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN_DIRS))
    if path is not None:
        return path
    message = f"`{name}` is not installed ({why}); `.ci/run` installs it"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
