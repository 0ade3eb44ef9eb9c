"""The statistics of compared smoke tests, checked against values worked out by hand and
against exact enumeration (an independent computation of the same quantities)."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from operator_iac.smoke.stats import (
    Design,
    better_bias,
    detectable_drop,
    pairs_needed,
    sequential_test,
    sign_test_power,
    wilson_interval,
    worse_bias,
)

DESIGN = Design(alpha=0.05, max_drop=0.1, power=0.8, max_pairs=200)


def test_ten_passes_of_ten_show_a_pass_rate_above_about_72_percent() -> None:
    # By hand, z = 1.96: centre (1 + z²/20) / (1 + z²/10) = 0.86122, half-width
    # z (z / 20) / (1 + z²/10) = 0.13877, so the interval is [0.72245, 1].
    low, high = wilson_interval(10, 10, 0.95)
    assert low == pytest.approx(0.72245, abs=1e-4) and high == 1.0
    assert wilson_interval(5, 10, 0.95) == pytest.approx((0.23659, 0.76341), abs=1e-4)
    assert wilson_interval(0, 0, 0.95) == (0.0, 1.0)


def test_the_coin_biases_of_a_drop_follow_from_the_pass_rates() -> None:
    # Baseline 0.9, candidate 0.8: pairs against the candidate come at 0.9 * 0.2 = 0.18,
    # pairs for it at 0.8 * 0.1 = 0.08, so 0.18 / 0.26 of the discordant ones are against.
    assert worse_bias(0.9, 0.1) == pytest.approx(0.18 / 0.26)
    assert better_bias(0.8, 0.1) == pytest.approx(0.18 / 0.26)
    assert worse_bias(0.05, 0.1) == 0.99  # kept off 1: one pair never decides alone


def test_the_evidence_of_two_pairs_against_the_candidate_by_hand() -> None:
    # Pair 1: the baseline's rate is 1/2 by Laplace's rule; a candidate at 0.4 loses
    # 0.5 * 0.6 = 0.3 against 0.4 * 0.5 = 0.2 of the pairs: bias 0.6, factor ln 1.2.
    # Pair 2: the rate is 2/3; a candidate at 2/3 - 0.1 gives the bias 0.28889 / 0.47778.
    result = sequential_test([(False, True), (False, True)], DESIGN, complete=False)
    second = (2 / 3) * (1 - (2 / 3 - 0.1))
    expected = math.log(1.2) + math.log(2 * second / (second + (2 / 3 - 0.1) / 3))
    assert result.evidence_worse == pytest.approx(expected)
    assert result.evidence_worse == pytest.approx(0.18232 + 0.19006, abs=1e-4)
    assert (result.verdict, result.settled, result.candidate_worse) == (
        "inconclusive", False, 2)


def test_pairs_against_the_candidate_end_in_regressed_at_one_over_alpha() -> None:
    against = [(False, True)] * 40
    result = sequential_test(against, DESIGN, complete=False)
    assert result.verdict == "regressed" and result.settled
    assert result.evidence_worse >= math.log(20)
    before = sequential_test(against[:result.pairs - 1], DESIGN, complete=False)
    assert before.evidence_worse < math.log(20) and not before.settled


def test_pairs_that_always_agree_rule_out_a_drop_quickly() -> None:
    result = sequential_test([(True, True)] * 100, DESIGN, complete=False)
    # Pairs against a candidate worse by 0.1 come at a rate of at least 0.1 whatever the
    # pass rate; none in 28 pairs is evidence enough (likelihood ratio 1 / (1 - power)).
    assert (result.verdict, result.pairs, result.candidate_worse) == ("no regression", 28, 0)


def test_a_run_that_spends_its_budget_unsettled_is_inconclusive() -> None:
    design = Design(alpha=0.05, max_drop=0.1, power=0.8, max_pairs=6)
    mixed = [(False, True), (True, False), (True, True), (False, False)] * 2
    assert sequential_test(mixed[:4], design, complete=False).settled is False
    result = sequential_test(mixed, design, complete=False)
    assert (result.verdict, result.settled, result.pairs) == ("inconclusive", True, 6)
    assert result.detectable_drop is None or result.detectable_drop > 0.1


def test_void_pairs_count_against_the_budget_but_not_as_evidence() -> None:
    result = sequential_test([None, (False, True), None], DESIGN, complete=True)
    assert (result.pairs, result.judged, result.candidate_worse) == (3, 1, 1)
    assert result.verdict == "inconclusive" and result.settled


def _exact_sign_test_power(pairs: int, rate: float, drop: float, alpha: float) -> float:
    """The exact power of the one-sided sign test (enumeration over the discordant count D
    and the pairs against the candidate K): the independent check of the approximation."""
    candidate = rate - drop
    against, favour = rate * (1 - candidate), candidate * (1 - rate)
    share, bias = against + favour, against / (against + favour)
    power = 0.0
    for discordant in range(pairs + 1):
        weight = math.comb(pairs, discordant) * share ** discordant * \
            (1 - share) ** (pairs - discordant)
        # The smallest K whose tail under a fair coin is at most alpha.
        tail, critical = 0.0, discordant + 1
        for k in range(discordant, -1, -1):
            tail += math.comb(discordant, k) / 2 ** discordant
            if tail > alpha:
                break
            critical = k
        power += weight * sum(math.comb(discordant, k) * bias ** k *
                              (1 - bias) ** (discordant - k)
                              for k in range(critical, discordant + 1))
    return power


@pytest.mark.parametrize(("pairs", "rate", "drop"), [(150, 0.9, 0.1), (60, 0.9, 0.3),
                                                     (280, 0.7, 0.1)])
def test_the_power_approximation_is_close_to_exact_enumeration(pairs: int, rate: float,
                                                               drop: float) -> None:
    exact = _exact_sign_test_power(pairs, rate, drop, 0.05)
    assert sign_test_power(pairs, rate, drop, 0.05) == pytest.approx(exact, abs=0.06)


def test_the_pairs_needed_and_the_detectable_drop_answer_each_other() -> None:
    needed = pairs_needed(0.9, 0.1, 0.05, 0.8)
    assert needed is not None and 140 <= needed <= 170  # about 150 pairs per side
    assert sign_test_power(needed, 0.9, 0.1, 0.05) >= 0.8 > \
        sign_test_power(needed - 2, 0.9, 0.1, 0.05)
    found = detectable_drop(needed, 0.9, 0.05, 0.8)
    assert found is not None and found == pytest.approx(0.1, abs=0.005)
    assert detectable_drop(4, 0.5, 0.05, 0.8) is None  # not even a drop to 0 %
    assert pairs_needed(0.05, 0.1, 0.05, 0.8) is None


def test_equal_revisions_are_called_regressed_at_most_alpha_of_the_time() -> None:
    # A simulation with a fixed seed: the guarantee (at most 5 %) holds with room to spare
    # because the likelihood ratio rarely ends exactly on the boundary.
    rng = random.Random(20250619)
    verdicts: Counter[str] = Counter()
    for _ in range(400):
        pairs = [(rng.random() < 0.9, rng.random() < 0.9) for _ in range(200)]
        verdicts[sequential_test(pairs, DESIGN, complete=True).verdict] += 1
    assert verdicts["regressed"] / 400 <= 0.05
    assert verdicts["no regression"] / 400 >= 0.9
