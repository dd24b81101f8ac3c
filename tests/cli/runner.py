"""``pictograph`` run in-process through click's test runner, on an embedded or served store."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from pictograph.cli.main import cli

#: Every PICTOGRAPH_* variable a command reads; unset unless a target sets it.
PICTOGRAPH_ENV = (
    "PICTOGRAPH_API_KEY",
    "PICTOGRAPH_BASE_URL",
    "PICTOGRAPH_HOME",
    "PICTOGRAPH_DATABASE_URL",
    "PICTOGRAPH_STORAGE_URL",
)


@dataclass
class Pictograph:
    """The command line pointed at one store: ``pictograph(*args)`` runs one command."""

    kind: str
    global_args: list[str] = field(default_factory=list)
    env: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def embedded(cls, home: Path, database_url: str | None = None) -> Pictograph:
        env: dict[str, str | None] = dict.fromkeys(PICTOGRAPH_ENV)
        env["PICTOGRAPH_HOME"] = str(home)
        env["PICTOGRAPH_DATABASE_URL"] = database_url
        return cls("embedded", env=env)

    @classmethod
    def served(cls, base_url: str, api_key: str) -> Pictograph:
        return cls(
            "served",
            ["--base-url", base_url, "--api-key", api_key],
            dict.fromkeys(PICTOGRAPH_ENV),
        )

    def __call__(self, *args: object, stdin: str | None = None) -> Result:
        command = [*self.global_args, *(str(arg) for arg in args)]
        return CliRunner().invoke(cli, command, env=self.env, input=stdin)

    def json(self, *args: object) -> Any:
        """The JSON a command printed with ``--json``; the command must have exited 0."""
        result = self(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)


def expect(result: Result, code: int) -> Result:
    """Assert the exit status, showing the output when it is not the expected one."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    return result


def one_error_line(result: Result) -> str:
    """The single ``error: ...`` line on stderr (no traceback), asserted to be alone."""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    return lines[0]
