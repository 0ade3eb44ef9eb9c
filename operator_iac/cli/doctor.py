"""``operator-iac doctor``: check a platform before the first apply."""

from __future__ import annotations

import click

from operator_iac.cli import output
from operator_iac.cli.app import App, pass_app
from operator_iac.cli.json_report import report_json
from operator_iac.cli.options import env_option, format_option


@click.command("doctor")
@env_option
@format_option("text", "json")
@click.option("--wait", "wait_s", type=click.FloatRange(min=0.1), default=15.0,
              show_default=True, metavar="SECONDS",
              help="How long to wait for each answer of the test conversation.")
@click.option("--write-check", is_flag=True,
              help="Also write a temporary agent (read back, released, talked to, deleted) "
                   "to learn how the platform stores what is written and how late its lists "
                   "are. Needs an explicit --env (or --api-url, or --emulator).")
@pass_app
def doctor_command(app: App, env: str | None, fmt: str, wait_s: float,
                   write_check: bool) -> int:
    """Check that the platform behaves as operator-iac relies on, and name every undocumented
    behaviour it adapts to that this platform shows (docs/platform-behaviours.md).

    Read-only on agents by default. It creates one testmode conversation with an agent (a
    draft when there is one, to learn whether drafts can be talked to; else a released
    revision), talks to it, and deletes it. With --write-check it writes one temporary agent
    instead, clearly named, and deletes it whatever happens. Exits 0 when everything
    operator-iac relies on holds, 1 otherwise. Attach the JSON report to a bug report.

    \b
    Examples:
      operator-iac doctor --env staging
      operator-iac doctor --env staging --write-check
      operator-iac doctor --env production --format json > doctor.json
      operator-iac --emulator doctor
    """
    from operator_iac.render.doctor import doctor_json, render_doctor_text
    from operator_iac.services.doctor import run_doctor

    if write_check and not (env or app.settings.env or app.settings.api_url
                            or app.settings.emulator):
        raise click.UsageError("--write-check writes to the platform: name it with --env "
                               "(or --api-url, or --emulator)")
    report = run_doctor(app.standalone_client(env), wait_s=wait_s, write_check=write_check,
                        progress=app.feedback().info)
    if fmt == "json":
        report_json(doctor_json(report))
    else:
        output.result(render_doctor_text(report).rstrip("\n"))
    return report.exit_code()
