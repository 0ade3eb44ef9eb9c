"""Benchmark: the whole life of the example project on twenty randomised platforms.

Run with ``python tests/bench/bench_random_platforms.py [--seeds 0-19] [--stop] [--skews=-600,600]
[--latency-ms 60]`` (the platforms' clock off this machine's by an offset each seed
draws from the list, every request taking that long; neither by default). For each seed, two
in-process emulators (staging and production) play the platform the registry of variations
draws for it (``operator-iac emulator --compat random --seed N``), a copy of the example
project lives through ``tests/e2e/random_life.py`` (validate, plan, apply with smoke, a second
apply at once, a dashboard edit, status, rollback, an import with an empty description and its
adoption, promote, a transcript), and the script prints the seed's platform, whether it
converged with one agent per key, how long it took, and otherwise the step and the message that
went wrong. It ends with the count of seeds that lived and the ratio of the slowest life to the
fastest, measured in this run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from operator_iac.cli.main import run  # noqa: E402
from operator_iac.emulator.server import EmulatorServer  # noqa: E402
from operator_iac.settings import CACHE_DIR_VARIABLE  # noqa: E402
from tests.e2e.random_life import Life, live  # noqa: E402

KEY_VARIABLES = {"staging": "OPERATOR_API_KEY_STAGING", "production": "OPERATOR_API_KEY"}


@dataclass
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def cli(*args: str) -> Outcome:
    """operator-iac in this process, its output captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run(list(args))
    return Outcome(code, out.getvalue(), err.getvalue())


def project_for(root: Path, staging: EmulatorServer, production: EmulatorServer) -> None:
    """The example project in ``root``, staging and production pointed at the emulators."""
    shutil.copy(REPO / "operator-iac.yaml", root / "operator-iac.yaml")
    shutil.copytree(REPO / "agents", root / "agents")
    path = root / "operator-iac.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("api_url: https://api.operator.xyz", f"api_url: {staging.url}", 1)
    text = text.replace("  production:\n", f"  production:\n    api_url: {production.url}\n", 1)
    path.write_text(text, encoding="utf-8")
    # The life's own cache folder (revision cache, writes journal): nothing of one life
    # reaches another, nor the user's home.
    os.environ.update({KEY_VARIABLES["staging"]: staging.api_key,
                       KEY_VARIABLES["production"]: production.api_key,
                       "GIT_COMMIT": "0123456789abcdef",
                       CACHE_DIR_VARIABLE: str(root / ".operator-iac-cache")})


def one_life(seed: int, play: Callable[[Life], str | None] = live, *,
             skews: tuple[float, ...] = (), latency_ms: int = 0,
             ) -> tuple[str | None, float, str]:
    """``play`` (the whole life, or another course) on the platforms of ``seed``: what went
    wrong first or None, how long it took, and the platform drawn. ``skews``: the clock
    offsets to draw the platforms' from, by the seed (none: the machine's clock);
    ``latency_ms``: the time each request takes."""
    # Drawn apart from the platform, so that a seed draws the same platform either way.
    skew = random.Random(seed * 7919).choice(skews) if skews else 0.0
    with tempfile.TemporaryDirectory() as folder, \
            EmulatorServer(procedure_step_s=0.01) as staging, \
            EmulatorServer(procedure_step_s=0.01) as production:
        root = Path(folder)
        project_for(root, staging, production)
        life = Life(seed, root, cli, staging, production, skew_s=skew, latency_ms=latency_ms)
        started = time.monotonic()
        problem = play(life)
        return problem, time.monotonic() - started, life.platform


def add_platform_options(parser: argparse.ArgumentParser) -> None:
    """The options that set the platforms apart from this machine beyond what a seed draws."""
    parser.add_argument("--skews", default="", help="clock offsets in seconds to draw each "
                        "seed's platform clock from (--skews=-600,600,86400); default: none")
    parser.add_argument("--latency-ms", type=int, default=0, help="time each request takes")


def skews_from(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def seeds_from(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1)) if "," not in text else \
        [int(part) for part in text.split(",")]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-19", help="a range (0-19) or a list (1,5,7)")
    parser.add_argument("--stop", action="store_true", help="stop at the first failure")
    add_platform_options(parser)
    options = parser.parse_args()
    lived, took = 0, []
    for seed in seeds_from(options.seeds):
        problem, seconds, platform = one_life(seed, skews=skews_from(options.skews),
                                              latency_ms=options.latency_ms)
        took.append(seconds)
        print(f"{'ok  ' if problem is None else 'FAIL'} {seconds:5.1f}s  {platform}")
        if problem is not None:
            print("     " + problem.replace("\n", "\n     "))
            if options.stop:
                break
        else:
            lived += 1
    print(f"{lived} of {len(took)} seeds lived and converged; the slowest life took "
          f"{max(took) / min(took):.1f} times the fastest")
    return 0 if lived == len(took) else 1


if __name__ == "__main__":
    sys.exit(main())
