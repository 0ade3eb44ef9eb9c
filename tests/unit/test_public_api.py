"""The Python API for scripts: every name in ``__all__`` resolves, and importing the package
stays cheap (nothing heavy until a name is used)."""

from __future__ import annotations

import subprocess
import sys

import operator_iac


def test_every_exported_name_resolves() -> None:
    for name in operator_iac.__all__:
        assert getattr(operator_iac, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        operator_iac.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_importing_the_package_imports_no_heavy_module() -> None:
    code = ("import sys, operator_iac.cli.main; "
            "print(sorted(m for m in ('pydantic', 'httpx', 'yaml', 'deepdiff', 'starlette') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"
