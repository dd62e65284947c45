"""Schemathesis over /openapi.json against the real server: no server error, every response fits its schema."""

from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.reliability.conftest import admin_headers
from tests.support.server import ServerProcess

pytestmark = pytest.mark.reliability

EXAMPLES_PER_OPERATION = 12
# Operations that would end the run's own session: the admin's password, its sessions, its account.
SELF_DESTRUCTIVE = ("/api/auth/logout", "/api/auth/password", "/api/auth/sessions")


def test_every_operation_answers_within_its_schema_and_without_server_errors(server: ServerProcess) -> None:
    raw = httpx.get(f"{server.base_url}/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(raw)
    headers = admin_headers(server.base_url)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid operation raises here, failing the test
        if operation.path.startswith(SELF_DESTRUCTIVE) or operation.path.startswith("/api/users"):
            continue
        operations += 1
        strategy = operation.as_strategy()

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            case.call_and_validate(
                base_url=server.base_url,
                headers=headers,
                checks=[not_a_server_error, response_schema_conformance],
                timeout=30,
            )

        try:
            run()
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}"[:2000])
    assert operations > 20
    assert not failures, "\n\n".join(failures)
