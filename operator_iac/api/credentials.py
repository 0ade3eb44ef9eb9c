"""The API key: read from the environment variable an environment names, held as a secret.

The key is a ``pydantic.SecretStr`` from the moment it is read, so its ``repr`` and ``str``
show asterisks; only the client's header builder ever calls ``get_secret_value()``. Errors
name the variable that was looked up, never a value.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import SecretStr

from operator_iac.defaults import API_KEY_ENV
from operator_iac.errors import ConfigurationError


def api_key_from_environ(var_name: str | None, environ: Mapping[str, str]) -> SecretStr:
    """The API key held in ``var_name`` (or ``OPERATOR_API_KEY`` when no name is given).

    An unset or blank variable raises ``ConfigurationError`` naming the variable.
    """
    name = var_name or API_KEY_ENV
    value = environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            f"no API key: the environment variable {name} is not set "
            "(set it to your Operator API key)"
        )
    return SecretStr(value)


def as_secret(api_key: SecretStr | str) -> SecretStr:
    """Wrap a plain string key so that nothing downstream can print it by accident."""
    return api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
