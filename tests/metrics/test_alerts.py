"""deploy/prometheus/alerts.yml parses, covers the required alerts, names only exported metrics, and passes
`promtool check rules` (Debian package `prometheus`, installed by `make system-deps`)."""

import re
import subprocess
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.ci import require_tool

ALERTS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus" / "alerts.yml"
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def _rules() -> list[dict[str, object]]:
    document = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))
    return [rule for group in document["groups"] for rule in group["rules"]]


async def test_every_alert_names_only_metrics_the_app_exports(client: httpx.AsyncClient) -> None:
    scraped = (await client.get("/metrics")).text
    exported = {
        family.name + suffix
        for family in text_string_to_metric_families(scraped)
        for suffix in SUFFIXES.get(family.type, ("",))
    }
    rules = _rules()
    assert {rule["alert"] for rule in rules} == {
        "PhotoChangerTargetDown",
        "PhotoChangerTimeoutRateHigh",
        "PhotoChangerIngestP95AboveDeadline",
        "PhotoChangerMediaDiskAlmostFull",
        "PhotoChangerCleanupStale",
    }
    for rule in rules:
        expr = str(rule["expr"])
        used = set(re.findall(r"\bphotochanger_[a-z0-9_]+", expr))
        assert used <= exported, (rule["alert"], used - exported)
        assert rule.get("for"), rule["alert"]
        assert isinstance(rule.get("labels"), dict)
        assert "severity" in rule["labels"]  # type: ignore[operator]


def test_thresholds_are_the_documented_ones() -> None:
    exprs = {str(rule["alert"]): " ".join(str(rule["expr"]).split()) for rule in _rules()}
    assert exprs["PhotoChangerTimeoutRateHigh"].endswith("> 0.05")
    assert exprs["PhotoChangerMediaDiskAlmostFull"].endswith("> 0.80")
    assert "30 * 60" in exprs["PhotoChangerCleanupStale"]
    assert "photochanger_t_sync_response_seconds" in exprs["PhotoChangerIngestP95AboveDeadline"]
    assert exprs["PhotoChangerTargetDown"].startswith("up{")


def test_promtool_accepts_the_rules() -> None:
    promtool = require_tool("promtool", "checks the alert rules (Debian package `prometheus`)")
    result = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout
