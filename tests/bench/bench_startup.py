"""Benchmark: start-up cost of ``operator-iac --version``, and proof that it stays light.

Run ``python tests/bench/bench_startup.py [RUNS]``. It times ``operator-iac --version`` (as
``python -m operator_iac``) against a bare ``python -c pass`` over several runs, and
``operator-iac --help`` against ``--version`` (aim: under 2 times: ``--help`` lists the
commands from their summaries without importing them), then runs ``--version``
once under ``python -X importtime`` and lists the slowest imports. The heavy modules (pydantic,
httpx, yaml, jsonschema, rich, starlette) must not appear: commands import them only when
they run. Exits 1 if one of them is imported.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

HEAVY = ("pydantic", "httpx", "yaml", "jsonschema", "rich", "starlette", "uvicorn",
         "websockets", "deepdiff")
TARGET_MS = 150
HELP_AIM = 2.0


def wall_ms(args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def imports(args: list[str]) -> list[tuple[int, str]]:
    """(cumulative microseconds, module) for every module imported, from -X importtime."""
    done = subprocess.run([sys.executable, "-X", "importtime", *args], check=True,
                          capture_output=True, text=True)
    found = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = (part.strip() for part in line.split(":", 1)[1].split("|"))
        found.append((int(cumulative), name))
    return found


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    version = [sys.executable, "-m", "operator_iac", "--version"]
    bare = wall_ms([sys.executable, "-c", "pass"], runs)
    cli = wall_ms(version, runs)
    print(f"python -c pass            {bare:7.1f} ms (median of {runs})")
    print(f"operator-iac --version    {cli:7.1f} ms (median of {runs}); target < {TARGET_MS} ms")
    print(f"cost of operator-iac      {cli - bare:7.1f} ms beyond the interpreter, "
          f"ratio {cli / bare:.2f}x")
    helped = wall_ms([sys.executable, "-m", "operator_iac", "--help"], runs)
    print(f"operator-iac --help       {helped:7.1f} ms (median of {runs}); "
          f"ratio to --version {helped / cli:.2f}x (aim: < {HELP_AIM:.0f}x)")
    loaded = imports(["-m", "operator_iac", "--version"])
    print("\nslowest imports (cumulative):")
    for micros, name in sorted(loaded, reverse=True)[:10]:
        print(f"  {micros / 1000:7.1f} ms  {name}")
    heavy = sorted({name for _, name in loaded if name.split(".")[0] in HEAVY})
    if heavy:
        print(f"\nFAIL: --version imports heavy modules: {', '.join(heavy)}")
        return 1
    print(f"\nOK: none of {', '.join(HEAVY)} is imported by --version")
    return 0


if __name__ == "__main__":
    sys.exit(main())
