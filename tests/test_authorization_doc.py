"""docs/authorization.md is the table the served OpenAPI document carries, as generated."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "authorization_table.py"


def test_the_documented_table_is_the_served_one() -> None:
    spec = importlib.util.spec_from_file_location("authorization_table", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated = module.markdown(module.served_document())
    assert "| DELETE | `$P/datasets/{dataset}` | admin | yes |" in generated
    assert module.DOC.read_text() == generated, "run: python scripts/authorization_table.py"
