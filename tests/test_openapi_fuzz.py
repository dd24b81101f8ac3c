"""Schemathesis over the OpenAPI document a served instance publishes (bounded examples): no
request it can generate gets a 5xx, and every answer matches the document (the error envelope
included)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)

from tests.served import Served, serve

#: Generated requests per operation: bounded, so CI stays quick.
EXAMPLES = 15


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    home = tmp_path_factory.mktemp("fuzz")
    with serve(home, f"sqlite:///{home / 'db.sqlite'}", "--rate-limit", "0") as running:
        yield running


@pytest.fixture(scope="module")
def api_key(served: Served) -> str:
    return served.create_key("fuzz")


def test_generated_requests_get_no_server_error_and_answers_match_the_document(
    served: Served, api_key: str
) -> None:
    document = schemathesis.openapi.from_url(f"{served.base_url}/openapi.json")
    problems: list[str] = []
    operations = 0
    for loaded in document.include(path_regex="^/api/v1/developer/").get_all_operations():
        operation = loaded.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: schemathesis.Case) -> None:
            case.call_and_validate(
                base_url=served.base_url,
                headers={"X-API-Key": api_key},
                checks=[not_a_server_error, response_schema_conformance, content_type_conformance],
                timeout=30,
            )

        try:
            exercise()
        except Exception as failure:  # each operation's first failure, all reported together
            problems.append(f"{operation.method.upper()} {operation.path}: {failure}")
    assert operations >= 15
    assert problems == []
