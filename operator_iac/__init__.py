"""operator-iac: Operator agents as code.

The public Python API for scripts is re-exported here lazily, so that importing the package
(and ``operator-iac --version``) stays cheap: nothing heavy is imported until it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_LAZY_EXPORTS: dict[str, str] = {
    "load_project": "operator_iac.spec.project",
    "Project": "operator_iac.spec.project",
}

__all__ = ["__version__", *_LAZY_EXPORTS]


def __getattr__(name: str) -> Any:
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'operator_iac' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(__all__)
