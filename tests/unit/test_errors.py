"""The error hierarchy: one module, and a drawn tree that matches the classes."""

from __future__ import annotations

import inspect

from operator_iac import errors


def error_classes() -> list[type[errors.OperatorIacError]]:
    return [value for _, value in inspect.getmembers(errors, inspect.isclass)
            if issubclass(value, errors.OperatorIacError) and value.__module__ == errors.__name__]


def test_the_drawn_tree_names_every_error_class() -> None:
    tree = errors.__doc__ or ""
    assert [cls.__name__ for cls in error_classes() if cls.__name__ not in tree] == []


def test_an_ambiguous_write_is_a_transport_error() -> None:
    error = errors.AmbiguousWriteError("POST", "/conversational_agents", 502, "HTTP 502")
    assert isinstance(error, errors.TransportError)
    assert error.exit_code == 1
    assert (error.method, error.path, error.status) == ("POST", "/conversational_agents", 502)
    assert "may or may not have been applied" in str(error)


def test_the_api_package_re_exports_the_one_class() -> None:
    from operator_iac import api

    assert api.AmbiguousWriteError is errors.AmbiguousWriteError
