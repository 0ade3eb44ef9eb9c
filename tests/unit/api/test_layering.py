"""Inside ``operator_iac.api``: the client builds the resources and the event stream, which
depend on the transport protocol only, so no import cycle runs through ``client``."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import operator_iac.api
from operator_iac.api.client import OperatorClient
from operator_iac.api.transport import ApiTransport

API = Path(operator_iac.api.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or anywhere else (``TYPE_CHECKING`` too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["resources", "event_stream", "transport"])
def test_what_the_client_builds_does_not_import_the_client(module: str) -> None:
    assert "operator_iac.api.client" not in imported_modules(API / f"{module}.py")


@pytest.mark.parametrize("method", ["request", "request_json", "stream"])
def test_the_client_implements_the_transport(method: str) -> None:
    wanted = inspect.signature(getattr(ApiTransport, method)).parameters
    offered = inspect.signature(getattr(OperatorClient, method)).parameters
    assert list(offered) == list(wanted)
    assert [p.default for p in offered.values()] == [p.default for p in wanted.values()]
