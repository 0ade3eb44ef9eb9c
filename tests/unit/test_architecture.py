"""The architecture's seams, checked on the source: which layer may import what, where I/O may
happen, and that the installed console script runs. A rule broken here is a design change
that must be made on purpose (and this file changed with it)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "operator_iac"
REPO = PACKAGE.parent
ROOT_FILES = {"__init__.py", "__main__.py", "defaults.py", "errors.py", "settings.py", "py.typed"}
ENGINES = ("plan", "apply", "smoke", "importing", "render", "spec", "state", "api")
NETWORK_LIBRARIES = ("httpx", "httpx_sse", "websockets")


@dataclass(frozen=True)
class Import:
    file: Path
    line: int
    module: str  # the imported module, absolute

    def __str__(self) -> str:
        return f"{self.file.relative_to(REPO)}:{self.line}: {self.module}"


def _module_of(file: Path) -> str:
    parts = file.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(file: Path) -> Iterator[Import]:
    """Every import in ``file``, including those under ``TYPE_CHECKING`` and inside
    functions: a type-only dependency is a dependency too."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    package = _module_of(file).rpartition(".")[0] if file.name != "__init__.py" \
        else _module_of(file)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(file, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield Import(file, node.lineno, module)


def _files(*folders: str) -> list[Path]:
    return sorted(f for folder in folders for f in (PACKAGE / folder).rglob("*.py"))


def _offending(files: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    return [str(i) for f in files for i in _imports(f)
            if any(i.module == m or i.module.startswith(m + ".") for m in forbidden)]


def test_the_package_root_holds_only_its_five_files_and_folders() -> None:
    loose = {p.name for p in PACKAGE.iterdir() if p.is_file()} - ROOT_FILES
    assert loose == set()


def test_the_defaults_import_nothing_and_each_says_what_it_bounds() -> None:
    # Read before anything heavy is loaded (the command line's option defaults), and the one
    # place a default is written: each constant has a docstring right under it.
    body = ast.parse((PACKAGE / "defaults.py").read_text(encoding="utf-8")).body
    imports = [str(i) for i in _imports(PACKAGE / "defaults.py") if i.module != "__future__"]
    assert imports == []
    undocumented = [target.id for node, after in zip(body, [*body[1:], None], strict=True)
                    if isinstance(node, ast.Assign) for target in node.targets
                    if isinstance(target, ast.Name) and not (
                        isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                        and isinstance(after.value.value, str))]
    assert undocumented == []


def test_only_the_api_layer_imports_the_network_libraries() -> None:
    outside = [f for f in PACKAGE.rglob("*.py") if "api" not in f.relative_to(PACKAGE).parts]
    assert _offending(outside, NETWORK_LIBRARIES) == []


def test_nothing_below_the_cli_imports_the_cli() -> None:
    below = [f for f in PACKAGE.rglob("*.py")
             if f.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")]
    assert _offending(below, ("operator_iac.cli",)) == []


def test_engines_do_not_import_services() -> None:
    assert _offending(_files(*ENGINES), ("operator_iac.services",)) == []


def test_the_emulator_imports_nothing_of_the_client() -> None:
    # It shares no code with the client, so that a shared bug cannot hide in both. Only the
    # package's exception hierarchy is common: its errors carry the CLI's exit codes.
    found = [str(i) for f in _files("emulator") for i in _imports(f)
             if i.module.startswith("operator_iac") and
             not i.module.startswith(("operator_iac.emulator", "operator_iac.errors"))]
    assert found == []


# plan/ is pure: no files, no environment, no processes, no network, no clock.
_IO_MODULES = ("os", "subprocess", "socket", "time", "shutil", "pathlib", "tempfile",
               "threading", "concurrent", "urllib.request", *NETWORK_LIBRARIES)
_IO_CALLS = {"open", "input", "print"}
_IO_ATTRIBUTES = {"read_text", "write_text", "read_bytes", "write_bytes", "now", "utcnow",
                  "today", "environ", "getenv"}


def _io_uses(file: Path) -> Iterator[str]:
    where = file.relative_to(REPO)
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in _IO_CALLS:
            yield f"{where}:{node.lineno}: {node.func.id}()"
        elif isinstance(node, ast.Attribute) and node.attr in _IO_ATTRIBUTES:
            yield f"{where}:{node.lineno}: .{node.attr}"


def test_the_planner_does_no_io() -> None:
    files = _files("plan")
    assert _offending(files, _IO_MODULES) == []
    assert [use for f in files for use in _io_uses(f)] == []


def test_every_operator_iac_variable_is_named_in_settings() -> None:
    found = []
    for file in PACKAGE.rglob("*.py"):
        if file.name == "settings.py":
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                      if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef))
                      and n.body and isinstance(n.body[0], ast.Expr)}
        found += [f"{file.relative_to(REPO)}:{n.lineno}" for n in ast.walk(tree)
                  if isinstance(n, ast.Constant) and isinstance(n.value, str)
                  and "OPERATOR_IAC_" in n.value and id(n) not in docstrings]
    assert found == []


def test_every_assertion_type_the_spec_accepts_has_an_evaluator() -> None:
    from operator_iac.smoke import assertions
    from operator_iac.spec.assertions import ASSERTION_TYPES

    judged = set(assertions._JUDGES)
    assert [tag for tag, model in ASSERTION_TYPES.items() if model not in judged] == []


def test_cli_functions_stay_short() -> None:
    long = []
    for file in _files("cli"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                    node.end_lineno is not None and node.end_lineno - node.lineno + 1 > 40:
                long.append(f"{file.relative_to(REPO)}:{node.lineno}: {node.name}")
    assert long == []


def _console_script() -> str | None:
    # The script installed beside this interpreter (a virtual environment's bin folder).
    beside = Path(sys.executable).parent / "operator-iac"
    return str(beside) if beside.exists() else shutil.which("operator-iac")


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    script = _console_script()
    if script is None:
        pytest.fail("the operator-iac console script is not installed: pip install -e .")
    version = subprocess.run([script, "--version"], capture_output=True, text=True,
                             timeout=60, check=False)
    assert version.returncode == 0 and "operator-iac" in version.stdout
    agent = tmp_path / "greeter.yaml"
    agent.write_text("kind: procedural_agent\nname: Greeter\ndescription: Says hello.\n"
                     "config:\n  runtime:\n    model: openai/gpt-4o-mini\n"
                     "    prompt: {type: fixed, text: Summarise the call.}\n",
                     encoding="utf-8")
    valid = subprocess.run([script, "validate", str(agent)], capture_output=True, text=True,
                           timeout=60, check=False, cwd=tmp_path)
    assert valid.returncode == 0, valid.stdout + valid.stderr
    assert "1 agent valid" in valid.stdout
    agent.write_text("kind: procedural_agent\nname: Greeter\n", encoding="utf-8")
    invalid = subprocess.run([script, "validate", str(agent)], capture_output=True,
                             text=True, timeout=60, check=False, cwd=tmp_path)
    assert invalid.returncode == 3


def test_bounded_parallel_work_has_one_helper() -> None:
    # api/pool.py's WorkPool: one limit, one back-off on 429, one way to fail in order.
    users = sorted(str(f.relative_to(REPO)) for f in PACKAGE.rglob("*.py")
                   if "ThreadPoolExecutor" in f.read_text(encoding="utf-8"))
    assert users == ["operator_iac/api/pool.py"]
