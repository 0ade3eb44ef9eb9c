"""``status`` as a service: read the platform once and compare what an environment holds with
the declarations (the report and its rules are ``operator_iac.plan.status``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from operator_iac.defaults import PARALLELISM
from operator_iac.plan.status import StatusReport, build_status
from operator_iac.services.feedback import QUIET, Feedback

if TYPE_CHECKING:
    from operator_iac.api.client import OperatorClient
    from operator_iac.services.read_ahead import ReadAhead
    from operator_iac.services.target import Target


def fetch_status(target: Target, client: OperatorClient, *, parallelism: int = PARALLELISM,
                 environ: Mapping[str, str] | None = None,
                 feedback: Feedback = QUIET, reading: ReadAhead | None = None) -> StatusReport:
    """Read the platform once and compare it with the declarations for ``target``
    (``reading``: the reads begun before the declarations loaded, ``services.read_ahead``)."""
    from operator_iac.plan.builder import build_plan
    from operator_iac.services.plan import project_commit, read_platform

    desired = target.desired(environ)
    snapshot = read_platform(target, client, desired, parallelism=parallelism,
                             feedback=feedback, reading=reading)
    plan = build_plan(desired, snapshot, project=target.project.name,
                      environment=target.env_name,
                      commit=project_commit(target, environ),
                      protect=target.protected)
    return build_status(plan, snapshot)
