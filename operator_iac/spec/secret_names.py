"""Which process variables a declaration may read into an agent as ``${env:NAME}``.

Whatever ``${env:NAME}`` reads is written into the agent on the platform, where every
dashboard user can read it and a caller can try to make the agent say it. So a name is
allowed only when the project file declares it in ``secrets:`` (top level: every
environment; under an environment: that one), and some names are refused even when
declared: the variables that hold operator-iac's own API keys (any environment's
``api_key_env``, ``OPERATOR_API_KEY*``), operator-iac's settings (``OPERATOR_IAC_*``), and
well-known CI and cloud credentials (``REFUSED_NAMES``), which a CI job has in its
environment and no agent needs.

Pure: the rules take the project file's model and names, never the environment.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

from operator_iac.defaults import API_KEY_ENV
from operator_iac.settings import VARIABLE_PREFIX

if TYPE_CHECKING:
    from operator_iac.spec.project_file import ProjectFile

# (pattern, what the variable is), as upper-case shell patterns. A name is matched whatever
# its case: on Windows ``${env:github_token}`` reads GITHUB_TOKEN.
OWN_NAMES: tuple[tuple[str, str], ...] = (
    (f"{API_KEY_ENV}*", "an Operator API key"),
    (f"{VARIABLE_PREFIX}*", "an operator-iac setting"),
)
# Credentials a CI job or a cloud SDK holds: never an agent's, nor operator-iac's API key.
CI_CREDENTIALS: tuple[tuple[str, str], ...] = (
    ("GITHUB_TOKEN", "the GitHub Actions token"),
    ("GH_TOKEN", "a GitHub token"),
    ("GH_ENTERPRISE_TOKEN", "a GitHub token"),
    ("GITHUB_ENTERPRISE_TOKEN", "a GitHub token"),
    ("ACTIONS_*", "a GitHub Actions runner credential"),
    ("CI_JOB_TOKEN", "the GitLab CI job token"),
    ("CI_JOB_JWT*", "a GitLab CI identity token"),
    ("CI_REGISTRY_PASSWORD", "a GitLab CI credential"),
    ("CI_DEPLOY_PASSWORD", "a GitLab CI credential"),
    ("AWS_ACCESS_KEY_ID", "an AWS credential"),
    ("AWS_*SECRET*", "an AWS credential"),
    ("AWS_*TOKEN*", "an AWS credential"),
    ("GOOGLE_APPLICATION_CREDENTIALS", "a Google Cloud credential"),
    ("GOOGLE_GHA_CREDS_PATH", "a Google Cloud credential"),
    ("GOOGLE_OAUTH_ACCESS_TOKEN", "a Google Cloud credential"),
    ("CLOUDSDK_AUTH_ACCESS_TOKEN", "a Google Cloud credential"),
    ("AZURE_*SECRET*", "an Azure credential"),
    ("AZURE_*PASSWORD*", "an Azure credential"),
    ("AZURE_*TOKEN*", "an Azure credential"),
    ("AZURE_*CERTIFICATE*", "an Azure credential"),
    ("ARM_CLIENT_SECRET", "an Azure credential"),
    ("ARM_ACCESS_KEY", "an Azure credential"),
)
REFUSED_NAMES = OWN_NAMES + CI_CREDENTIALS


def key_variables(project: ProjectFile) -> frozenset[str]:
    """The variables that hold the project's API keys: every environment's ``api_key_env``,
    and the default one."""
    return frozenset({API_KEY_ENV,
                      *(env.api_key_env for env in project.environments.values())})


def refusal(name: str, project: ProjectFile) -> str | None:
    """Why ``${env:name}`` may never be read into an agent, or None when it may be (once
    declared)."""
    if name.upper() in {key.upper() for key in key_variables(project)}:
        return "it holds an operator-iac API key (api_key_env)"
    what = _matching(name, REFUSED_NAMES)
    return f"it is {what}" if what is not None else None


def credential_kind(name: str) -> str | None:
    """What CI or cloud credential ``name`` is, if it is one (``api_key_env`` may not name
    one either: the key is sent to the platform with every request)."""
    return _matching(name, CI_CREDENTIALS)


def key_variable_refusal(name: str) -> str | None:
    """Why ``api_key_env`` may not name ``name`` (a CI or cloud credential), or None."""
    what = credential_kind(name)
    return None if what is None else (
        f"api_key_env names {name}, which is {what}: the API key is sent with every "
        "request; name the variable that holds the Operator API key")


def _matching(name: str, patterns: tuple[tuple[str, str], ...]) -> str | None:
    return next((what for pattern, what in patterns if fnmatchcase(name.upper(), pattern)),
                None)


def declared_secrets(project: ProjectFile, env_name: str | None) -> frozenset[str]:
    """The names agents may read in ``env_name`` (None: no environment): the top-level
    ``secrets`` and the environment's own, less any refused name."""
    env = project.environments.get(env_name) if env_name is not None else None
    names: Iterable[str] = [*project.secrets, *(env.secrets if env is not None else ())]
    return frozenset(n for n in names if refusal(n, project) is None)


def undeclared_message(name: str, envs: Iterable[str | None]) -> str:
    """What to add to the project file so that ``${env:name}`` may be read."""
    named = [e for e in envs if e is not None]
    where = (f" for environment{'s' if len(named) > 1 else ''} {', '.join(named)}"
             if named else "")
    return (f"${{env:{name}}} is not a declared secret{where}: only variables the project "
            f"file lists under secrets are read into agents; add `secrets: [{name}]` to "
            "operator-iac.yaml (top level for every environment, or under an environment "
            "for that one)")


def refused_message(name: str, reason: str) -> str:
    return (f"${{env:{name}}} can never be a secret of an agent: {reason}, and whatever an "
            "agent holds, every dashboard user can read and a caller can make the agent say")
