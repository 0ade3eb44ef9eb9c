"""The statistics of smoke tests that vary: how sure a pass rate is, and whether a candidate
revision passes less often than the released one.

- ``wilson_interval``: the Wilson score interval of a pass rate (honest at 0 and at 100 %,
  where the textbook interval collapses to a point).
- ``sequential_test``: the comparison. Conversations run in **pairs**, one on each revision
  at the same time. A pair where both passed or both failed says nothing about which
  revision is better; a *discordant* pair does. If the two revisions are equally good, each
  discordant pair goes against the candidate with probability exactly 1/2, whatever the
  pass rate and however it drifts during the run, so the count is a fair coin under "no
  difference". Wald's sequential probability ratio test (SPRT) reads the discordant pairs in
  order: the likelihood ratio of "the candidate is worse by ``max_drop``" against "no
  difference" is a nonnegative martingale under no difference, so by Ville's inequality it
  ever reaches 1/alpha with probability at most alpha: ``regressed`` is wrong at most
  alpha of the time, even though the run looks after every pair and stops early. The
  alternative's coin bias is set from the baseline's pass rate seen *before* each pair,
  which keeps that guarantee (each factor still averages 1). The mirror-image test says
  ``improved``. The run stops for ``no regression`` at Wald's lower bound
  ((1 - power) / (1 - alpha)), or as soon as pairs against the candidate are too rare for
  one worse by ``max_drop`` (quick when both nearly always pass, where discordant pairs
  hardly ever come); a run that spends its budget first gets one final look (a one-sided
  test at level 1 - power that the pairs against the candidate are fewer than such a
  candidate gives), else it is ``inconclusive``.
- ``detectable_drop`` and ``pairs_needed``: the power analysis of a fixed-size sign test on
  the same pairs (normal approximation): the smallest drop a run of n pairs detects with
  the given power, and the pairs needed to detect a given drop.

Hand-written on the standard library (``math``, ``statistics.NormalDist``): a binomial
likelihood ratio and two normal quantiles do not justify SciPy and NumPy as dependencies.
Pure functions; ``tests/unit/smoke/test_stats.py`` checks them against values computed by
hand and by exact enumeration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

ComparisonVerdict = Literal["regressed", "no regression", "improved", "inconclusive"]
# One pair of conversations: (the candidate passed, the baseline passed); None when either
# side could not be judged (a platform error, a timeout).
Pair = tuple[bool, bool] | None
# Coin biases of the alternatives are kept off 1: one pair against them then costs a
# bounded amount of evidence instead of all of it.
_MAX_BIAS = 0.99
_NORMAL = NormalDist()


def wilson_interval(passes: int, runs: int, confidence: float) -> tuple[float, float]:
    """The two-sided Wilson score interval of ``passes`` out of ``runs`` ((0, 1) for none)."""
    if runs <= 0:
        return 0.0, 1.0
    z = _NORMAL.inv_cdf(0.5 + confidence / 2)
    rate = passes / runs
    denominator = 1 + z * z / runs
    centre = (rate + z * z / (2 * runs)) / denominator
    spread = z * math.sqrt(rate * (1 - rate) / runs + z * z / (4 * runs * runs)) / denominator
    return max(0.0, centre - spread), min(1.0, centre + spread)


@dataclass(frozen=True)
class Design:
    """How one comparison is judged."""

    alpha: float
    """The false-alarm rate allowed for this test: the chance of ``regressed`` (or
    ``improved``) when the two revisions are equally good."""
    max_drop: float
    """The drop in pass rate the test is designed to detect."""
    power: float
    """The chance of detecting a drop of ``max_drop`` the design aims for."""
    max_pairs: int
    """The budget: pairs of conversations after which the run stops in any case."""

    @property
    def upper(self) -> float:
        """Log-likelihood ratio at which a direction is settled: ln(1 / alpha)."""
        return math.log(1 / self.alpha)

    @property
    def lower(self) -> float:
        """Log-likelihood ratio below which "worse by max_drop" is ruled out (Wald)."""
        return math.log((1 - self.power) / (1 - self.alpha))

    @property
    def rare_against(self) -> float:
        """Log-likelihood ratio at which pairs against the candidate are too rare for a
        candidate worse by max_drop: ln(1 / (1 - power))."""
        return math.log(1 / (1 - self.power))


@dataclass(frozen=True)
class SequentialResult:
    """Where the sequential test stands after the pairs it read."""

    verdict: ComparisonVerdict
    """The boundary crossed, or ``inconclusive`` while none is."""
    settled: bool
    """A boundary was crossed (or the budget is spent): more pairs would not change it."""
    pairs: int
    """The pairs read, up to the one that settled the verdict (void pairs included)."""
    judged: int
    """Of those, the pairs where both sides could be judged."""
    candidate_passes: int
    """Of the judged pairs, those where the candidate passed."""
    baseline_passes: int
    """Of the judged pairs, those where the baseline passed."""
    candidate_worse: int
    """Discordant pairs where the candidate failed and the baseline passed."""
    candidate_better: int
    """Discordant pairs where the candidate passed and the baseline failed."""
    evidence_worse: float
    """The log-likelihood ratio for "worse by max_drop" (regressed at ``Design.upper``)."""
    evidence_better: float
    """The log-likelihood ratio for "better by max_drop" (improved at ``Design.upper``)."""
    detectable_drop: float | None
    """The smallest drop a run of this many judged pairs detects with the design's power
    (None: not even a drop to 0 %)."""


def worse_bias(baseline_rate: float, drop: float) -> float:
    """P(the candidate is the one that failed | a discordant pair) when it passes ``drop``
    less often than ``baseline_rate``."""
    candidate = max(baseline_rate - drop, 0.0)
    against = baseline_rate * (1 - candidate)
    total = against + candidate * (1 - baseline_rate)
    return min(max(against / total, 0.5), _MAX_BIAS) if total > 0 else 0.5


def better_bias(baseline_rate: float, gain: float) -> float:
    """P(the candidate is the one that passed | a discordant pair) when it passes ``gain``
    more often than ``baseline_rate``."""
    candidate = min(baseline_rate + gain, 1.0)
    favour = candidate * (1 - baseline_rate)
    total = favour + baseline_rate * (1 - candidate)
    return min(max(favour / total, 0.5), _MAX_BIAS) if total > 0 else 0.5


def _log_rate_factor(pass_rate: float, drop: float, against: bool) -> float:
    """ln of one pair's likelihood ratio of "pairs against the candidate are as rare as
    between equal revisions" (rate ``pass_rate * (1 - pass_rate)``) to "they come at rate
    ``drop``", the least they come at when the candidate is worse by ``drop``, whatever the
    baseline's pass rate (p (1 - p + drop) >= drop for p in [drop, 1]). Each factor averages
    at most 1 under any such candidate, so the product reaches 1 / (1 - power) with
    probability at most 1 - power: a ``no regression`` that is rarely wrong, and quick when
    both revisions nearly always pass (a pair against the candidate then almost never
    comes). Where equal revisions would disagree that often anyway, the factor is 1."""
    rate = min(pass_rate * (1 - pass_rate), drop)
    return math.log(rate / drop) if against else math.log((1 - rate) / (1 - drop))


def _log_factor(bias: float, towards: bool) -> float:
    """ln of one discordant pair's likelihood ratio against a fair coin."""
    return math.log(2 * bias) if towards else math.log(2 * (1 - bias))


class _Walk:
    """The running state of the sequential test over judged pairs."""

    def __init__(self, design: Design) -> None:
        self.design = design
        self.judged = self.candidate_passes = self.baseline_passes = 0
        self.worse = self.better = 0
        self.evidence_worse = self.evidence_better = self.evidence_fine = 0.0

    def baseline_estimate(self) -> float:
        """The baseline's pass rate from the pairs before this one (Laplace's rule keeps it
        off 0 and 1 while there are few)."""
        return (self.baseline_passes + 1) / (self.judged + 2)

    def read(self, candidate: bool, baseline: bool) -> None:
        rate = self.baseline_estimate()
        against = baseline and not candidate
        self.evidence_fine += _log_rate_factor(self.pooled_estimate(), self.design.max_drop,
                                               against)
        if candidate != baseline:
            against = not candidate
            drop = self.design.max_drop
            self.evidence_worse += _log_factor(worse_bias(rate, drop), against)
            self.evidence_better += _log_factor(better_bias(rate, drop), not against)
            self.worse += against
            self.better += not against
        self.judged += 1
        self.candidate_passes += candidate
        self.baseline_passes += baseline

    def pooled_estimate(self) -> float:
        """Both revisions' pass rate from the pairs before this one (equal under "no
        difference"), by Laplace's rule."""
        return (self.candidate_passes + self.baseline_passes + 1) / (2 * self.judged + 2)

    def boundary(self) -> ComparisonVerdict | None:
        if self.evidence_worse >= self.design.upper:
            return "regressed"
        if self.evidence_better >= self.design.upper:
            return "improved"
        if self.evidence_worse <= self.design.lower or \
                self.evidence_fine >= self.design.rare_against:
            return "no regression"
        return None


def sequential_test(pairs: Sequence[Pair], design: Design, *,
                    complete: bool) -> SequentialResult:
    """Read ``pairs`` in order until a boundary is crossed. ``complete``: no more pairs will
    come (the run ended); a run that spent its budget, or ended, without crossing a
    boundary is ``inconclusive`` (and ``settled``: more of these pairs change nothing)."""
    walk = _Walk(design)
    verdict: ComparisonVerdict | None = None
    read = 0
    for pair in pairs[:design.max_pairs]:
        read += 1
        if pair is not None:
            walk.read(*pair)
            verdict = walk.boundary()
            if verdict is not None:
                break
    settled = verdict is not None or complete or read >= design.max_pairs
    if verdict is None and settled and _rules_out_drop(walk):
        verdict = "no regression"
    detectable = detectable_drop(walk.judged, walk.pooled_estimate(), design.alpha,
                                 design.power)
    return SequentialResult(verdict or "inconclusive", settled, read, walk.judged,
                            walk.candidate_passes, walk.baseline_passes, walk.worse,
                            walk.better, walk.evidence_worse, walk.evidence_better, detectable)


def _rules_out_drop(walk: _Walk) -> bool:
    """The final look of a run that spent its budget: are the pairs against the candidate
    too few for one worse by ``max_drop``? A one-sided test at level 1 - power of the
    discordant pairs' bias against the bias such a candidate gives (normal approximation,
    at the baseline's pass rate seen)."""
    discordant = walk.worse + walk.better
    if discordant == 0:
        return False
    bias = worse_bias(walk.baseline_estimate(), walk.design.max_drop)
    spread = math.sqrt(discordant * bias * (1 - bias))
    z = (walk.worse - discordant * bias) / spread
    return z <= _NORMAL.inv_cdf(1 - walk.design.power)


# ---- power analysis ----------------------------------------------------------------------


def _discordance(baseline_rate: float, drop: float) -> tuple[float, float]:
    """(share of discordant pairs, P(candidate failed | discordant)) for a drop."""
    candidate = baseline_rate - drop
    against = baseline_rate * (1 - candidate)
    total = against + candidate * (1 - baseline_rate)
    return total, (against / total if total > 0 else 0.5)


def sign_test_power(pairs: int, baseline_rate: float, drop: float, alpha: float) -> float:
    """The power of a one-sided sign test at level ``alpha`` on ``pairs`` pairs, against a
    candidate that passes ``drop`` less often (normal approximation). With D discordant
    pairs expected (n q) the excess of pairs against the candidate is n * drop / 2."""
    if pairs <= 0 or drop <= 0:
        return 0.0
    share, bias = _discordance(baseline_rate, drop)
    expected = pairs * share
    threshold = _NORMAL.inv_cdf(1 - alpha) * math.sqrt(expected) / 2
    excess = pairs * drop / 2
    spread = math.sqrt(expected * bias * (1 - bias))
    if spread == 0:
        return 1.0 if excess > threshold else 0.0
    return _NORMAL.cdf((excess - threshold) / spread)


def detectable_drop(pairs: int, baseline_rate: float, alpha: float,
                    power: float) -> float | None:
    """The smallest drop a sign test on ``pairs`` pairs detects with ``power`` (None when
    not even a drop to 0 % is)."""
    if pairs <= 0 or sign_test_power(pairs, baseline_rate, baseline_rate, alpha) < power:
        return None
    low, high = 0.0, baseline_rate
    for _ in range(40):  # bisection to well below the precision any report shows
        middle = (low + high) / 2
        if sign_test_power(pairs, baseline_rate, middle, alpha) >= power:
            high = middle
        else:
            low = middle
    return high


def pairs_needed(baseline_rate: float, drop: float, alpha: float, power: float) -> int | None:
    """The pairs a fixed-size sign test needs to detect ``drop`` with ``power`` (None when
    the drop is more than the baseline passes)."""
    if drop <= 0 or drop > baseline_rate:
        return None
    share, bias = _discordance(baseline_rate, drop)
    z_alpha, z_power = _NORMAL.inv_cdf(1 - alpha), _NORMAL.inv_cdf(power)
    root = z_alpha * math.sqrt(share) + 2 * z_power * math.sqrt(share * bias * (1 - bias))
    return max(1, math.ceil((root / drop) ** 2))
