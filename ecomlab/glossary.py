"""The zh–en glossary (术语表) as data: one :class:`Term` per concept the course teaches.

Definitions agree with :mod:`ecomlab.metrics` (the one definition of each KPI); rates
are fractions in [0, 1]. Each term names the lesson that teaches it (the notebook path
under ``notebooks/`` without ``.ipynb``); a test checks that the lesson's markdown
mentions the term in English or Chinese.

>>> lookup("客单价").formula
'spend per buyer = GMV / buyers'
>>> terms().query("term_en == 'CR'")["term_zh"].item()
'转化率'
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields

import pandas as pd

__all__ = ["LESSONS", "TERMS", "Term", "lookup", "terms"]

#: Planned lesson notebooks (paths under ``notebooks/`` without ``.ipynb``), in course order.
LESSONS: tuple[str, ...] = (
    "00_start_here",
    "01_positioning/01_market",
    "01_positioning/02_personas",
    "01_positioning/03_swot",
    "02_product/01_selection",
    "02_product/02_pricing",
    "02_product/03_inventory",
    "03_traffic/01_channels",
    "03_traffic/02_keywords",
    "03_traffic/03_quality",
    "04_private_domain/01_rfm",
    "04_private_domain/02_cohorts_repurchase",
    "04_private_domain/03_clv",
    "04_private_domain/04_coupons_uplift",
    "04_private_domain/05_fan_groups",
    "05_data_iteration/01_kpi_tree",
    "05_data_iteration/02_ab_testing",
    "05_data_iteration/03_behaviour",
    "06_case_study/01_measuring_the_programme",
    "06_case_study/02_ops_review_report",
)


@dataclass(frozen=True)
class Term:
    """One glossary entry.

    Fields
    ------
    term_en : English term or abbreviation as used in the course ("AOV").
    term_zh : Simplified-Chinese term as used in Chinese e-commerce ("客单价").
    definition : one or two plain sentences; says how the course measures it.
    formula : the formula in plain text, or None when there is none.
    lesson : the lesson that teaches it, one of :data:`LESSONS`.
    """

    term_en: str
    term_zh: str
    definition: str
    formula: str | None = None
    lesson: str = "00_start_here"

    def __post_init__(self) -> None:
        for f in ("term_en", "term_zh", "definition", "lesson"):
            value = getattr(self, f)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"Term.{f} must be a non-empty string, got {value!r}")
        if self.formula is not None and (not isinstance(self.formula, str)
                                         or not self.formula.strip()):
            raise ValueError(f"Term.formula must be None or a non-empty string, got "
                             f"{self.formula!r}")
        if self.lesson not in LESSONS:
            raise ValueError(f"Term.lesson must be one of {LESSONS}, got {self.lesson!r}")


_START = "00_start_here"
_MARKET = "01_positioning/01_market"
_PERSONAS = "01_positioning/02_personas"
_SWOT = "01_positioning/03_swot"
_SELECTION = "02_product/01_selection"
_INVENTORY = "02_product/03_inventory"
_PRICING = "02_product/02_pricing"
# Terms sit in the lesson that teaches them today; chapter 03 (channels, funnels) and
# chapter 02 (pricing) can take theirs over when those lessons are written.
_RFM = "04_private_domain/01_rfm"
_COHORTS = "04_private_domain/02_cohorts_repurchase"
_CLV = "04_private_domain/03_clv"
_COUPONS = "04_private_domain/04_coupons_uplift"
_FAN = "04_private_domain/05_fan_groups"
_MEMBERS = _FAN  # membership is evaluated with the fan groups (selection vs effect)
_KPI = "05_data_iteration/01_kpi_tree"
_AB = "05_data_iteration/02_ab_testing"
_BEHAVIOUR = "05_data_iteration/03_behaviour"
_CHANNELS = "03_traffic/01_channels"
_KEYWORDS = "03_traffic/02_keywords"
_QUALITY = "03_traffic/03_quality"
_CASE = "06_case_study/01_measuring_the_programme"
_REPORT = "06_case_study/02_ops_review_report"

TERMS: tuple[Term, ...] = (
    # --- pricing (02-2) -----------------------------------------------------------------
    Term("price elasticity", "价格弹性",
         "The % change in units sold for a 1% change in price; below −1 demand is elastic "
         "(a price cut raises revenue). Estimated from exogenous price changes.",
         "e = d log q / d log p", _PRICING),
    Term("margin-optimal price", "利润最大化定价",
         "The price that maximises (p − c)·q under a constant elasticity e < −1; none exists "
         "for e ≥ −1.", "p* = c · e / (1 + e)", _PRICING),
    Term("promotion lift", "促销提升",
         "Units (or sales) per day during a promotion divided by a baseline of ordinary days "
         "before it.", "lift = q_promo / q_baseline", _PRICING),
    Term("pull-forward", "需求前移",
         "Purchases a promotion moves into its window from the days before or after it, seen "
         "as a dip around the promotion; that part of the lift is not extra demand.", None, _PRICING),
    # --- inventory and forecasting (02-3) ---------------------------------------------
    Term("safety stock", "安全库存",
         "Stock held beyond the expected lead-time demand to absorb demand and lead-time "
         "variability; set from a target cycle service level.",
         "SS = Φ⁻¹(CSL) · sqrt(L σ_d² + d² σ_L²)", _INVENTORY),
    Term("reorder point", "补货点",
         "The inventory position (on hand + on order) at which a new order is placed: "
         "expected demand over the lead time plus safety stock.", "ROP = d · L + SS", _INVENTORY),
    Term("cycle service level", "周期服务水平",
         "The share of replenishment cycles that end without a stockout (P1).",
         "CSL = Φ(SS / σ_LTD)", _INVENTORY),
    Term("fill rate", "满足率",
         "The share of demand (units) served from stock (P2); differs from the cycle "
         "service level for the same policy.", "fill rate = 1 − σ_LTD G(k) / Q", _INVENTORY),
    Term("newsvendor", "报童模型",
         "A one-shot order before uncertain demand: stock the quantile of demand at the "
         "critical ratio of underage to underage-plus-overage cost.",
         "P(D ≤ q*) = c_u / (c_u + c_o)", _INVENTORY),
    Term("promotion pre-build", "大促备货",
         "Stock built ahead of a big promotion (双11, 618) because suppliers' lead times "
         "are longer than the run-up; sized as a newsvendor.", None, _INVENTORY),
    Term("stockout", "缺货",
         "A SKU-day on which demand met an empty shelf; sales that day are censored and "
         "the lost sales must be estimated.", None, _INVENTORY),
    Term("MASE", "平均绝对标度误差",
         "Mean absolute scaled error: the forecast's hold-out MAE over the in-sample MAE "
         "of the seasonal-naive forecast; below 1 beats the benchmark.",
         "MASE = mean|y − ŷ| / mean|y_t − y_(t−m)| (in sample)", _INVENTORY),
    Term("exponential smoothing", "指数平滑",
         "ETS forecasting: the level is a weighted average of past values with weights "
         "falling geometrically; ETS(A,N,N) has one level and no trend or season.",
         "ℓ_t = ℓ_(t−1) + α (y_t − ℓ_(t−1)); ŷ = ℓ_T", _INVENTORY),
    # --- market landscape (01-1) ----------------------------------------------------
    Term("market share", "市场份额",
         "A brand's part of a market's sales in a period, by value (sales amount) or by "
         "units; value share ÷ unit share is the brand's price index against the market.",
         "value share_b = sales_b / Σ sales; price index_b = value share_b / unit share_b", _MARKET),
    Term("HHI", "赫芬达尔指数",
         "Herfindahl–Hirschman index of market concentration, from 0 to 10,000 (a monopoly); "
         "10,000 / HHI is the equivalent number of equal-sized firms. Above 1,800 is highly "
         "concentrated (US DOJ & FTC Merger Guidelines 2023).", "HHI = Σ (100 × share_i)²", _MARKET),
    Term("concentration ratio", "集中度",
         "CR-k: the combined share of the k largest brands of a market (CR3, CR5 …).",
         "CR_k = Σ of the k largest shares", _MARKET),
    Term("price band", "价格带",
         "A price range in which products compete; a brand's sales split across bands shows "
         "where it competes. The course places a brand-month by its price relative to the "
         "category's average price.", "price index = brand price / (Σ sales / Σ units)", _MARKET),
    Term("relative market share", "相对市场份额",
         "A brand's share divided by its largest rival's share: above 1 the brand leads.",
         "relative share = own share / largest rival's share", _MARKET),
    Term("growth–share matrix", "增长-份额矩阵",
         "The BCG matrix (Henderson 1970): markets placed by growth and by the brand's relative "
         "share; stars, question marks, cash cows and dogs.", None, _MARKET),
    Term("Granger causality", "格兰杰因果",
         "Series x Granger-causes y when x's past improves the prediction of y beyond y's own "
         "past (an F test on lagged values); it means 'helps predict', not 'causes'.", None, _MARKET),
    # --- personas (01-2) and SWOT (01-3) ------------------------------------------------
    Term("persona", "用户画像",
         "A named group of customers who share needs, attitudes and behaviour, found by "
         "clustering survey answers and profiled by demographics, spend and channel.", None, _PERSONAS),
    Term("Likert scale", "李克特量表",
         "Answers on an ordered agreement scale, e.g. 1 = strongly disagree … 5 = strongly agree.",
         None, _PERSONAS),
    Term("standardisation", "标准化",
         "Replacing each value by its z-score, so items measured with different spreads weigh "
         "the same in a distance.", "z = (x − mean) / standard deviation", _PERSONAS),
    Term("Gaussian mixture", "高斯混合模型",
         "A model of the data as k overlapping normal distributions, fitted by EM; each "
         "respondent belongs to the most probable component.", None, _PERSONAS),
    Term("silhouette", "轮廓系数",
         "How much closer a point is to its own cluster than to the nearest other one, from −1 "
         "to 1 (Rousseeuw 1987); the mean over points rates a clustering.",
         "s_i = (b_i − a_i) / max(a_i, b_i)", _PERSONAS),
    Term("adjusted Rand index", "调整兰德指数",
         "Agreement between two partitions of the same items, corrected for chance: 1 = the "
         "same groups (whatever their labels), about 0 = chance (Hubert & Arabie 1985).",
         "ARI = (Σ C(n_ij,2) − E) / (½[Σ C(a_i,2) + Σ C(b_j,2)] − E)", _PERSONAS),
    Term("bootstrap", "自助法",
         "Resampling the data with replacement to see how much a result varies from sample to "
         "sample (Efron 1979); here, whether the same clusters come back.", None, _PERSONAS),
    Term("SWOT", "SWOT分析",
         "Strengths and weaknesses (internal) and opportunities and threats (external) of a "
         "business; in this course each item carries the metric and value behind it.", None, _SWOT),
    Term("TOWS matrix", "TOWS矩阵",
         "Strategies made by crossing SWOT items (Weihrich 1982): SO use strengths to seize "
         "opportunities, ST use strengths against threats, WO fix weaknesses to seize "
         "opportunities, WT limit weaknesses exposed to threats.", None, _SWOT),
    Term("positioning statement", "定位声明",
         "One paragraph saying for whom the brand is, in which market, what it offers that "
         "rivals do not, and the evidence for it.", None, _SWOT),
    # --- channels and media mix (03-1) ------------------------------------------------
    Term("incremental ROAS", "增量ROAS",
         "Revenue that would be lost without the ad spend, per unit of spend; below the "
         "platform-reported ROAS, which also credits orders that would have happened anyway.",
         "incremental ROAS = incremental revenue / spend", _CHANNELS),
    Term("adstock", "广告滞后效应",
         "Carry-over of ad spend into later days. Geometric, normalised (pymc-marketing, "
         "Meridian): a_t = (1 − θ)x_t + θa_(t−1); Robyn's unnormalised A_t = x_t + θA_(t−1) = a_t/(1 − θ).",
         "a_t = (1 − θ)·x_t + θ·a_(t−1)", _CHANNELS),
    Term("half-saturation point", "半饱和点",
         "The adstock at which a Hill saturation curve reaches half its maximum effect.",
         "h(a) = a^s / (a^s + K^s), h(K) = ½", _CHANNELS),
    Term("marginal ROAS", "边际ROI",
         "Revenue brought by the next unit of spend at the current level: the slope of the "
         "response curve. Below the average ROAS when returns diminish; budgets follow it.",
         "marginal ROAS = d revenue / d spend", _CHANNELS),
    Term("media mix model", "营销组合模型",
         "A regression of sales on adstocked, saturated spend per channel plus baseline, trend "
         "and seasonality (MMM), used to estimate incremental effects and split budgets.", None, _CHANNELS),
    Term("conversion-lift test", "转化提升实验",
         "A randomised incrementality experiment of one ad channel: the platform withholds the "
         "ads from a random holdout; exposed minus holdout revenue per user, times the exposed "
         "users, is the channel's incremental revenue. Used to validate and calibrate an MMM.",
         "incremental revenue = n_exposed · (ȳ_exposed − ȳ_holdout)", _CHANNELS),
    # --- search keywords (03-2) ------------------------------------------------------
    Term("CTR", "点击率",
         "Click-through rate: the share of impressions that are clicked. In search it falls "
         "with the listing's rank, about as a power law rank^−b.",
         "CTR = clicks / impressions", _KEYWORDS),
    Term("CPC", "点击成本",
         "Cost per click: what a search or feed ad charges for one click (in 直通车, set by "
         "the seller's bid and the auction).", "CPC = ad spend / clicks", _KEYWORDS),
    Term("break-even CPC", "盈亏平衡点击成本",
         "The most a click may cost before the orders it brings lose money on average: its "
         "conversion rate times the gross profit per order.",
         "break-even CPC = (orders / clicks) × gross profit per order", _KEYWORDS),
    Term("keyword opportunity", "关键词机会值",
         "Extra monthly gross profit from moving a keyword's listing to a better rank, after "
         "the cost of getting there.",
         "searches × (CTR(better rank) − CTR(rank)) × CR × gross profit per order − cost", _KEYWORDS),
    Term("Zhitongche search ads", "直通车",
         "Taobao/Tmall's pay-per-click search ads: the seller bids on keywords and pays the "
         "CPC for each click on the promoted listing.", None, _KEYWORDS),
    Term("value per visitor", "UV价值",
         "What a visitor from a source or device is worth in GMV: its conversion rate times "
         "its spend per buyer. Descriptive and attribution-free, not the incremental value of "
         "more traffic.", "value per visitor = CR × spend per buyer = GMV / UV", _QUALITY),
    Term("returning visitor", "老访客",
         "A visitor who was already a customer (had bought before) at their first visit of the "
         "period; the others are new visitors (新访客).", None, _QUALITY),
    Term("Wilson interval", "威尔逊区间",
         "A confidence interval for a proportion (a CR) that stays inside [0, 1] and keeps its "
         "coverage when the proportion is small, unlike p ± z·SE.",
         "(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)", _QUALITY),
    # --- the core KPIs and frames (start here) --------------------------------------
    Term("GMV", "成交总额",
         "Gross merchandise volume: the value of orders placed in a period, at the prices "
         "paid. Cancelled orders are excluded; later refunds are not subtracted (net sales "
         "subtract them).",
         "GMV = Σ paid_amount over placed orders = UV × CR × spend per buyer", _START),
    Term("UV", "访客数",
         "Unique visitors: distinct visitors (visitor_id) who viewed the store in a period.",
         "UV = number of distinct visitor_id with ≥ 1 page view", _START),
    Term("PV", "浏览量",
         "Page views: every page or product-detail view, counting repeats by the same "
         "visitor.", "PV = number of page-view events", _START),
    Term("CR", "转化率",
         "Conversion rate per visitor: the share of visitors who buy in the period (not "
         "orders per session).", "CR = buyers / UV", _START),
    Term("spend per buyer", "客单价",
         "What the Chinese trade calls 客单价: GMV per buyer in the period, so a customer "
         "who orders twice counts once. Not the English 'AOV' (average order value), which "
         "is per order: see order value.",
         "spend per buyer = GMV / buyers", _START),
    Term("order value", "笔单价",
         "Average value per placed order (what English-language tools call AOV); at most "
         "the spend per buyer, equal only when every buyer orders once.",
         "order value = GMV / placed orders", _START),
    Term("placed order", "已下单订单",
         "An order that was not cancelled (completed or later refunded): the orders GMV sums "
         "over. 'Orders' alone means every order, whatever its status.",
         "placed orders = orders − cancelled orders", _START),
    Term("people–goods–place", "人货场",
         "The retail frame that splits a business into people (customers and traffic), goods "
         "(assortment, price, stock) and place (channels and the shopping scene).", None,
         _START),
    Term("private-domain traffic", "私域流量",
         "Customers a brand can reach again at no per-contact cost through channels it "
         "controls (WeChat fan groups, mini-program, official account), as opposed to "
         "public-domain traffic bought or won on a marketplace (公域).", None, _START),
    Term("gross margin", "毛利率",
         "The share of revenue left after the cost of the goods sold.",
         "gross margin = (revenue − cost of goods) / revenue", _CLV),
    # --- selection (02-1) ----------------------------------------------------------------
    Term("ABC analysis", "ABC分析",
         "Sort items by value (GMV, gross margin) from the largest down and class them by "
         "cumulative share: A up to about 80% of the total, B the next 15%, C the rest (a "
         "Pareto convention; Dickie 1951).",
         "A while Σ_{j<i} v_j / Σ v < 0.8; B while < 0.95; else C", _SELECTION),
    Term("long tail", "长尾",
         "The many SKUs that each sell little: together a small share of sales, each with its own "
         "listing, stock and service cost.", None, _SELECTION),
    Term("return rate", "退货率",
         "The share of sold lines (or units) that customers send back; a refund that also "
         "costs the margin of the line and, when the goods cannot be resold, their cost.",
         "return rate = returned lines / lines sold", _SELECTION),
    Term("weighted score", "加权评分",
         "An explicit score for ranking candidates: each criterion turned into a percentile rank, "
         "then a weighted mean (negative weight: less is better); check that the top picks "
         "survive changes of the weights.", "score = Σ w_k · rank_k / Σ |w_k|", _SELECTION),
    # --- channels ---------------------------------------------------------------------
    Term("CAC", "获客成本",
         "Customer acquisition cost: marketing spend per new customer acquired.",
         "CAC = spend / new customers", _CLV),
    Term("ROAS", "广告支出回报率",
         "Return on ad spend: revenue per unit of ad spend. Platform-reported ROAS credits "
         "attributed revenue and overstates the incremental ROAS that would be lost without "
         "the ads.", "ROAS = revenue / ad spend", _MEMBERS),
    Term("ROI", "投资回报率",
         "Return on investment: profit gained per unit of cost, measured on incremental "
         "gross profit (not revenue).",
         "ROI = (incremental gross profit − cost) / cost", _MEMBERS),
    Term("input-output ratio", "投产比",
         "投入产出比, literally output per input. In Chinese e-commerce 投产比 usually "
         "means ROAS (revenue / ad spend), not profit ROI: always say which one a "
         "figure is.",
         "投产比 = revenue / spend (= ROAS)", _MEMBERS),
    # --- funnel -----------------------------------------------------------------------
    Term("funnel", "漏斗",
         "The ordered steps from visit to purchase (pv → fav/cart → buy) with the share of "
         "users reaching each step.",
         "step rate_k = users at step k / users at step k−1", _BEHAVIOUR),
    Term("strict funnel", "严格漏斗",
         "A funnel counting a user at a step only if they completed every earlier step, in "
         "order, within the window; rates can only fall step by step.", None, _BEHAVIOUR),
    Term("loose funnel", "宽松漏斗",
         "A funnel counting every user who reached a step, whether or not they passed the "
         "earlier ones; simpler, but a step can exceed the one before.", None, _BEHAVIOUR),
    Term("cart abandonment", "弃购",
         "Adding to cart without buying within the session or window.",
         "cart abandonment rate = 1 − carts that reach purchase / carts", _BEHAVIOUR),
    Term("session", "会话",
         "One visit: a visitor's consecutive events with no gap longer than a timeout "
         "(30 minutes by convention).", None, _BEHAVIOUR),
    Term("bounce rate", "跳出率",
         "The share of sessions with a single event: the visitor left without a second "
         "page view or action.", "bounce rate = sessions with one event / sessions", _BEHAVIOUR),
    Term("path analysis", "路径分析",
         "Counting the sequences of events that sessions follow (repeats merged), to see "
         "the common routes to a purchase and where visits end.", None, _BEHAVIOUR),
    Term("transition matrix", "转移矩阵",
         "For each event, the probability of each next event in the same session (or of "
         "the session ending).", "P(next = j | current = i) = transitions i→j / events i",
         _BEHAVIOUR),
    # --- RFM --------------------------------------------------------------------------
    Term("RFM", "RFM模型",
         "Segmenting customers by Recency (days since last order), Frequency (number of "
         "orders) and Monetary value (amount spent), each usually scored in quintiles 1–5.",
         "R = days since last order; F = orders; M = Σ paid amount", _RFM),
    Term("reference date", "观察日",
         "The fixed date recency is measured to (here midnight after the last order in the "
         "data), so a report can be reproduced.", "R = reference date − last purchase day",
         _RFM),
    Term("quintile score", "五分位评分",
         "A 1–5 score from cutting the ranked customers into five groups of equal size "
         "(rank-based qcut; ties broken by row order).",
         "score = qcut(rank(x, method='first'), 5) + 1", _RFM),
    Term("value segments", "客户价值分层",
         "The eight RFM segments (八大客户): R, F and M each high or low against the mean; "
         "M decides important (重要) vs general (一般), R and F the relationship.", None, _RFM),
    Term("k-means", "k均值聚类",
         "Clustering that places k centres and assigns each customer to the nearest one, "
         "moving the centres to their members' means until nothing changes.",
         "minimise Σ_i ‖x_i − centre_(c(i))‖²", _RFM),
    Term("hold-out group", "留出组",
         "Customers deliberately left untreated, at random, so a campaign can measure its "
         "own effect against them.", None, _RFM),
    Term("membership", "会员",
         "A programme customers join (often free or by points) to get member prices, points "
         "and perks; members buy more, partly because heavy buyers are the ones who join.",
         None, _MEMBERS),
    Term("fan group", "粉丝群/社群",
         "A brand-run WeChat group of customers that receives content, group-only coupons "
         "and launches; the core of a private-domain programme.", None, _MEMBERS),
    Term("coupon", "优惠券",
         "A discount voucher (e.g. ¥20 off orders over ¥199); worthwhile only where it "
         "changes behaviour, otherwise a subsidy to purchases that would happen anyway.",
         None, _COUPONS),
    # --- cohorts, repurchase, LTV -----------------------------------------------------
    Term("cohort", "同期群",
         "Customers grouped by when they started (usually the month of their first order), "
         "followed over the periods since then.", None, _COHORTS),
    Term("retention", "留存率",
         "The share of a cohort still active (ordering) k periods after its start.",
         "retention_k = active customers of the cohort in period k / cohort size", _COHORTS),
    Term("churn", "流失",
         "A customer stopping buying for good; in non-contractual retail it is never "
         "observed, only inferred (see P(alive)).",
         "churn rate_k = 1 − retention_k / retention_(k−1)", _COHORTS),
    Term("repurchase rate", "复购率",
         "The share of a period's buyers who ordered at least twice within that period.",
         "repurchase rate = buyers with ≥ 2 orders in the period / buyers in the period",
         _COHORTS),
    Term("return-purchase rate", "回购率",
         "The share of one period's buyers who buy again in the next period (not to be "
         "confused with returns of goods, 退货).",
         "return-purchase rate = period-1 buyers who also buy in period 2 / period-1 buyers",
         _COHORTS),
    Term("censoring", "删失",
         "An event (e.g. the second purchase) not yet observed when observation stops: the "
         "customer is known to have waited at least that long, not to never buy again.",
         None, _COHORTS),
    Term("Kaplan–Meier", "Kaplan–Meier估计",
         "The product-limit estimator of the share still without an event by time t, using "
         "each customer for as long as they were observed (censoring handled).",
         "S(t) = Π_{t_i ≤ t} (1 − d_i / n_i)", _COHORTS),
    Term("LTV", "用户生命周期价值",
         "Lifetime value: the total (gross profit or revenue) a customer brings over their "
         "whole relationship, often discounted; compare it with CAC.",
         "LTV = Σ_t margin_t × P(active at t) / (1 + d)^t", _CLV),
    Term("BG/NBD", "BG/NBD模型",
         "Beta-geometric / negative-binomial model of repeat purchases (Fader, Hardie & Lee "
         "2005): while alive a customer buys at rate λ ~ Gamma(r, α) and after each "
         "purchase drops out with probability p ~ Beta(a, b).",
         "inputs per customer: frequency x, recency t_x, age T", _CLV),
    Term("P(alive)", "存活概率",
         "The probability, under BG/NBD, that a customer has not yet dropped out given their "
         "purchase history (x, t_x, T). Under BG/NBD it is exactly 1 for every customer "
         "without a repeat purchase; MBG/NBD removes that property.", None, _CLV),
    Term("Gamma-Gamma", "Gamma-Gamma模型",
         "A model of the average order value per customer (Fader, Hardie & Lee 2005), "
         "combined with BG/NBD to forecast monetary LTV; assumes value is independent of "
         "frequency.", "E[value | x, m̄] = weighted mix of the population mean and m̄", _CLV),
    Term("MBG/NBD", "MBG/NBD模型",
         "Modified BG/NBD (Batislam, Denizel & Filiztekin 2007): as BG/NBD, but a customer "
         "may also drop out right after the first purchase, so a one-time buyer's P(alive) "
         "falls with the time since that purchase.",
         "P(alive) = 1 / (1 + a/(b+x) × ((α+T)/(α+t_x))^(r+x))", _CLV),
    Term("CLV", "客户终身价值",
         "Customer lifetime value: the discounted gross profit a customer is expected to bring "
         "from now on, forecast by a model (BG/NBD × Gamma-Gamma), as opposed to the "
         "historical LTV already observed.",
         "CLV = margin × E[spend] × Σ_m E[purchases in month m] / (1 + d)^m", _CLV),
    Term("hold-out validation", "留出验证",
         "Fitting a model on a calibration period and checking its forecast on a later "
         "period it has not seen, before trusting it.", None, _CLV),
    Term("uplift", "增量/提升",
         "The causal effect of a treatment (e.g. a coupon) on one customer or segment: the "
         "change in outcome it causes, not the outcome itself.",
         "uplift = P(buy | treated) − P(buy | not treated)", _COUPONS),
    Term("Qini curve", "Qini曲线",
         "Cumulative incremental responders when customers are targeted in order of "
         "predicted uplift; the area above the random-targeting line measures the model.",
         "Qini(k) = R_T(k) − R_C(k) × N_T(k) / N_C(k)", _COUPONS),
    Term("response rate", "响应率",
         "The share of treated customers (e.g. coupon receivers) who bought; it includes "
         "those who would have bought anyway, so it is not the treatment's effect.",
         "response rate = treated buyers / treated customers", _COUPONS),
    Term("T-learner", "双模型法(T-learner)",
         "An uplift model made of two classifiers, one fitted on treated and one on control "
         "customers; a customer's predicted uplift is the difference of their predictions "
         "(Künzel et al. 2019).", "uplift(x) = P̂_T(buy | x) − P̂_C(buy | x)", _COUPONS),
    Term("multiplicity", "多重比较",
         "Reading many tests or intervals at once: the chance that at least one is wrong "
         "grows with their number, so each must be held to a stricter level.",
         "P(≥ 1 false finding among m) ≤ 1 − (1 − α)^m for independent tests", _COUPONS),
    Term("Bonferroni correction", "Bonferroni校正",
         "Controls the chance of any false finding among m tests or intervals by running each "
         "at level α/m (simultaneous intervals); simple and conservative.",
         "per-test level = α / m; adjusted p = min(1, m × p)", _COUPONS),
    Term("Holm correction", "Holm校正",
         "A step-down version of Bonferroni (Holm 1979): the smallest p-value is compared "
         "with α/m, the next with α/(m − 1), …; same error control, never less power.",
         "adjusted p_(i) = max_(j ≤ i) min(1, (m − j + 1) × p_(j)), p sorted ascending", _COUPONS),
    Term("break-even uplift", "盈亏平衡增量",
         "The smallest uplift at which a treatment pays for itself: the cost per customer "
         "treated over the gross profit one incremental purchase earns.",
         "u* = redemption rate × coupon value / gross profit per purchase", _COUPONS),
    Term("hold-out split", "留出集",
         "A random part of the data kept aside while a model or policy is chosen, then used "
         "once to measure it, so the measurement is not flattered by the choice.", None,
         _COUPONS),
    Term("difference-in-differences", "双重差分",
         "Estimating an effect by comparing the before–after change of a treated group with "
         "that of a comparison group, which removes fixed differences between the groups "
         "(assumes parallel trends).",
         "DiD = (Y_T,after − Y_T,before) − (Y_C,after − Y_C,before)", _MEMBERS),
    Term("parallel trends", "平行趋势",
         "Difference-in-differences' assumption: without the treatment, the treated group's "
         "outcome would have changed like the comparison group's (by the same amount, or by "
         "the same factor for rates). Testable only before treatment: event-study leads and "
         "placebo tests.", None, _FAN),
    Term("event study", "事件研究",
         "The treated–comparison gap estimated period by period relative to a reference "
         "period: leads (before treatment) should be near 0, lags trace the effect over time; "
         "a joint test of the leads checks parallel trends.",
         "effect_k = exp(γ_k) − 1 in log E[y] = a_t + b·treated + Σ_k γ_k·treated·1[t = k]", _FAN),
    Term("placebo test", "安慰剂检验",
         "The same analysis run where no effect can exist (a fake start date before the "
         "programme, an untreated outcome); a credible design finds none there.", None, _FAN),
    Term("self-selection", "自选择",
         "Units choose (or are chosen for) a treatment because of who they are, so takers "
         "differ from non-takers before any effect; the naive gap mixes effect and selection.",
         None, _FAN),
    Term("matching", "匹配",
         "Comparing treated units with untreated ones that were alike, before treatment, on "
         "what drove selection; valid only if nothing unmatched drove it.", None, _FAN),
    Term("coarsened exact matching", "粗化精确匹配",
         "Matching within strata of binned covariates (Iacus, King & Porro 2012): treated "
         "units without a control in their stratum are dropped, controls are re-weighted to "
         "the treated mix of strata.",
         "control weight in stratum s = n_treated(s) / n_control(s)", _FAN),
    Term("standardised mean difference", "标准化均值差",
         "A covariate's gap in means between treated and control in pooled-SD units, before "
         "and after matching; |SMD| < 0.1 is the usual bar for balance.",
         "SMD = (mean_T − mean_C) / √((var_T + var_C) / 2)", _FAN),
    # --- the case study (06-1) --------------------------------------------------------
    Term("review", "复盘",
         "A structured look back at a campaign or programme: what was planned, what each lever "
         "caused (its increment, with an interval), whether it paid, and what to change.", None, _CASE),
    Term("increment", "增量",
         "What a lever caused: the outcome with it minus the outcome without it (a counterfactual "
         "estimated by a comparison group, an experiment or a model), not the outcome itself.",
         "increment = Y(with the lever) − Y(without it)", _CASE),
    Term("attribution", "归因",
         "Crediting an outcome (an order, revenue) to a cause (a channel, a programme). A "
         "platform's or a dashboard's attribution counts outcomes that would have happened "
         "anyway, so it is not an increment.", None, _CASE),
    Term("synthetic control", "合成控制",
         "A weighted combination of untreated units (competitors, regions) fitted to track the "
         "treated unit before a change; after it, the gap between the two estimates the effect "
         "(Abadie, Diamond & Hainmueller 2010).",
         "effect = Y_treated − (a + Σ_j w_j·Y_j), w ≥ 0, Σ w = 1, fitted before the change", _CASE),
    Term("placebo in space", "空间安慰剂检验",
         "A synthetic control refitted with each untreated unit playing the treated one: the "
         "treated unit's gap should stand out from theirs; its rank gives the p-value.",
         "p = rank of the treated unit's post/pre RMSE ratio / number of units", _CASE),
    Term("ops review report", "运营复盘报告",
         "The written review for decision makers: a one-page summary (claim vs measured, each "
         "lever's increment with its interval, the decision and the uncertainty), then the "
         "evidence; every figure computed from the analysis.", None, _REPORT),
    # --- KPI tree and monitoring ------------------------------------------------------
    Term("KPI tree", "指标树",
         "A top metric broken into the drivers that multiply or add up to it, so a change "
         "can be traced to its source.", "GMV = UV × CR × spend per buyer", _KPI),
    Term("anomaly alert", "异常告警",
         "A flag raised when a metric leaves its expected range: here when the robust "
         "z-score of the day against a baseline of normal days (promotion days left out) "
         "reaches a threshold.",
         "alert when |robust z_t| ≥ 3.5", _KPI),
    Term("LMDI", "对数平均迪氏指数分解",
         "Logarithmic mean Divisia index (Ang 2004): splits the change of a product such as "
         "GMV = UV × CR × spend per buyer into one additive effect per factor, with no "
         "residual and no dependence on the order of the factors.",
         "effect_x = L(GMV_1, GMV_0) × ln(x_1 / x_0), L(a, b) = (a − b) / ln(a / b)", _KPI),
    Term("week over week", "环比",
         "A change measured against the period just before (this week vs last week); "
         "环比 in general compares consecutive periods of any length.",
         "change = value_t / value_(t−1) − 1", _KPI),
    Term("year over year", "同比",
         "A change measured against the same period one year earlier, which removes the "
         "season and the promotion calendar from the comparison.",
         "change = value_t / value_(t−1 year) − 1", _KPI),
    Term("robust z-score", "稳健z分数",
         "How unusual a value is against a baseline, measured with the median and the "
         "median absolute deviation (MAD) instead of the mean and standard deviation, so "
         "one extreme day does not hide itself (Leys et al. 2013).",
         "z = (x − median) / (1.4826 × MAD)", _KPI),
    Term("drill-down", "下钻",
         "Splitting a change in an additive total (GMV) into the same change in each "
         "segment (device, source, category) to find where it happened.",
         "ΔGMV = Σ_segments ΔGMV_s", _KPI),
    # --- experiments ------------------------------------------------------------------
    Term("A/B test", "A/B测试",
         "A randomised experiment: visitors are randomly assigned to control (A) or a "
         "variant (B), so the difference in outcomes estimates the variant's causal effect.",
         "effect = mean_B − mean_A", _AB),
    Term("MDE", "最小可检测效应",
         "Minimum detectable effect: the smallest true effect a test of given size detects "
         "with the chosen power (usually 80% at α = 5%).",
         "n per arm ≈ 2 (z_(1−α/2) + z_(1−β))² σ² / MDE²", _AB),
    Term("SRM", "样本比例失衡",
         "Sample ratio mismatch: the arms' sizes differ from the planned split by more than "
         "chance allows, a sign of a bug in assignment or tracking; do not trust the result.",
         "χ² = Σ (observed − expected)² / expected", _AB),
    Term("CUPED", "CUPED方差缩减",
         "Controlled-experiment using pre-experiment data: subtracts the part of the outcome "
         "predicted by a pre-period covariate, cutting variance without bias.",
         "Y_cuped = Y − θ (X − mean X), θ = cov(X, Y) / var(X)", _AB),
    Term("peeking", "偷看/提前查看结果",
         "Checking a running test's p-value repeatedly and stopping at the first "
         "'significant' one, which inflates the false-positive rate far above α.", None, _AB),
    Term("power", "统计功效",
         "The probability that a test's decision rule detects (ships) a true effect of a "
         "given size; 80% at the MDE by convention. It belongs to a rule: 'ship when the CI "
         "lies above 0' has the planned power, 'ship if the estimate ≥ MDE' only 50%.",
         "power ≈ Φ(δ / SE − z_(1−α/2))", _AB),
    Term("confidence interval", "置信区间",
         "The range of effects compatible with the data at the chosen level (95% by "
         "convention); a decision compares it with 0 and with the MDE.",
         "estimate ± z_(1−α/2) × SE", _AB),
    Term("delta method", "Delta方法",
         "A first-order approximation of the variance of a function of estimates, used for "
         "the CI of a relative lift (a ratio of two noisy rates).",
         "Var(ln(p_t/p_c)) ≈ (1−p_t)/(n_t p_t) + (1−p_c)/(n_c p_c)", _AB),
    Term("winsorising", "缩尾",
         "Capping extreme values of a metric (e.g. buyers' revenue at its 99th percentile, "
         "one cap for both arms, fixed before the test) to cut its variance; report it "
         "beside the raw readout.", "Y_w = min(Y, cap)", _AB),
    Term("guardrail metric", "护栏指标",
         "A metric that must not get significantly worse for a change to ship (revenue per "
         "visitor, refund rate, page load time).", None, _AB),
    # --- behaviour ---------------------------------------------------------------------
    Term("heatmap", "热力图",
         "A page image coloured by where users click (or scroll), showing which elements "
         "draw attention.", "click density = clicks in cell / all clicks", _BEHAVIOUR),
)


_COLUMNS = [f.name for f in fields(Term)]


def terms() -> pd.DataFrame:
    """The glossary as a DataFrame, one row per term (no ``object`` columns).

    Columns: ``term_en``, ``term_zh``, ``definition``, ``formula`` (``string``, missing
    where a concept has no formula) and ``lesson`` (ordered categorical in course order).
    """
    frame = pd.DataFrame([[getattr(t, c) for c in _COLUMNS] for t in TERMS], columns=_COLUMNS)
    return frame.astype({
        "term_en": "string",
        "term_zh": "string",
        "definition": "string",
        "formula": "string",
        "lesson": pd.CategoricalDtype(LESSONS, ordered=True),
    })


def _key(text: str) -> str:
    return " ".join(text.replace("-", " ").replace("–", " ").split()).casefold()


def lookup(term: str) -> Term:
    """Find a term by its English or Chinese name (case and spacing ignored).

    A Chinese name listing alternatives ("粉丝群/社群") matches each part.
    Raises ValueError listing close matches for an unknown term.

    >>> lookup("ROAS").term_zh
    '广告支出回报率'
    """
    if not isinstance(term, str) or not term.strip():
        raise ValueError(f"term must be a non-empty string, got {term!r}")
    wanted = _key(term)
    index: dict[str, Term] = {}
    for t in TERMS:
        names = [t.term_en, t.term_zh, *t.term_zh.split("/")]
        for name in names:
            index.setdefault(_key(name), t)
    if wanted in index:
        return index[wanted]
    close = difflib.get_close_matches(wanted, list(index), n=5, cutoff=0.5)
    shown = sorted({f"{index[c].term_en} ({index[c].term_zh})" for c in close})
    hint = f"; close matches: {', '.join(shown)}" if shown else ""
    raise ValueError(f"term {term!r} is not in the glossary{hint}")
