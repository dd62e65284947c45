"""The README's configuration table names exactly the environment variables the code reads."""

import re
from pathlib import Path

from photochanger.config import AppConfig
from photochanger.core import memory

README = Path(__file__).resolve().parents[1] / "README.md"


def _configuration_table() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first_cell))
    return names


def test_every_setting_has_a_row_in_the_readme_and_no_row_is_stale() -> None:
    prefix = AppConfig.model_config.get("env_prefix", "")
    expected = {f"{prefix}{name}".upper() for name in AppConfig.model_fields}
    documented = {name for name in _configuration_table() if name.startswith(prefix)}
    assert sorted(expected - documented) == [], "settings missing from README's configuration table"
    assert sorted(documented - expected) == [], "README documents settings the code does not read"


def test_the_allocator_variables_serve_reads_are_documented() -> None:
    assert set(memory.ENV) <= _configuration_table()
