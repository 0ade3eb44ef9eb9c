"""The one table of lint rules, by id, in the order the documentation lists them.

Ids are stable: a rule that is removed leaves its id unused forever, so that configuration
and suppression comments never silently change meaning. ``OIC0xx`` are about suppression
comments themselves, then secrets and personal data (1xx), prompts (2xx), models (3xx),
transfers (4xx), smoke tests (5xx), procedural agents (6xx) and descriptions (7xx).
"""

from __future__ import annotations

from operator_iac.lint import examples, rules_agents, rules_data, rules_prompt, rules_runtime
from operator_iac.lint.rule import Rule, rule_table

GROUP = "Suppression comments"
_PHONE = examples.PROMPT + "If the line drops, call +1 415 555 0100."

META = (
    Rule("OIC001", "suppression-without-reason", "error",
         "A suppression comment gives no reason",
         "A finding is silenced on purpose, by someone who knows why; the reason is what the "
         "next reviewer reads. A suppression without one silences nothing.",
         "Write the reason after the bracket: "
         "`# operator-iac: ignore[OIC103] public switchboard number`.",
         examples.support(prompt=_PHONE + "  # operator-iac: ignore[OIC103]\n"),
         examples.support(prompt=_PHONE + "  # operator-iac: ignore[OIC103] public "
                                          "switchboard number\n"),
         None, GROUP, companions=("OIC103",)),
    Rule("OIC002", "useless-suppression", "warning",
         "A suppression comment names an unknown rule, or silences nothing",
         "A suppression left behind after the problem was fixed (or naming a mistyped id) "
         "would silently hide the next real finding on its line. Suppressions that silence "
         "nothing are reported only when every environment is linted (no --env), since a "
         "finding may exist in one environment only, and only in files that serve no agent "
         "left out of the run (by PATHs, or for its errors).",
         "Remove the comment, or correct the rule id.",
         examples.support(prompt=examples.PROMPT.replace(
             "order.\n", "order.  # operator-iac: ignore[OIC103] public number\n")),
         examples.support(),
         None, GROUP),
)

RULES: dict[str, Rule] = rule_table(META, rules_data.RULES, rules_prompt.RULES,
                                    rules_runtime.RULES, rules_agents.RULES)
SUPPRESSION_WITHOUT_REASON = "OIC001"
USELESS_SUPPRESSION = "OIC002"
