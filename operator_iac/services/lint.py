"""``lint`` as a service: the declarations ``validate`` loads (the same PATHs, projects and
loose agent files), seen by each environment, checked against the rule table with the
project's ``lint:`` configuration. Offline: nothing here reads an API key or opens a
connection.

Without ``env`` every environment of the project is linted (a finding several share is
reported once, naming them); without environments, the declarations as written. Agents with
validation errors are not linted: their errors are reported instead, as problems.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from operator_iac.errors import ConfigurationError, DeclarationError, Diagnostic, Severity
from operator_iac.lint.catalog import RULES
from operator_iac.lint.config import effective_config
from operator_iac.lint.engine import EnvironmentRun, run_rules
from operator_iac.lint.findings import Finding
from operator_iac.lint.report import LintReport
from operator_iac.lint.views import agent_view
from operator_iac.services.validate import CheckedUnit, check_paths
from operator_iac.spec.base import did_you_mean
from operator_iac.spec.lint_settings import LintSettings
from operator_iac.spec.loader import DataPath, YamlDocument, read_text
from operator_iac.spec.project import sort_diagnostics


def lint_paths(paths: Sequence[Path], project_file: Path | None = None, env: str | None = None,
               fail_on: Severity = "error", start: Path | None = None) -> LintReport:
    """Lint the given PATHs (as ``validate`` takes them), or the project's agents."""
    units, problems = check_paths(paths, project_file, start)
    findings: list[Finding] = []
    files = agents = 0
    linted: list[str] = []
    for unit in units:
        found, unit_problems, environments, count = _lint_unit(unit, env)
        findings += found
        problems += unit_problems
        files += len(unit.targets)
        agents += count
        linted += [e for e in environments if e not in linted]
    shown = {f.at.file for f in findings} | {d.file for d in problems}
    return LintReport(tuple(findings), tuple(sort_diagnostics(problems)), files, agents,
                      tuple(linted), fail_on, {file: repository_uri(file) for file in shown})


def _lint_unit(unit: CheckedUnit, env: str | None
               ) -> tuple[list[Finding], list[Diagnostic], list[str], int]:
    problems = [d for d in unit.diagnostics if d.severity == "error"] + _unknown_rules(unit)
    reported = unit.valid_keys()
    environments = _environments(unit, env)
    project = unit.project.lint if unit.project is not None else None
    runs = [_run(unit, name, reported) for name in environments]
    sources = dict(_sources(unit, runs))
    # One environment, or some agents, cannot tell that a suppression is stale: it may be
    # meant for a finding of another environment, or of an agent not linted.
    whole = set() if env is not None else set(sources) - _shared_with_unlinted(unit, runs)
    findings = run_rules(runs, sources, effective_config(project), report_unused=whole)
    return findings, problems, [e for e in environments if e], len(reported)


def _environments(unit: CheckedUnit, env: str | None) -> list[str | None]:
    known = list(unit.project.environments) if unit.project is not None else []
    if env is None:
        return list(known) or [None]
    if env not in known:
        where = "the project file" if unit.project is not None else "no project file"
        raise ConfigurationError(f"unknown environment {env!r}{did_you_mean(env, known)} "
                                 f"(environments in {where}: {', '.join(known) or 'none'})")
    return [env]


def _run(unit: CheckedUnit, environment: str | None, reported: frozenset[str]) -> EnvironmentRun:
    project, document = unit.project, unit.document
    views = {key: view for key, agent in unit.agents.items()
             if (view := agent_view(agent, project, document, environment)) is not None}
    env = project.environments.get(environment) if project and environment else None
    config = effective_config(project.lint if project else None,
                              env.lint if env is not None else None)
    return EnvironmentRun(environment, config, views, frozenset(k for k in reported
                                                                if k in views),
                          complete=project is not None)


def _shared_with_unlinted(unit: CheckedUnit, runs: Sequence[EnvironmentRun]) -> set[str]:
    """The files that agents not linted (not named by the PATHs, or invalid) are made from
    too; the project file holds every agent's overrides."""
    linted = {key for run in runs for key in run.reported}
    others = [a for a in unit.agents.values() if a.key not in linted]
    files = {f for a in others for f in a.sources}
    files.update(f for run in runs for key, view in run.views.items()
                 if key not in run.reported for f in view.prompt_files)
    if others and unit.document is not None:
        files.add(unit.document.display)
    return files


def _unknown_rules(unit: CheckedUnit) -> list[Diagnostic]:
    """Rule ids in the configuration that are not rules: an error, like any invalid input,
    so that a typo never leaves a rule at a severity nobody chose."""
    if unit.project is None or unit.document is None:
        return []
    sections: list[tuple[DataPath, LintSettings | None]] = [(("lint",), unit.project.lint)]
    sections += [(("environments", name, "lint"), env.lint)
                 for name, env in unit.project.environments.items()]
    return [unit.document.diagnostic((*where, "rules", rule),
                                     f"{rule} is not a lint rule{did_you_mean(rule, RULES)}",
                                     at_key=True)
            for where, settings in sections if settings is not None
            for rule in settings.rules if rule not in RULES]


def _sources(unit: CheckedUnit, runs: Sequence[EnvironmentRun]) -> Iterator[tuple[str, str]]:
    """The text of every file findings may point into, for suppression comments."""
    documents: list[YamlDocument] = [unit.document] if unit.document is not None else []
    prompts: set[str] = set()
    for run in runs:
        for key in run.reported:
            view = run.views[key]
            documents += [view.agent.document, *view.agent.document.layers.values()]
            prompts.update(view.prompt_files)
    seen: set[str] = set()
    for document in documents:
        if document.display not in seen:
            seen.add(document.display)
            yield document.display, document.source
    for display in sorted(prompts - seen):
        try:
            yield display, read_text(Path(display), "prompt file")
        except DeclarationError:
            continue  # validate reported it; nothing to suppress in a file that cannot be read


def repository_uri(display: str) -> str:
    """A file's path relative to the root of the git repository holding it (the nearest
    folder with ``.git``), or to the working directory outside one: the form code scanning
    needs to place a finding on a file."""
    absolute = Path(os.path.abspath(display))
    for folder in absolute.parents:
        if (folder / ".git").exists():
            return absolute.relative_to(folder).as_posix()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()
