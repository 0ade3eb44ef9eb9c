"""The API key comes from the named variable and never shows."""

from __future__ import annotations

import pytest

from operator_iac.api import api_key_from_environ
from operator_iac.errors import ConfigurationError

KEY = "op_prod_abcdefghijklmnop"


def test_named_variable_is_used() -> None:
    key = api_key_from_environ("OPERATOR_API_KEY_STAGING",
                               {"OPERATOR_API_KEY_STAGING": KEY, "OPERATOR_API_KEY": "other"})
    assert key.get_secret_value() == KEY


def test_default_variable_when_none_is_named() -> None:
    assert api_key_from_environ(None, {"OPERATOR_API_KEY": KEY}).get_secret_value() == KEY


def test_key_is_hidden_in_repr_and_str() -> None:
    key = api_key_from_environ(None, {"OPERATOR_API_KEY": KEY})
    assert KEY not in repr(key)
    assert KEY not in str(key)
    assert KEY not in f"{key}"


@pytest.mark.parametrize("environ", [{}, {"OPERATOR_API_KEY_STAGING": "  "}])
def test_missing_key_names_the_variable(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError) as caught:
        api_key_from_environ("OPERATOR_API_KEY_STAGING", environ)
    assert "OPERATOR_API_KEY_STAGING" in str(caught.value)
    assert caught.value.exit_code == 3
