"""Where a run points: the loaded project, the chosen environment, and the platform (URL and
API key) it talks to. Both the CLI and the Python API build one of these before any request,
so that every configuration mistake (unknown environment, unset key variable, missing
``${var:...}``) is reported before anything is sent.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from operator_iac.errors import ConfigurationError
from operator_iac.settings import (
    API_URL_VARIABLE,
    ENV_VARIABLE,
    NO_CACHE_VARIABLE,
    cache_directory,
)
from operator_iac.spec.secrets import SECRETS

if TYPE_CHECKING:
    from pydantic import SecretStr

    from operator_iac.api.client import OperatorClient
    from operator_iac.plan.marker import Owner
    from operator_iac.spec.desired import DesiredAgent
    from operator_iac.spec.project import Project
    from operator_iac.spec.project_file import Environment
    from operator_iac.state.cache import RevisionCache
    from operator_iac.state.journal import WritesJournal



@dataclass(frozen=True)
class Target:
    """Where a run points: the loaded project, the chosen environment (None for a project
    without environments), the platform's URL and API key (never printed), and the WebSocket
    base when it differs from the one derived from the URL."""

    project: Project
    env_name: str | None
    api_url: str
    api_key: SecretStr = field(repr=False)
    ws_url: str | None = None
    # Where released and archived revisions are cached (``operator_iac.state.cache``);
    # None: no cache (``--no-cache``).
    cache_dir: Path | None = None
    # Where the key came from, named when the platform refuses it: "OPERATOR_API_KEY
    # (environment staging)"; None for a key handed over directly.
    key_source: str | None = None
    # Where this machine notes its writes until the platform's lists show them
    # (``operator_iac.state.journal``); None: not noted.
    journal_dir: Path | None = None

    @functools.cached_property
    def writes_journal(self) -> WritesJournal | None:
        """This environment's writes on this machine, noted until the lists show them."""
        if self.journal_dir is None:
            return None
        from operator_iac.state.journal import WritesJournal

        return WritesJournal(self.journal_dir, self.api_url, self.owner)

    @functools.cached_property
    def revision_cache(self) -> RevisionCache | None:
        """The cache of this platform's immutable revisions under this API key, if any."""
        if self.cache_dir is None:
            return None
        from operator_iac.state.cache import RevisionCache

        return RevisionCache(self.cache_dir, self.api_url, self.api_key.get_secret_value())

    @property
    def environment(self) -> Environment | None:
        return self.project.environment(self.env_name) if self.env_name else None

    @property
    def owner(self) -> Owner:
        """Who this target's agents belong to: the project, in this environment."""
        from operator_iac.plan.marker import Owner

        return Owner(self.project.name, self.env_name)

    @property
    def protected(self) -> bool:
        env = self.environment
        return bool(env and env.protect)

    def desired(self, environ: Mapping[str, str] | None = None) -> dict[str, DesiredAgent]:
        """Every declared agent as this environment should hold it."""
        from operator_iac.spec.resolve import resolve_project

        return resolve_project(self.project, self.env_name,
                               os.environ if environ is None else environ)

    def client(self, **options: object) -> OperatorClient:
        from operator_iac.api.client import OperatorClient

        return OperatorClient(self.api_url, self.api_key, ws_url=self.ws_url,
                              key_source=self.key_source, **options)  # type: ignore[arg-type]


def choose_environment(project: Project, requested: str | None, *,
                       fallback_to_first: bool = False) -> str | None:
    """The environment a run works on: the requested one (validated), the only one, or (for
    the emulator, where only ``vars`` matter) the first one the project file lists."""
    if requested is not None:
        project.environment(requested)  # raises with the known names
    return pick_environment(list(project.spec.environments), requested,
                            fallback_to_first=fallback_to_first)


def pick_environment(names: Sequence[str], requested: str | None, *,
                     fallback_to_first: bool = False) -> str | None:
    """``choose_environment``'s rule over the environments' ``names`` alone."""
    if requested is not None:
        if requested not in names:
            raise ConfigurationError(f"unknown environment {requested!r}")
        return requested
    if not names:
        return None
    if len(names) == 1 or fallback_to_first:
        return names[0]
    raise ConfigurationError(
        f"choose an environment with --env or {ENV_VARIABLE} (one of: {', '.join(names)})")


def build_target(project: Project, env_name: str | None, *, api_url: str | None = None,
                 api_key: SecretStr | str | None = None, ws_url: str | None = None,
                 environ: Mapping[str, str] | None = None,
                 cache: bool | Path = True, url_variable: bool = True) -> Target:
    """Resolve URL and key for ``env_name``: explicit arguments win, then
    ``OPERATOR_IAC_API_URL`` (unless ``url_variable`` is False: it points the main
    environment of a command elsewhere, not the other one a promotion reads), then the
    environment's settings in the project file.

    The URL must be one the API key may be sent to (``services.trusted_hosts``): a project
    file naming another host fails here, before the key is even read.

    ``cache``: False for no revision cache, a folder for one there, True (the default) for
    the user's cache directory (``OPERATOR_IAC_CACHE_DIR``), unless
    ``OPERATOR_IAC_NO_CACHE`` is set."""
    environ = os.environ if environ is None else environ
    env = project.environment(env_name) if env_name else None
    url = _api_url(project, env_name, api_url or (
        environ.get(API_URL_VARIABLE) if url_variable else None), environ)
    key, source = key_for(env.api_key_env if env else None, env_name, api_key, environ)
    return Target(project, env_name, url, key, ws_url or (env.ws_url if env else None),
                  cache_dir(cache, environ), source, journal_dir(cache, environ))


def client_without_project(api_url: str | None,
                           environ: Mapping[str, str] | None = None) -> OperatorClient:
    """A client for a command that needs the platform but no declarations (a transcript, a
    check of the platform): ``api_url`` (chosen outside the repository: the command line or
    ``OPERATOR_IAC_API_URL``) or the platform's own, with the key in ``OPERATOR_API_KEY``."""
    from operator_iac.api.client import OperatorClient
    from operator_iac.defaults import API_URL
    from operator_iac.services.trusted_hosts import UrlSource, trusted_api_url

    environ = os.environ if environ is None else environ
    url = trusted_api_url(api_url, UrlSource("outside", "--api-url"), environ) if api_url \
        else API_URL
    key, source = key_for(None, None, None, environ)
    return OperatorClient(url, key, key_source=source)


def key_for(variable: str | None, env_name: str | None, given: SecretStr | str | None,
            environ: Mapping[str, str]) -> tuple[SecretStr, str | None]:
    """The API key (``given``, else the value of ``variable``, by default
    ``OPERATOR_API_KEY``), masked in everything the run writes from now on, and where it came
    from: named when the platform refuses the key, so the message says which variable to fix
    (None for a key handed over directly).

    A variable that holds a CI or cloud credential is never read as the key, whoever asks
    (the project file's checks say so where it is written; this is the last guard before
    anything is sent)."""
    from operator_iac.api.credentials import as_secret

    if given is not None:
        key = as_secret(given)
        SECRETS.add(key.get_secret_value())
        return key, None
    text, source = key_text_for(variable, env_name, environ)
    return as_secret(text), source


def key_text_for(variable: str | None, env_name: str | None,
                 environ: Mapping[str, str]) -> tuple[str, str]:
    """``key_for`` of a key read from the environment, as text: for the reads sent before
    pydantic is loaded (``api.credentials``). The same refusals, and masked the same way."""
    from operator_iac.api.credentials import key_in_environ
    from operator_iac.defaults import API_KEY_ENV
    from operator_iac.spec.secret_names import key_variable_refusal

    refused = key_variable_refusal(variable) if variable is not None else None
    if refused is not None:
        raise ConfigurationError(refused)
    key = key_in_environ(variable, environ)
    name = variable or API_KEY_ENV
    SECRETS.add(key)
    return key, f"{name} (environment {env_name})" if env_name else name


def _api_url(project: Project, env_name: str | None, chosen: str | None,
             environ: Mapping[str, str]) -> str:
    env = project.environment(env_name) if env_name else None
    declared = env.api_url if env is not None else None
    where = ""
    if declared is not None and env_name is not None:
        at = project.document.diagnostic(("environments", env_name, "api_url"), "")
        where = f"{at.file}:{at.line}" if at.line else at.file
    return chosen_api_url(chosen, declared, where, environ)


def chosen_api_url(chosen: str | None, declared: str | None, where: str,
                   environ: Mapping[str, str]) -> str:
    """The API URL, checked where it came from: ``chosen`` outside the repository (a flag,
    the variable, a script), else the environment's ``api_url`` in the project file
    (``declared``, found at ``where``), else the platform's own."""
    from operator_iac.defaults import API_URL
    from operator_iac.services.trusted_hosts import UrlSource, trusted_api_url

    if chosen:
        return trusted_api_url(chosen, UrlSource("outside"), environ)
    if declared is None:
        return API_URL
    return trusted_api_url(declared, UrlSource("project file", where), environ)


def cache_dir(cache: bool | Path, environ: Mapping[str, str]) -> Path | None:
    """Where revisions are cached: nowhere for ``cache=False`` or with
    ``OPERATOR_IAC_NO_CACHE`` set, the user's cache directory for True, else ``cache``."""
    if cache is False or _truthy(environ.get(NO_CACHE_VARIABLE, "")):
        return None
    return cache_directory(environ) if cache is True else Path(cache)


def journal_dir(cache: bool | Path, environ: Mapping[str, str]) -> Path:
    """Where writes are noted (``state.journal``): beside the revision cache, also when
    there is no revision cache (the journal keeps no content, only ids)."""
    return (Path(cache) if isinstance(cache, Path) else cache_directory(environ)) / "journal"


def _truthy(value: str) -> bool:
    return value.strip().lower() not in ("", "0", "false", "no", "off")
