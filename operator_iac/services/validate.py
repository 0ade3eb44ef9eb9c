"""``validate`` as a service: which files to check for the PATHs given, and every diagnostic
about them, gathered into one report (no exceptions for bad declarations).

PATHs may name agent files, directories of agent files, or projects (a directory holding
``operator-iac.yaml``, or that file itself). Loose agent files are checked against the
project whose agents directory holds them, so references to sibling agents resolve and
environment checks apply; with no such project they are checked on their own.
A file named explicitly must be YAML; in directories, non-YAML files are ignored.

A prompt or fragment file (any file inside a project that is not an agent file, such as
``agents/prompts/booking.md``) is checked through the agents that read it: naming it
validates every agent file of its project whose declaration is made from it, so a broken
``@tool`` reference in a prompt is caught when only the prompt changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from operator_iac.errors import Diagnostic, ProjectFileError
from operator_iac.settings import PROJECT_FILE_NAME, Settings
from operator_iac.spec.agent_file import AgentFile
from operator_iac.spec.discovery import AGENT_SUFFIXES, PROMPT_FOLDERS, agent_files_in
from operator_iac.spec.loader import START, YamlDocument, display_path, real_path
from operator_iac.spec.project import (
    check_project,
    find_project_file,
    load_agents,
    missing_agents_dir,
    read_project_file,
    sort_diagnostics,
)
from operator_iac.spec.project_file import ProjectFile
from operator_iac.spec.validation import ValidationReport


@dataclass
class _Unit:
    """Files checked together: targets are reported on; context only resolves references;
    the agent files that read a ``through`` file (a prompt or fragment) become targets."""

    project_file: Path | None
    targets: list[Path] = field(default_factory=list)
    context: list[Path] = field(default_factory=list)
    through: list[Path] = field(default_factory=list)


def validate_paths(paths: Sequence[Path], project_file: Path | None = None,
                   start: Path | None = None) -> ValidationReport:
    """Validate the given PATHs, or the project's agents directory when there are none."""
    units, problems = check_paths(paths, project_file, start)
    diagnostics, files, valid = list(problems), 0, 0
    for unit in units:
        diagnostics += unit.diagnostics
        files += len(unit.targets)
        valid += unit.valid_agents()
    return ValidationReport(tuple(sort_diagnostics(diagnostics)), files, valid)


@dataclass(frozen=True)
class CheckedUnit:
    """Agent files loaded and checked together (with their project file, if any): the agents
    that loaded, the diagnostics to report, and the agent files asked for (display paths).
    ``lint`` works on these too, so that both commands see the same declarations."""

    project: ProjectFile | None
    document: YamlDocument | None
    agents: dict[str, AgentFile]
    diagnostics: list[Diagnostic]
    targets: tuple[str, ...]
    # Per agent file (display path), the files its declarations were made from.
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def valid_agents(self) -> int:
        return len(self.valid_keys())

    def valid_keys(self) -> frozenset[str]:
        """Keys of the agents declared by the files asked for whose files have no error (a
        template declares several, a base file none)."""
        bad = {d.file for d in self.diagnostics if d.severity == "error"}
        return frozenset(a.key for a in self.agents.values()
                         if a.document.display in self.targets and not bad.intersection(a.sources))


def check_paths(paths: Sequence[Path], project_file: Path | None = None,
                start: Path | None = None) -> tuple[list[CheckedUnit], list[Diagnostic]]:
    """The PATHs (or the project's agents directory when there are none) loaded and checked,
    unit by unit, and the problems with the PATHs themselves."""
    problems: list[Diagnostic] = []
    if paths:
        units = _units_for_paths(paths, project_file, problems)
    else:
        units = [_Unit(find_project_file(project_file, start))]
    return [_check_unit(unit) for unit in units], problems


def _is_project(path: Path) -> bool:
    return path.name == PROJECT_FILE_NAME or (path.is_dir() and
                                              (path / PROJECT_FILE_NAME).is_file())


def _units_for_paths(paths: Sequence[Path], project_file: Path | None,
                     problems: list[Diagnostic]) -> list[_Unit]:
    units: list[_Unit] = []
    loose: list[Path] = []
    through: list[Path] = []
    for path in paths:
        if _is_project(path):
            units.append(_Unit(path if path.is_file() else path / PROJECT_FILE_NAME))
        elif path.is_dir():
            loose += agent_files_in(path)
        elif _is_agent_file(path):
            loose.append(path)
        elif path.is_file():
            through.append(path)  # a prompt or fragment file, if a project holds it
        else:
            problems.append(_not_an_agent_file(path))
    if loose:
        units.append(_loose_unit(_unique(loose), project_file))
    for unit in _prompt_unit(_unique(through), project_file, problems) if through else []:
        # Agent files named beside their prompt files are checked once, in one unit.
        same = [u for u in units if u.project_file is not None and u.targets
                and real_path(u.project_file) == real_path(unit.project_file or Path())]
        if same:
            same[0].through += unit.through
        else:
            units.append(unit)
    return units


def _is_agent_file(path: Path) -> bool:
    return (path.suffix.lower() in AGENT_SUFFIXES
            and PROMPT_FOLDERS.isdisjoint(path.parent.parts))


def _not_an_agent_file(path: Path) -> Diagnostic:
    return Diagnostic(display_path(path), START.line, START.column,
                      "not an agent file: agent files end in .yaml or .yml (prompt and "
                      "fragment files are checked inside a project, through the agents "
                      "reading them)")


def _prompt_unit(files: list[Path], project_file: Path | None,
                 problems: list[Diagnostic]) -> list[_Unit]:
    """Prompt and fragment files, checked through every agent file of their project."""
    candidate = Settings(project_file=project_file).find_project_file(files[0].parent)
    spec, doc, _ = read_project_file(candidate) if candidate is not None else (None, None, [])
    if spec is None or doc is None:
        problems += [_not_an_agent_file(path) for path in files]
        return []
    root = real_path(doc.path.parent)
    inside = [f for f in files if real_path(f).is_relative_to(root)]
    problems += [_not_an_agent_file(path) for path in files if path not in inside]
    agents_dir = doc.path.parent / spec.agents_dir
    every = agent_files_in(agents_dir) if agents_dir.is_dir() else []
    return [_Unit(candidate, context=every, through=inside)] if inside else []


def _unique(paths: list[Path]) -> list[Path]:
    return list({real_path(p): p for p in paths}.values())


def _loose_unit(files: list[Path], project_file: Path | None) -> _Unit:
    """Loose files belong to a project if one is named, or if they sit in its agents dir."""
    candidate = Settings(project_file=project_file).find_project_file(files[0].parent)
    if candidate is None:
        return _Unit(None, files)
    spec, doc, _ = read_project_file(candidate)
    if spec is None or doc is None:
        return _Unit(candidate, files) if project_file else _Unit(None, files)
    agents_dir = real_path(doc.path.parent / spec.agents_dir)
    inside = all(real_path(f.parent).is_relative_to(agents_dir) for f in files)
    if not inside and project_file is None:
        return _Unit(None, files)
    siblings = agent_files_in(agents_dir) if agents_dir.is_dir() else []
    chosen = {real_path(f) for f in files}
    return _Unit(candidate, files, [p for p in siblings if real_path(p) not in chosen])


def _check_unit(unit: _Unit) -> CheckedUnit:
    spec, doc, diagnostics, targets = _open(unit)
    if targets is None:
        return CheckedUnit(None, None, {}, diagnostics, ())
    loaded = load_agents([*targets, *unit.context], doc.path.parent if doc is not None else None)
    agents, found = loaded.agents, loaded.diagnostics
    targets = [*targets, *_readers(unit, targets, loaded.sources, diagnostics)]
    if spec is not None and doc is not None:
        found += check_project(agents, spec, doc, loaded.unchecked)
    reported = _reported_files(targets, loaded.sources, doc)
    diagnostics += [d for d in found if d.file in reported]
    return CheckedUnit(spec, doc, agents, diagnostics,
                       tuple(display_path(p) for p in targets), loaded.sources)


def _open(unit: _Unit) -> tuple[ProjectFile | None, YamlDocument | None, list[Diagnostic],
                                list[Path] | None]:
    """The unit's project file (if any), its diagnostics, and the agent files to check
    (None when the project file is too broken to say)."""
    if unit.project_file is None:
        return None, None, [], unit.targets
    if not unit.project_file.is_file():
        raise ProjectFileError(f"{display_path(unit.project_file)}: project file not found")
    spec, doc, diagnostics = read_project_file(unit.project_file)
    if spec is None or doc is None:
        return None, None, diagnostics, None
    if unit.targets or unit.context:
        return spec, doc, diagnostics, unit.targets
    agents_dir = doc.path.parent / spec.agents_dir
    if not agents_dir.is_dir():
        return None, None, [*diagnostics, missing_agents_dir(doc, spec)], None
    return spec, doc, diagnostics, agent_files_in(agents_dir)


def _readers(unit: _Unit, targets: list[Path], sources: Mapping[str, tuple[str, ...]],
             diagnostics: list[Diagnostic]) -> list[Path]:
    """The agent files (of the unit's context) made from one of its ``through`` files; a
    warning for each such file that no agent file reads."""
    wanted = {display_path(p) for p in unit.through}
    readers = [p for p in unit.context if wanted.intersection(sources.get(display_path(p), ()))]
    read = {f for p in [*targets, *readers] for f in sources.get(display_path(p), ())}
    diagnostics += [Diagnostic(name, 0, 0, "no agent file of the project reads this file, so "
                               "nothing in it is checked", "warning")
                    for name in sorted(wanted - read)]
    return readers


def _reported_files(targets: list[Path], sources: Mapping[str, tuple[str, ...]],
                    doc: YamlDocument | None) -> set[str]:
    """Files whose diagnostics are shown: the targets, the files their declarations are made
    from (bases, prompt files, fragments), the project file."""
    shown = {display_path(p) for p in targets}
    shown |= {source for target in list(shown) for source in sources.get(target, ())}
    if doc is not None:
        shown.add(doc.display)
    return shown
