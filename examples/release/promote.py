"""Release promotion through operator-iac's Python API: promote to production exactly what
was released and smoke-tested in staging.

The same steps as ``operator-iac promote``, written out for release tooling that wants to add
its own checks or notifications around them:

1. load the project (``operator-iac.yaml`` and the agent files);
2. point at both environments (URL from the project file or the options below, API key from
   the variable each environment names in ``api_key_env``);
3. plan production from the declarations, and check in staging that every agent the plan
   changes is released there with exactly that content and passed its last smoke run;
4. apply the plan to production with the usual smoke tests and rollback.

Usage::

    python examples/release/promote.py [--project-file operator-iac.yaml]
        [--from staging] [--to production] [--source-url URL] [--destination-url URL]
        [--check-only] [--no-smoke]

Exit codes are operator-iac's: 0 done (or nothing to do), 1 an operation failed, 3 invalid
input, 4 a smoke test failed in production, 5 the promotion was refused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import operator_iac
from operator_iac import ApplyOptions, plan_promotion, promotion_route, run_promotion, smoke_gate


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project-file", type=Path, default=Path("operator-iac.yaml"))
    parser.add_argument("--from", dest="source", default=None,
                        help="source environment (default: the destination's promote_from)")
    parser.add_argument("--to", dest="destination", default="production")
    parser.add_argument("--source-url", default=None,
                        help="API URL of the source (default: its api_url)")
    parser.add_argument("--destination-url", default=None,
                        help="API URL of the destination (default: its api_url)")
    parser.add_argument("--check-only", action="store_true",
                        help="plan and check, but do not apply")
    parser.add_argument("--no-smoke", action="store_true",
                        help="skip the smoke tests in the destination")
    return parser.parse_args(argv)


def say(line: str) -> None:
    print(line, file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    project = operator_iac.load_project(args.project_file)
    source_env = promotion_route(project, args.source, args.destination)
    source = operator_iac.build_target(project, source_env, api_url=args.source_url)
    destination = operator_iac.build_target(project, args.destination,
                                            api_url=args.destination_url)
    with source.client() as source_client, destination.client() as client:
        say(f"Planning {args.destination} and checking {source_env} ...")
        promotion = plan_promotion(destination, client, source, source_client,
                                   smoke=not args.no_smoke)
        plan = promotion.planned.plan
        print(operator_iac.render_plan_text(plan, color=False).rstrip("\n"))
        if not plan.has_changes:
            say(f"Nothing to promote: {args.destination} already holds the declarations.")
            return 0
        say("\n".join([f"Checked in {source_env}:", *promotion.check.lines()]))
        promotion.check.raise_if_refused()
        if args.check_only:
            say("Check passed; nothing applied (--check-only).")
            return 0
        gate = None if args.no_smoke else smoke_gate(project.name, client,
                                                     promotion.planned.desired, progress=say,
                                                     warn=say)
        report = run_promotion(promotion, client, options=ApplyOptions(smoke=not args.no_smoke),
                         smoke_gate=gate, progress=say)
        print(operator_iac.render_apply_text(report).rstrip("\n"))
        return report.exit_code()


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    try:
        return run(args)
    except operator_iac.OperatorIacError as exc:
        say(f"error: {exc}")
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
