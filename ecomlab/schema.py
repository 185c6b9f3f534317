"""The Nestwell tables, declared once as data.

This module is the single source for three things that must never drift apart:
the dtypes the loader gives each column (:func:`ecomlab.datasets.load`), the columns
the generator writes (:mod:`ecomlab.simulate`), and the data card
(``datasets/nestwell/README.md``), which is rendered from these declarations.

Dtype codes
-----------
``string``   pandas' default ``str`` dtype, a ``StringDtype`` (ids, names; never ``object``)
``category`` unordered categorical with the listed categories
``ordered``  ordered categorical with the listed categories, in order
``date``     ``datetime64[us]`` at midnight (a calendar day)
``datetime`` ``datetime64[us]`` timestamp (local time, Asia/Shanghai, stored naive)
``int``      ``int64`` (never missing)
``Int``      nullable ``Int64``
``float``    ``float64``
``bool``     ``bool`` (never missing)
"""

from __future__ import annotations

from dataclasses import dataclass, field

# --- controlled vocabularies (shared with the generator) -------------------------
CATEGORIES = ("storage", "kitchen", "bedding", "bath", "decor", "cleaning")
CATEGORIES_ZH = {
    "storage": "收纳",
    "kitchen": "厨房",
    "bedding": "床品",
    "bath": "卫浴",
    "decor": "家饰",
    "cleaning": "清洁",
}
CHANNELS = (
    "search_ads",
    "feed_ads",
    "live_stream",
    "short_video",
    "social_seeding",
    "organic_search",
)
PAID_CHANNELS = CHANNELS[:5]
CHANNELS_ZH = {
    "search_ads": "直通车/SEM",
    "feed_ads": "信息流",
    "live_stream": "直播",
    "short_video": "短视频/KOL",
    "social_seeding": "种草",
    "organic_search": "自然搜索",
}
TRAFFIC_SOURCES = CHANNELS + ("private_domain", "direct")
SALES_CHANNELS = ("marketplace", "mini_program", "live_room")
DEVICES = ("ios", "android", "pc")
ORDER_STATUSES = ("completed", "cancelled", "refunded")
#: Statuses an order can have in a shop's own export (:mod:`ecomlab.io`): the course's
#: three plus orders still under way — ``unpaid`` (placed, payment not taken: Shopify
#: pending/authorized, 等待买家付款), ``awaiting_shipment`` (paid, not shipped: 买家已付款，
#: 等待卖家发货) and ``in_transit`` (shipped, not confirmed: 卖家已发货，等待买家确认). None
#: of the three is a kept purchase (:data:`ecomlab.metrics.VALID_STATUSES`).
EXPORT_ORDER_STATUSES = ORDER_STATUSES + ("unpaid", "awaiting_shipment", "in_transit")
CITY_TIERS = ("tier1", "new_tier1", "tier2", "tier3", "tier4_plus")
AGE_BANDS = ("18-24", "25-29", "30-34", "35-39", "40-49", "50+")
GENDERS = ("female", "male")
EVENT_TYPES = ("pv", "fav", "cart", "buy")
RETURN_REASONS = (
    "quality_issue",
    "not_as_described",
    "size_or_fit",
    "damaged_in_transit",
    "changed_mind",
)
BRANDS = ("Nestwell", "HomeMax", "NeatNest", "ZenLiving", "CasaBloom", "TidyCo")
PDP_ELEMENTS = (
    "image_gallery",
    "video",
    "title",
    "price",
    "coupon_banner",
    "sku_selector",
    "add_to_cart",
    "buy_now",
    "reviews",
    "details",
    "recommendations",
)
COUPON_SEGMENTS = ("new", "active", "loyal", "at_risk", "lapsing")
EXPERIMENTS = ("exp_checkout", "exp_pdp_video", "exp_free_shipping", "lift_short_video")
LIKERT_ITEMS = (
    "q_price_sensitive",
    "q_wait_for_promotions",
    "q_design_matters",
    "q_shares_home_photos",
    "q_time_pressed",
    "q_buys_for_family",
    "q_buys_gifts",
    "q_values_durability",
    "q_tidiness_priority",
    "q_follows_influencers",
)
LIKERT_TEXT = {
    "q_price_sensitive": "I compare prices carefully before buying home goods",
    "q_wait_for_promotions": "I wait for big promotions (618, 双11) to stock up",
    "q_design_matters": "How an item looks matters as much as what it does",
    "q_shares_home_photos": "I share photos of my home on social media",
    "q_time_pressed": "I have little time to shop and want quick, safe choices",
    "q_buys_for_family": "Most of what I buy is for my family's daily needs",
    "q_buys_gifts": "I often buy home goods as gifts",
    "q_values_durability": "I pay more for things that last",
    "q_tidiness_priority": "Keeping my home organised is a priority",
    "q_follows_influencers": "Recommendations from KOLs/种草 posts influence me",
}
PREFERRED_CHANNELS = ("marketplace", "mini_program", "live_room", "offline_store")


@dataclass(frozen=True)
class Column:
    """One column: its name, dtype code, unit and meaning (and categories if any)."""

    name: str
    dtype: str
    description: str
    unit: str = ""
    categories: tuple[str, ...] | None = None
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """One bundled table: grain, description, lessons that use it, and columns."""

    name: str
    grain: str
    description: str
    lessons: tuple[str, ...]
    columns: tuple[Column, ...]
    blemishes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name, dtype, description, unit="", categories=None, nullable=False):
    return Column(name, dtype, description, unit, tuple(categories) if categories else None, nullable)


TABLES: dict[str, Table] = {}


def _t(name, grain, description, lessons, columns, blemishes=()):
    TABLES[name] = Table(name, grain, description, tuple(lessons), tuple(columns), tuple(blemishes))


_t(
    "customers",
    "one row per customer (a visitor who has ordered at least once)",
    "Every Nestwell buyer, with how and when they were acquired.",
    ["00", "03-1", "03-3", "04-1", "04-3", "04-5", "05-1", "06-1", "06-2"],
    [
        _c("customer_id", "string", "customer id (C + 7 digits)"),
        _c("visitor_id", "string", "the customer's visitor id in the behaviour log and experiments"),
        _c("first_order_date", "date", "day of the customer's first order", "date"),
        _c("acquisition_channel", "category", "traffic channel of the first order", categories=CHANNELS),
        _c("city_tier", "ordered", "city tier of the delivery address", categories=CITY_TIERS),
        _c("gender", "category", "self-reported gender", categories=GENDERS),
        _c("age_band", "ordered", "age band in years", categories=AGE_BANDS),
        _c("member_join_date", "date", "day the customer joined the free membership (会员) programme; empty if never", "date", nullable=True),
        _c("joined_fan_group_date", "date", "day the customer joined a WeChat fan group (私域社群, from 2025-07-01); empty if never", "date", nullable=True),
    ],
)
_t(
    "products",
    "one row per SKU",
    "The catalogue: six home-goods categories with list price, unit cost and supply.",
    ["00", "01-2", "01-3", "02-1", "02-2", "02-3", "03-2", "04-3", "04-4", "04-5", "05-1", "05-2", "06-1"],
    [
        _c("sku_id", "string", "SKU id (SKU + 4 digits)"),
        _c("name", "string", "product name (English)"),
        _c("name_zh", "string", "product name (Chinese)"),
        _c("category", "category", "product category", categories=CATEGORIES),
        _c("list_price", "float", "regular shelf price", "CNY"),
        _c("unit_cost", "float", "landed unit cost (COGS per unit)", "CNY"),
        _c("launch_date", "date", "day the SKU went on sale", "date"),
        _c("supplier_id", "string", "supplier id"),
        _c("lead_time_days", "int", "supplier lead time from order to receipt", "days"),
    ],
)
_t(
    "orders",
    "one row per order",
    "Every order placed in the marketplace store, the mini-program and the live room, 2024-2025.",
    ["00", "01-2", "01-3", "02-1", "02-2", "02-3", "03", "03-2", "03-3", "04-1", "04-2", "04-3", "04-4", "04-5", "05-1", "05-2", "06-1", "06-2"],
    [
        _c("order_id", "string", "order id (O + 8 digits)"),
        _c("customer_id", "string", "buyer"),
        _c("order_ts", "datetime", "time the order was placed (Beijing time)", "timestamp"),
        _c("sales_channel", "category", "where the order was placed", categories=SALES_CHANNELS),
        _c("traffic_source", "category", "traffic source of the session that ordered", categories=TRAFFIC_SOURCES),
        _c("device", "category", "device of the ordering session; missing when the tracker failed", categories=DEVICES, nullable=True),
        _c("coupon_id", "string", "coupon redeemed on the order; empty if none", nullable=True),
        _c("items_amount", "float", "sum of quantity x unit_price over the order's lines", "CNY"),
        _c("discount_amount", "float", "order-level discounts: coupon value and store-wide 满减", "CNY"),
        _c("shipping_fee", "float", "shipping charged (free from 99 CNY of items)", "CNY"),
        _c("paid_amount", "float", "items_amount - discount_amount + shipping_fee", "CNY"),
        _c("status", "category", "completed; cancelled before shipping; refunded (every line returned)", categories=ORDER_STATUSES),
    ],
    blemishes=("cancelled orders", "refunded orders", "missing device"),
)
_t(
    "order_items",
    "one row per order line",
    "What each order contained, at the price paid.",
    ["00", "01-2", "01-3", "02-1", "02-2", "02-3", "03-2", "04-3", "04-4", "04-5", "05-1", "05-2", "06-1"],
    [
        _c("order_id", "string", "order"),
        _c("sku_id", "string", "SKU"),
        _c("quantity", "int", "units bought", "units"),
        _c("unit_price", "float", "price per unit paid on the day (after promotion, before order coupons)", "CNY"),
        _c("list_price", "float", "regular shelf price of the SKU", "CNY"),
    ],
)
_t(
    "returns",
    "one row per returned order line",
    "Returned lines with reason and refund.",
    ["00", "01-3", "02-1", "04-1", "06-1"],
    [
        _c("order_id", "string", "order"),
        _c("sku_id", "string", "SKU returned"),
        _c("return_date", "date", "day the return was received", "date"),
        _c("reason", "category", "return reason given by the buyer", categories=RETURN_REASONS),
        _c("refund_amount", "float", "amount refunded for the line", "CNY"),
    ],
)
_t(
    "daily_prices",
    "one row per SKU per day",
    "Shelf price each day; weekly exogenous price tests on a subset of SKUs identify elasticity.",
    ["00", "02", "02-2"],
    [
        _c("sku_id", "string", "SKU"),
        _c("date", "date", "day", "date"),
        _c("price", "float", "shelf price that day", "CNY"),
        _c("on_promotion", "bool", "a store-wide promotion day (年货节, 38节, 618, 99, 双11, 双12)"),
    ],
)
_t(
    "inventory",
    "one row per top SKU per day",
    "Stock position of the 20 best-selling SKUs under a reorder-point policy.",
    ["00", "02", "02-3", "06-1"],
    [
        _c("sku_id", "string", "SKU"),
        _c("date", "date", "day", "date"),
        _c("on_hand_start", "int", "units on hand at the start of the day", "units"),
        _c("received", "int", "units received from the supplier that day", "units"),
        _c("units_demanded", "int", "units customers wanted that day (sold + lost)", "units"),
        _c("units_sold", "int", "units sold (= min(demand, stock))", "units"),
        _c("stockout", "bool", "demand exceeded stock that day"),
    ],
)
_t(
    "events",
    "one row per behaviour event",
    "Taobao-UserBehavior-like clickstream for November 2025 (incl. 双11): page views, favourites, add-to-carts and buys.",
    ["00", "03", "03-3", "05-1", "05-3"],
    [
        _c("visitor_id", "string", "visitor"),
        _c("customer_id", "string", "customer id once the visitor has ordered; empty before", nullable=True),
        _c("session_id", "string", "session (S + 9 digits)"),
        _c("ts", "datetime", "event time (Beijing time)", "timestamp"),
        _c("event", "ordered", "pv (page view), fav (favourite), cart (add to cart), buy", categories=EVENT_TYPES),
        _c("sku_id", "string", "SKU viewed / acted on"),
        _c("source", "category", "traffic source of the session", categories=TRAFFIC_SOURCES),
        _c("device", "category", "device; missing when the tracker failed", categories=DEVICES, nullable=True),
    ],
    blemishes=("duplicated event rows", "events outside 2025-11-01..2025-11-30", "missing device"),
)
_t(
    "page_clicks",
    "one row per click on a product detail page (PDP)",
    "Click coordinates on the mobile PDP (viewport 375 x 812 pt) for two page versions.",
    ["00", "05-3"],
    [
        _c("session_id", "string", "session"),
        _c("page_version", "category", "A = current PDP, B = redesign with the buy button higher", categories=("A", "B")),
        _c("x", "float", "horizontal position from the left edge", "pt (0-375)"),
        _c("y", "float", "vertical position from the top of the page", "pt (0-812 first screen, more below)"),
        _c("element", "category", "page element clicked", categories=PDP_ELEMENTS),
    ],
)
_t(
    "marketing_daily",
    "one row per channel per day",
    "Spend and platform-reported results of each marketing channel.",
    ["00", "03", "03-1", "03-3", "04-3", "05-2", "06-1"],
    [
        _c("channel", "category", "marketing channel", categories=CHANNELS),
        _c("date", "date", "day", "date"),
        _c("spend", "float", "media spend", "CNY"),
        _c("impressions", "int", "ad or content impressions", "count"),
        _c("clicks", "int", "clicks to the store", "count"),
        _c("platform_attributed_orders", "int", "orders the ad platform attributes to the channel", "count"),
        _c("platform_attributed_revenue", "float", "revenue the ad platform attributes to the channel (last-touch, over-credits)", "CNY"),
    ],
)
_t(
    "keywords",
    "one row per search keyword",
    "Marketplace search keywords for Nestwell's categories, last 30 days.",
    ["00", "03-2"],
    [
        _c("keyword", "string", "keyword (English gloss)"),
        _c("keyword_zh", "string", "keyword as searched (Chinese)"),
        _c("category", "category", "category the keyword leads to", categories=CATEGORIES),
        _c("monthly_searches", "int", "searches in the last 30 days", "count"),
        _c("cpc", "float", "average cost per click in search ads", "CNY"),
        _c("competition", "float", "share of sellers bidding on the keyword (0-1)", "fraction"),
        _c("our_rank", "int", "Nestwell's average organic rank (1 = top)", "rank"),
        _c("impressions", "int", "times Nestwell was shown for the keyword", "count"),
        _c("clicks", "int", "clicks on Nestwell's listing", "count"),
        _c("orders", "int", "orders from those clicks", "count"),
    ],
)
_t(
    "market",
    "one row per category x brand x month",
    "Third-party marketplace panel estimates (like 生意参谋 market data) of category sales by brand.",
    ["00", "01-1", "01-3", "02-1", "06-1"],
    [
        _c("category", "category", "category", categories=CATEGORIES),
        _c("brand", "category", "brand (Nestwell and five fictional competitors)", categories=BRANDS),
        _c("month", "date", "first day of the month", "date"),
        _c("sales_amount", "float", "estimated sales", "CNY"),
        _c("units", "int", "estimated units sold", "units"),
        _c("avg_price", "float", "sales_amount / units", "CNY"),
    ],
)
_t(
    "search_trends",
    "one row per category x week",
    "Marketplace search index by category (rising and falling demand).",
    ["00", "01-1", "01-3"],
    [
        _c("category", "category", "category", categories=CATEGORIES),
        _c("week", "date", "Monday of the week", "date"),
        _c("search_index", "float", "search popularity index (2024 average of all categories = 100)", "index"),
    ],
)
_t(
    "survey",
    "one row per respondent",
    "Brand survey (2025-03) of customers and non-customers: attitudes on 1-5 Likert items, demographics, spend.",
    ["00", "01-2", "01-3"],
    [
        _c("respondent_id", "string", "respondent"),
        _c("customer_id", "string", "customer id when the respondent is a Nestwell customer", nullable=True),
        *[_c(q, "int", f"Likert 1-5 (strongly disagree .. strongly agree): {LIKERT_TEXT[q]}", "1-5") for q in LIKERT_ITEMS],
        _c("gender", "category", "gender", categories=GENDERS),
        _c("age_band", "ordered", "age band in years", categories=AGE_BANDS),
        _c("city_tier", "ordered", "city tier", categories=CITY_TIERS),
        _c("monthly_home_spend", "float", "self-reported monthly spend on home goods", "CNY"),
        _c("preferred_channel", "category", "where they prefer to buy home goods", categories=PREFERRED_CHANNELS),
    ],
)
_t(
    "experiments",
    "one row per visitor per experiment",
    "Four randomised experiments: three online A/B tests and a conversion-lift test of short-video "
    "ads (control = holdout whose ads were withheld, treatment = exposed); assignment, pre-period "
    "behaviour and outcome.",
    ["00", "03-1", "05-2", "06-1"],
    [
        _c("experiment_id", "category", "experiment", categories=EXPERIMENTS),
        _c("visitor_id", "string", "visitor (randomisation unit)"),
        _c("variant", "category", "control or treatment", categories=("control", "treatment")),
        _c("assigned_at", "datetime", "time of first exposure", "timestamp"),
        _c("pre_sessions", "int", "sessions in the 28 days before assignment", "count"),
        _c("pre_revenue", "float", "revenue in the 28 days before assignment", "CNY"),
        _c("converted", "bool", "ordered during the experiment"),
        _c("revenue", "float", "revenue during the experiment", "CNY"),
    ],
)
_t(
    "coupon_campaign",
    "one row per customer in the campaign",
    "A randomised coupon campaign (sent 2025-09-01): half of eligible customers got a coupon.",
    ["00", "04-4"],
    [
        _c("customer_id", "string", "customer"),
        _c("campaign_id", "string", "campaign"),
        _c("send_date", "date", "day the coupon was sent", "date"),
        _c("treatment", "bool", "randomly chosen to receive the coupon"),
        _c("segment_at_send", "category", "CRM lifecycle segment at send time", categories=COUPON_SEGMENTS),
        _c("recency_days", "int", "days since last order at send time", "days"),
        _c("frequency", "int", "orders before send time", "count"),
        _c("monetary_amount", "float", "paid amount before send time", "CNY"),
        _c("coupon_value", "float", "face value of the coupon (0 for control)", "CNY"),
        _c("redeemed", "bool", "the coupon was used within 30 days"),
        _c("purchased_30d", "bool", "ordered within 30 days of send"),
        _c("revenue_30d", "float", "paid amount within 30 days of send", "CNY"),
    ],
)


def table(name: str) -> Table:
    """Return the declared :class:`Table` ``name``; unknown names list the valid ones."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; expected one of: {', '.join(TABLES)}")
    return TABLES[name]
