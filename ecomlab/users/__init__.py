"""Chapter 04 helpers: private-domain user operations (用户运营 / 私域).

A small subpackage, one module per analysis family (like pymc-marketing's ``clv/``):

* :mod:`ecomlab.users.rfm` — 04-1 RFM and value segments: :func:`rfm_table`,
  :func:`rfm_scores`, :func:`rfm_segments`, :func:`segment_summary`, :func:`kmeans_rfm`.
* :mod:`ecomlab.users.cohorts` — cohorts, repurchase and historical LTV:
  :func:`cohort_matrix`, :func:`time_to_second_purchase`, :func:`historical_ltv`,
  :func:`ltv_cac`.
* :mod:`ecomlab.users.lifetime` — the probabilistic CLV models: :func:`rfm_summary`,
  :func:`fit_bgnbd` (BG/NBD, Fader, Hardie & Lee 2005), :func:`expected_purchases`,
  :func:`p_alive`, :func:`expected_purchases_unconditional`, :func:`fit_gamma_gamma`,
  :func:`conditional_expected_spend`, :func:`clv`, :func:`spend_frequency_correlation`.
* :mod:`ecomlab.users.uplift` — coupons and uplift targeting: :func:`uplift_by_segment`,
  :func:`t_learner`, :func:`qini_curve`, :func:`qini_coefficient`, :func:`uplift_at_k`,
  :func:`targeting_value`, :func:`policy_value`.

Causal evaluation of programmes (difference-in-differences, event studies, placebo tests,
matching) lives in :mod:`ecomlab.causal`, shared by chapters 04 and 06.

Conventions (see ``STYLE.md``): every KPI comes from :mod:`ecomlab.metrics`; a
purchase is an order whose ``status`` is in :data:`ecomlab.metrics.VALID_STATUSES`
(cancelled and refunded orders are *not* purchases the customer kept); every function
that leaves rows out reports how many and why in its result; time windows are
half-open ``[start, end)``; all computation is vectorised (integer codes from
:func:`ecomlab.keys.factorize` + ``np.bincount`` / ``ufunc.at``), with no Python loop over
rows or customers. Results are small typed records (frozen dataclasses) with documented
fields, a notebook display (``_repr_html_``) and ``to_frame()``.
"""

from __future__ import annotations

from ecomlab.users.cohorts import (
    CalendarEffectsResult,
    CohortResult,
    LTVResult,
    SecondPurchaseResult,
    calendar_effects,
    cohort_matrix,
    historical_ltv,
    ltv_cac,
    time_to_second_purchase,
)
from ecomlab.users.lifetime import (
    BGNBDResult,
    CorrelationResult,
    GammaGammaResult,
    bgnbd_log_likelihood,
    clv,
    conditional_expected_spend,
    expected_purchases,
    expected_purchases_unconditional,
    fit_bgnbd,
    fit_gamma_gamma,
    fit_mbgnbd,
    gamma_gamma_log_likelihood,
    mbgnbd_log_likelihood,
    p_alive,
    rfm_summary,
    spend_frequency_correlation,
)
from ecomlab.users.rfm import (
    SEGMENT_ACTIONS,
    SEGMENTS,
    SEGMENTS_ZH,
    KMeansRFMResult,
    RFMResult,
    kmeans_rfm,
    rfm_scores,
    rfm_segments,
    rfm_table,
    segment_summary,
)
from ecomlab.users.uplift import (
    TLearnerResult,
    policy_value,
    qini_coefficient,
    qini_curve,
    t_learner,
    targeting_value,
    uplift_at_k,
    uplift_by_segment,
)

__all__ = [
    "SEGMENTS",
    "SEGMENTS_ZH",
    "SEGMENT_ACTIONS",
    "RFMResult",
    "rfm_table",
    "rfm_scores",
    "rfm_segments",
    "segment_summary",
    "KMeansRFMResult",
    "kmeans_rfm",
    "CohortResult",
    "cohort_matrix",
    "CalendarEffectsResult",
    "calendar_effects",
    "SecondPurchaseResult",
    "time_to_second_purchase",
    "LTVResult",
    "historical_ltv",
    "ltv_cac",
    "rfm_summary",
    "BGNBDResult",
    "fit_bgnbd",
    "bgnbd_log_likelihood",
    "fit_mbgnbd",
    "mbgnbd_log_likelihood",
    "expected_purchases",
    "expected_purchases_unconditional",
    "p_alive",
    "GammaGammaResult",
    "fit_gamma_gamma",
    "gamma_gamma_log_likelihood",
    "conditional_expected_spend",
    "clv",
    "CorrelationResult",
    "spend_frequency_correlation",
    "uplift_by_segment",
    "TLearnerResult",
    "t_learner",
    "qini_curve",
    "qini_coefficient",
    "uplift_at_k",
    "targeting_value",
    "policy_value",
]
