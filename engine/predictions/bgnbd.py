"""The BG/NBD model (Fader, Hardie & Lee 2005): while alive a customer buys at rate λ ~ Gamma(r, α); after
each purchase they drop out with probability p ~ Beta(a, b). Fitted by maximum likelihood (equation 6 of
the paper) with scipy; time in days. PyMC-Marketing maintains a Bayesian version; its dependencies
(PyMC, a C compiler for PyTensor) are too heavy for a model this small, whose likelihood is closed-form.

Per customer: x repeat purchases, t_x the time of the last one and T the time since the first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, special

Array = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def _odds(self, x: Array, t_x: Array, big_t: Array) -> Array:
        """The second term of P(alive)'s denominator: zero for a customer with no repeat purchase."""
        ratio = np.where(x > 0, self.a / np.maximum(self.b + x - 1, 1e-9), 0.0)
        return np.asarray(ratio * ((self.alpha + big_t) / (self.alpha + t_x)) ** (self.r + x))

    def p_alive(self, x: Array, t_x: Array, big_t: Array) -> Array:
        return np.asarray(1.0 / (1.0 + self._odds(x, t_x, big_t)))

    def p_no_purchase(self, x: Array, t_x: Array, big_t: Array, horizon: float) -> Array:
        """P(no purchase in the next `horizon` days): gone, or alive and buying nothing (dropout happens
        only at a purchase, so an alive customer's λ ~ Gamma(r + x, α + T) decides)."""
        quiet = ((self.alpha + big_t) / (self.alpha + big_t + horizon)) ** (self.r + x)
        return np.asarray(1.0 - self.p_alive(x, t_x, big_t) * (1.0 - quiet))

    def expected(self, x: Array, t_x: Array, big_t: Array, horizon: float) -> Array:
        """E[purchases in the next `horizon` days | x, t_x, T] (the paper's equation 10)."""
        a, b, r, alpha = self.a, self.b, self.r, self.alpha
        z = horizon / (alpha + big_t + horizon)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        top = (
            (a + b + x - 1)
            / max(a - 1, 1e-6)
            * (1 - ((alpha + big_t) / (alpha + big_t + horizon)) ** (r + x) * hyp)
        )
        return np.asarray(np.maximum(top / (1 + self._odds(x, t_x, big_t)), 0.0))


def _negative_log_likelihood(log_params: Array, x: Array, t_x: Array, big_t: Array) -> float:
    r, alpha, a, b = np.exp(log_params)
    common = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    first = special.betaln(a, b + x) - special.betaln(a, b) + common - (r + x) * np.log(alpha + big_t)
    second = np.where(
        x > 0,
        special.betaln(a + 1, b + x - 1) - special.betaln(a, b) + common - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return float(-np.sum(np.logaddexp(first, second)))


def fit(x: Array, t_x: Array, big_t: Array) -> BgNbd:
    result = optimize.minimize(
        _negative_log_likelihood,
        x0=np.log([1.0, 30.0, 1.0, 3.0]),
        args=(x, t_x, big_t),
        method="L-BFGS-B",
        bounds=[(-6.0, 8.0)] * 4,
    )
    r, alpha, a, b = np.exp(result.x)
    return BgNbd(float(r), float(alpha), float(a), float(b))
