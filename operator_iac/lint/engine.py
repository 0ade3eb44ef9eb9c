"""Running the rule table: every enabled rule on every agent of every environment's view,
findings that several environments share merged into one, then inline suppressions applied
and the suppression comments themselves checked. Pure: the caller gives the views, the
configuration of each environment, and the text of the files (for suppression comments).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace

from operator_iac.lint.catalog import RULES, SUPPRESSION_WITHOUT_REASON, USELESS_SUPPRESSION
from operator_iac.lint.config import LintConfig
from operator_iac.lint.findings import SEVERITY_RANK, Finding, Location
from operator_iac.lint.rule import Context, Rule
from operator_iac.lint.suppressions import Suppression, find_suppressions, suppressing
from operator_iac.lint.views import AgentView


@dataclass(frozen=True)
class EnvironmentRun:
    """The agents of one environment's view (all of them, by key: rules may look at the
    others), the configuration in force there, and which agents to report on."""

    environment: str | None
    config: LintConfig
    views: Mapping[str, AgentView]
    reported: frozenset[str]
    complete: bool = True


@dataclass(frozen=True)
class _Found:
    finding: Finding
    # More lines whose suppression comment silences it (the prompt's ``file:`` line).
    also: tuple[Location, ...] = ()


def run_rules(runs: Sequence[EnvironmentRun], sources: Mapping[str, str],
              config: LintConfig, *, report_unused: Collection[str]) -> list[Finding]:
    """Every finding of every run, merged and suppressed; ``config`` (the project's, without
    an environment) sets the severity of the findings about suppression comments, and
    ``report_unused`` names the files whose every finding the runs saw, where a suppression
    that silenced nothing is known to be stale."""
    merged = _merge(f for run in runs for f in _run(run))
    table = find_suppressions(sources)
    used: set[tuple[str, int, str]] = set()
    findings: list[Finding] = []
    for found in merged:
        rule = found.finding.rule
        by = suppressing(rule, (found.finding.at, *found.also), table)
        if by is not None:
            used.add((by.at.file, by.at.line, rule))
            findings.append(replace(found.finding, suppressed=by.reason))
        else:
            findings.append(found.finding)
    findings += _comment_findings(table.values(), used, config, report_unused)
    return sorted(findings, key=lambda f: (f.at, f.rule, f.message))


def _run(run: EnvironmentRun) -> Iterator[_Found]:
    context = Context(run.config, run.views, run.complete)
    environments = (run.environment,) if run.environment else ()
    for key in sorted(run.reported):
        view = run.views[key]
        declared = view.prompt_declared_at()
        for rule in RULES.values():
            level = run.config.level(rule.id, rule.severity)
            if rule.check is None or level == "off":
                continue
            for hit in rule.check(view, context):
                also = (declared,) if declared and hit.at.file in view.prompt_files else ()
                yield _Found(Finding(rule.id, level, hit.at, hit.message, key, environments),
                             also)


def _merge(found: Iterator[_Found]) -> list[_Found]:
    """One finding per rule, place and message: the environments it was found in, and the
    highest severity any of them gives it."""
    merged: dict[tuple[str, Location, str], _Found] = {}
    for item in found:
        key = item.finding.merge_key()
        seen = merged.get(key)
        if seen is None:
            merged[key] = item
            continue
        old, new = seen.finding, item.finding
        severity = max(old.severity, new.severity, key=SEVERITY_RANK.__getitem__)
        environments = tuple(dict.fromkeys((*old.environments, *new.environments)))
        merged[key] = replace(seen, finding=replace(old, severity=severity,
                                                    environments=environments))
    return list(merged.values())


def _comment_findings(comments: Iterable[Suppression], used: set[tuple[str, int, str]],
                      config: LintConfig, report_unused: Collection[str]) -> list[Finding]:
    found: list[Finding] = []
    for comment in comments:
        if not comment.reason:
            found += _meta(config, SUPPRESSION_WITHOUT_REASON, comment.at,
                           "suppression without a reason silences nothing; write why after "
                           "the bracket")
            continue
        for rule in comment.rules:
            if rule not in RULES:
                found += _meta(config, USELESS_SUPPRESSION, comment.at,
                               f"suppression names {rule!r}, which is not a lint rule")
            elif comment.at.file in report_unused and \
                    (comment.at.file, comment.at.line, rule) not in used:
                found += _meta(config, USELESS_SUPPRESSION, comment.at,
                               f"suppression of {rule} silences nothing on this line")
    return found


def _meta(config: LintConfig, rule_id: str, at: Location, message: str) -> list[Finding]:
    rule: Rule = RULES[rule_id]
    level = config.level(rule.id, rule.severity)
    return [] if level == "off" else [Finding(rule.id, level, at, message)]
