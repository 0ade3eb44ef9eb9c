"""Benchmark: random sequences of real-life operations on randomised platforms.

Run with ``python tests/bench/bench_random_walks.py [--seeds 0-19] [--steps 12] [--stop]
[--skews=-600,600,86400] [--latency-ms 60] [--kinds edit,race_killed]``.
For each seed, two in-process emulators (staging and production) play the platform the
registry of variations draws for it, and a copy of the example project walks
``tests/e2e/random_walk.py``: after a first apply, ``--steps`` steps drawn from the seed
(prompt changes, plans and statuses, applies, dashboard edits and deletions, rollbacks,
promotions), with the README's promises checked after each. It prints each seed's platform,
whether the walk kept every promise, how long it took, and otherwise the step, what the
command said and the steps that led there. ``--skews`` sets each seed's platform clock off
this machine's by an offset the seed draws from the list, ``--latency-ms`` makes every
request take that long (neither is drawn otherwise, so a seed draws the same platform).
``--kinds`` draws the steps among the named kinds only (``random_walk.STEPS``), to walk one
behaviour many times.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench_random_platforms import add_platform_options, one_life, seeds_from, skews_from

from tests.e2e import random_walk
from tests.e2e.random_walk import walk


def one_walk(seed: int, steps: int, *, skews: tuple[float, ...] = (), latency_ms: int = 0,
             kinds: tuple[random_walk.Step, ...] | None = None) -> tuple[str | None, float, str]:
    return one_life(seed, lambda life: walk(life, steps, kinds), skews=skews,
                    latency_ms=latency_ms)


def kinds_from(text: str | None) -> tuple[random_walk.Step, ...] | None:
    """The kinds of step named in ``text`` (``edit,race_killed``), or None for all."""
    if not text:
        return None
    known = {kind.__name__: kind for kind in random_walk.STEPS}
    unknown = [name for name in text.split(",") if name not in known]
    if unknown:
        raise SystemExit(f"unknown kinds of step: {', '.join(unknown)} "
                         f"(known: {', '.join(sorted(known))})")
    return tuple(known[name] for name in text.split(","))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0-19", help="a range (0-19) or a list (1,5,7)")
    parser.add_argument("--steps", type=int, default=12, help="steps after the first apply")
    parser.add_argument("--stop", action="store_true", help="stop at the first failure")
    parser.add_argument("--kinds", help="draw steps among these kinds only (edit,race_killed)")
    add_platform_options(parser)
    options = parser.parse_args()
    kinds = kinds_from(options.kinds)
    kept, walked = 0, 0
    for seed in seeds_from(options.seeds):
        problem, seconds, platform = one_walk(seed, options.steps,
                                              skews=skews_from(options.skews),
                                              latency_ms=options.latency_ms, kinds=kinds)
        walked += 1
        print(f"{'ok  ' if problem is None else 'FAIL'} {seconds:5.1f}s  {platform}",
              flush=True)
        if problem is not None:
            print("     " + problem.replace("\n", "\n     "), flush=True)
            if options.stop:
                break
        else:
            kept += 1
    print(f"{kept} of {walked} walks kept every promise")
    return 0 if kept == walked else 1


if __name__ == "__main__":
    sys.exit(main())
