"""``operator_iac.api`` re-exports lazily: pure modules that only need its models do not load
the network and terminal libraries, and every exported name still resolves."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from operator_iac import api

HEAVY = ("httpx", "websockets", "click", "rich")


def modules_loaded_by(*modules: str) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after importing ``modules``."""
    imports = "; ".join(f"import {module}" for module in modules)
    code = (f"import json, sys; {imports}; "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout)


def test_pure_modules_load_no_network_or_terminal_library() -> None:
    assert modules_loaded_by("operator_iac.render.transcript", "operator_iac.smoke.turns") == []


@pytest.mark.parametrize("module", ["operator_iac.api", "operator_iac.api.events",
                                    "operator_iac.api.models", "operator_iac.api.sse"])
def test_the_api_package_and_its_pure_modules_load_none_either(module: str) -> None:
    assert modules_loaded_by(module) == []


def test_every_exported_name_resolves() -> None:
    for name in api.__all__:
        assert getattr(api, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        api.no_such_name  # noqa: B018


def test_submodules_import_as_before() -> None:
    from operator_iac.api import retry

    assert retry.is_retryable("GET", 503, None, False)
