"""The API key: read from the environment variable an environment names, held as a secret.

The key is a ``pydantic.SecretStr`` from the moment it is read, so its ``repr`` and ``str``
show asterisks; only the client's header builder ever calls ``get_secret_value()``. The one
exception is ``key_in_environ``, for the reads sent before the models are loaded
(``api.early``): it hands the text straight to the headers of those requests, which httpx
masks in its own ``repr``. Errors name the variable that was looked up, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from operator_iac.defaults import API_KEY_ENV
from operator_iac.errors import ConfigurationError

if TYPE_CHECKING:
    from pydantic import SecretStr


def api_key_from_environ(var_name: str | None, environ: Mapping[str, str]) -> SecretStr:
    """The API key held in ``var_name`` (or ``OPERATOR_API_KEY`` when no name is given).

    An unset or blank variable raises ``ConfigurationError`` naming the variable.
    """
    from pydantic import SecretStr

    return SecretStr(key_in_environ(var_name, environ))


def key_in_environ(var_name: str | None, environ: Mapping[str, str]) -> str:
    """``api_key_from_environ`` as text, without loading pydantic (see the module
    docstring)."""
    name = var_name or API_KEY_ENV
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            f"no API key: the environment variable {name} is not set "
            "(set it to your Operator API key)"
        )
    return value


def as_secret(api_key: SecretStr | str) -> SecretStr:
    """Wrap a plain string key so that nothing downstream can print it by accident."""
    from pydantic import SecretStr

    return api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
