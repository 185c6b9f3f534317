"""Platform presets: where each course column lives in a platform's export, and how its
order statuses map onto the course vocabulary (:data:`ecomlab.schema.EXPORT_ORDER_STATUSES`).

A preset lists, for each course column, the header names it has had across the
platform's export vintages; headers are matched after :func:`ecomlab.io.parse.normalise_header`
(blanks removed, full-width folded, lower case), so ``" 订单 编号 "`` finds ``订单编号``.
The first candidate present wins, and the report says which one was used.

>>> sorted(PRESETS)
['generic', 'shopify', 'taobao', 'tmall']
>>> PRESETS["tmall"].orders["order_id"][:2]
('订单编号', '订单号')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import pandas as pd

from ecomlab.io.parse import normalise_header
from ecomlab.io.report import DataError, Report

__all__ = ["Preset", "PRESETS", "get_preset", "resolve_columns", "SHOPIFY_FINANCIAL", "TMALL_STATUSES", "ORDER_COLUMNS",
           "ITEM_COLUMNS"]

#: course order columns a reader can fill, with their kind (id/ts/amount/text), in output order
ORDER_COLUMNS = {
    "order_id": "id", "customer_id": "id", "order_ts": "ts", "sales_channel": "text", "traffic_source": "text",
    "device": "text", "coupon_id": "id", "items_amount": "amount", "discount_amount": "amount",
    "shipping_fee": "amount", "paid_amount": "amount", "status": "status", "paid_ts": "ts",
    "refund_amount": "amount",
}
#: course order_items columns a reader can fill
ITEM_COLUMNS = {"sku_id": "id", "quantity": "count", "unit_price": "amount", "list_price": "amount"}
REQUIRED_ORDER_COLUMNS = ("order_id", "customer_id", "order_ts", "paid_amount", "status")

#: Shopify ``Financial Status`` → course status (``Cancelled at`` set → cancelled first;
#: ``paid`` with ``Fulfillment Status`` unfulfilled → awaiting_shipment)
SHOPIFY_FINANCIAL = MappingProxyType({
    "paid": "completed", "partially_refunded": "completed", "partially_paid": "unpaid", "refunded": "refunded",
    "voided": "cancelled", "expired": "cancelled", "pending": "unpaid", "authorized": "unpaid",
})
#: Tmall/Taobao ``订单状态`` → course status (交易关闭 splits on 退款金额: > 0 refunded, else cancelled)
TMALL_STATUSES = MappingProxyType({
    "交易成功": "completed", "交易完成": "completed",
    "交易关闭": "closed",  # resolved by the refund amount
    "付款以后用户退款成功,交易自动关闭": "refunded",
    "买家已付款,等待卖家发货": "awaiting_shipment", "等待卖家发货": "awaiting_shipment",
    "卖家已发货,等待买家确认": "in_transit", "等待买家确认收货": "in_transit", "卖家部分发货": "in_transit",
    "等待买家付款": "unpaid", "等待付款": "unpaid",
})


@dataclass(frozen=True)
class Preset:
    """One platform's export layout.

    ``orders`` / ``items``: course column → candidate headers (oldest vintage last);
    ``lines``: one row per order line with order fields on the first row of each order;
    ``encodings``: tried in order when ``encoding=`` is not given; ``timezone`` /
    ``currency``: the platform's own (``None``: must come from the data or the caller);
    ``status_rule``: ``"map"`` (a value map), ``"shopify"`` or ``"tmall"``.
    """

    name: str
    description: str
    orders: Mapping[str, tuple[str, ...]]
    items: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    lines: bool = False
    encodings: tuple[str, ...] = ("utf-8",)
    timezone: str | None = None
    currency: str | None = None
    status_rule: str = "map"
    extra: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


_SHOPIFY = Preset(
    name="shopify",
    description="Shopify orders export (Orders → Export, CSV): one row per line item, order fields on the "
                "order's first row; `Created at` with UTC offsets; Financial Status and `Cancelled at`.",
    orders={
        "order_id": ("Name",), "customer_id": ("Customer ID", "Email"), "order_ts": ("Created at",),
        "paid_ts": ("Paid at",), "sales_channel": ("Source",), "coupon_id": ("Discount Code",),
        "items_amount": ("Subtotal",), "discount_amount": ("Discount Amount",), "shipping_fee": ("Shipping",),
        "paid_amount": ("Total",), "refund_amount": ("Refunded Amount",), "status": ("Financial Status",),
    },
    items={"sku_id": ("Lineitem sku",), "quantity": ("Lineitem quantity",), "unit_price": ("Lineitem price",),
           "list_price": ("Lineitem compare at price",)},
    lines=True,
    status_rule="shopify",
    extra={"cancelled_at": ("Cancelled at",), "fulfillment_status": ("Fulfillment Status",),
           "currency": ("Currency",)},
)
_TMALL_ORDERS = {
    "order_id": ("订单编号", "订单号", "主订单编号"),
    "customer_id": ("买家会员名", "买家昵称", "买家会员ID", "买家ID"),
    "order_ts": ("订单创建时间", "创建时间", "下单时间"),
    "paid_ts": ("订单付款时间", "付款时间"),
    "items_amount": ("买家应付货款", "商品总价", "应付货款"),
    "shipping_fee": ("买家应付邮费", "邮费", "运费"),
    "paid_amount": ("买家实际支付金额", "买家实付金额", "实付金额", "实收款"),
    "refund_amount": ("退款金额",),
    "status": ("订单状态", "交易状态"),
}
_TMALL_ITEMS = {"sku_id": ("商家编码", "商品编码", "商家编码(sku)"), "quantity": ("购买数量", "数量"),
                "unit_price": ("价格", "单价", "商品价格")}
_TMALL = Preset(
    name="tmall",
    description="Tmall/Taobao seller order report (订单报表, CSV or Excel): GBK or UTF-8, Chinese headers "
                "(stray spaces, names drifting across vintages), 订单编号 as =\"…\", ¥ amounts, Chinese "
                "statuses, 退款金额; Beijing time, CNY. A file that also has 商家编码/购买数量/价格 is read "
                "as one row per line.",
    orders=_TMALL_ORDERS, items=_TMALL_ITEMS, lines=False, encodings=("utf-8-sig", "gb18030"),
    timezone="Asia/Shanghai", currency="CNY", status_rule="tmall",
)
_GENERIC = Preset(
    name="generic",
    description="Any CSV/Excel/Parquet with the course's column names, or a mapping= onto them; statuses "
                "already in the course vocabulary or mapped with status_map=. With sku_id/quantity/unit_price "
                "columns the file is read as one row per line.",
    orders={c: (c,) for c in ORDER_COLUMNS},
    items={c: (c,) for c in ITEM_COLUMNS},
    lines=False,
)
PRESETS: Mapping[str, Preset] = MappingProxyType({
    "generic": _GENERIC, "shopify": _SHOPIFY, "tmall": _TMALL,
    "taobao": Preset(**{**_TMALL.__dict__, "name": "taobao"}),
})


def get_preset(preset: str | Preset) -> Preset:
    """A preset by name (``ValueError`` listing the names otherwise), or the preset itself."""
    if isinstance(preset, Preset):
        return preset
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    return PRESETS[preset]


def resolve_columns(raw: pd.DataFrame, wanted: Mapping[str, tuple[str, ...]], mapping: Mapping[str, str],
                    report: Report, table: str) -> dict[str, str]:
    """Course column → the file's header: ``mapping`` first (an absent header is an error),
    else the first of the candidates present after :func:`normalise_header`; each choice
    is reported (with the header as written when it differed, e.g. stray spaces).

    >>> resolve_columns(pd.DataFrame(columns=[" 订单编号 "]), {"order_id": ("订单编号",)}, {}, Report("o"), "orders")
    {'order_id': ' 订单编号 '}
    """
    norm: dict[str, str] = {}
    for c in raw.columns:
        norm.setdefault(normalise_header(c), c)
    found = {}
    for col, cands in wanted.items():
        if col in mapping:
            src = mapping[col]
            if src not in raw.columns and normalise_header(src) not in norm:
                raise DataError(f"{table}: mapping[{col!r}] = {src!r} is not a column of the file; "
                                f"it has {list(raw.columns)[:20]}")
            found[col] = src if src in raw.columns else norm[normalise_header(src)]
            report.add("mapped", col, f"from column {found[col]!r} (mapping=)")
            continue
        for cand in cands:
            key = normalise_header(cand)
            if key in norm:
                found[col] = norm[key]
                how = "" if norm[key] == cand else f" (header written {norm[key]!r})"
                report.add("mapped", col, f"from column {cand!r}{how}")
                break
    return found
