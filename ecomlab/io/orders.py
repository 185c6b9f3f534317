"""Read a shop's orders export into the course layout: :func:`read_orders`, and the
reverse, :func:`to_export` (the course's tables written in a platform's layout).

The method: find each course column among the preset's candidate headers (or your
``mapping=``), type every column by the rules of :mod:`ecomlab.io.parse`, map statuses
onto :data:`ecomlab.schema.EXPORT_ORDER_STATUSES`, split a line-level export into
``orders`` (one row per order, order fields from the order's first row — other rows
must leave them empty or repeat them) and ``order_items`` (one row per line), and
record every mapping, conversion and exclusion in the report.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ecomlab import keys, schema
from ecomlab.io import parse as P
from ecomlab.io.presets import (
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    REQUIRED_ORDER_COLUMNS,
    SHOPIFY_FINANCIAL,
    TMALL_STATUSES,
    Preset,
    get_preset,
    resolve_columns,
)
from ecomlab.io.report import DataError, Report, Reported

__all__ = ["OrdersRead", "read_orders", "to_export"]

STATUS_DTYPE = pd.CategoricalDtype(list(schema.EXPORT_ORDER_STATUSES))


@dataclass(frozen=True, repr=False)
class OrdersRead(Reported):
    """What :func:`read_orders` returns.

    Fields: ``orders`` (one row per order: ``order_id, customer_id, order_ts, paid_amount,
    status`` always, and whichever of ``items_amount, discount_amount, shipping_fee,
    coupon_id, sales_channel, traffic_source, device, paid_ts, refund_amount`` the export
    has, plus ``source_status``, the status as written); ``order_items`` (``order_id,
    sku_id, quantity, unit_price[, list_price]``, or ``None`` when the export has no
    lines); ``report`` (:class:`~ecomlab.io.report.Report`); ``timezone`` and
    ``currency`` as stated or inferred (``None`` when unknown).
    """

    orders: pd.DataFrame
    order_items: pd.DataFrame | None
    report: Report
    preset: str
    timezone: str | None
    currency: str | None


def read_orders(
    path: str | Path | pd.DataFrame,
    preset: str | Preset = "generic",
    *,
    mapping: Mapping[str, str] | None = None,
    status_map: Mapping[str, str] | None = None,
    timezone: str | None = None,
    currency: str | None = None,
    dayfirst: bool | None = None,
    sep: str | None = None,
    decimal: str = ".",
    encoding: str | None = None,
    sheet_name: str | int = 0,
) -> OrdersRead:
    """Read an orders export (CSV, Excel or Parquet, or a DataFrame of it) into the course layout.

    Parameters
    ----------
    path : the export file, or a DataFrame already read (columns as text or typed).
    preset : ``"shopify"``, ``"tmall"`` / ``"taobao"`` or ``"generic"`` (see
        :mod:`ecomlab.io.presets` for the headers each looks for).
    mapping : course column → your header, overriding the preset (``{"order_id": "Order No"}``).
    status_map : your status text → a course status (:data:`ecomlab.schema.EXPORT_ORDER_STATUSES`);
        extends or overrides the preset's map. An unknown status is an error listing the values.
    timezone : the shop's IANA time zone. Timestamps come back naive in it; required when
        the export writes UTC offsets (Shopify). Tmall/Taobao default to Asia/Shanghai.
    currency : ISO code of the amounts (checked against currency signs and a Currency column).
    dayfirst, sep, decimal, encoding, sheet_name : how to read dates and the file
        (:mod:`ecomlab.io.parse` states each rule; ambiguous day/month dates need ``dayfirst``).

    Returns :class:`OrdersRead`. Raises :class:`~ecomlab.io.report.DataError` (a
    ``ValueError``) naming table, column, the expected form and an example found.

    >>> raw = pd.DataFrame({"订单编号 ": ['="202411110000123456"'], "买家会员名": ["t**8"],
    ...     "订单创建时间": ["2024-11-11 00:00:05"], "买家实际支付金额": ["¥1,229.80"],
    ...     "订单状态": ["交易成功"], "退款金额": ["0"]})
    >>> r = read_orders(raw, "tmall")
    >>> r.orders[["order_id", "paid_amount", "status"]].to_dict("records")
    [{'order_id': '202411110000123456', 'paid_amount': 1229.8, 'status': 'completed'}]
    >>> r.timezone, r.currency
    ('Asia/Shanghai', 'CNY')
    """
    p = get_preset(preset)
    mapping = dict(mapping or {})
    known = set(ORDER_COLUMNS) | set(ITEM_COLUMNS) | set(p.extra)
    unknown = sorted(set(mapping) - known)
    if unknown:
        raise ValueError(f"mapping keys must be course columns {sorted(known)}; got {unknown}")
    if status_map is not None:
        bad = {k: v for k, v in status_map.items() if v not in schema.EXPORT_ORDER_STATUSES}
        if bad:
            raise ValueError(f"status_map values must be in {list(schema.EXPORT_ORDER_STATUSES)}; got {bad}")
    tz = timezone or p.timezone
    report = Report("orders")
    report.add("note", "", f"preset {p.name!r}: {p.description}")
    wanted_headers = [h for cands in (*p.orders.values(), *p.items.values(), *p.extra.values()) for h in cands]
    if isinstance(path, pd.DataFrame):
        if len(path) == 0:
            raise DataError("orders: the DataFrame has no rows")
        raw = path.reset_index(drop=True)
        report.source = "a DataFrame"
        report.rows_read = len(raw)
    else:
        raw = P.read_table_file(path, table="orders", report=report, encoding=encoding, encodings=p.encodings,
                                sep=sep, sheet_name=sheet_name, header_names=wanted_headers + list(mapping.values()),
                                id_header=[mapping.get("order_id", "")] + list(p.orders["order_id"]))
    cols = resolve_columns(raw, p.orders, mapping, report, "orders")
    item_cols = resolve_columns(raw, p.items, mapping, Report("_"), "order_items")
    extra = resolve_columns(raw, p.extra, mapping, report, "orders")
    missing = [c for c in REQUIRED_ORDER_COLUMNS if c not in cols]
    if missing:
        looked = {c: (mapping[c],) if c in mapping else p.orders[c] for c in missing}
        raise DataError(f"orders: the {p.name} export has no column for {missing}; looked for {looked}; "
                        f"the file has {list(raw.columns)[:25]}: pass mapping={{course column: your header}}")
    lines = p.lines or {"sku_id", "quantity", "unit_price"} <= set(item_cols)
    if lines:
        for c, src in item_cols.items():
            report.add("mapped", c, f"from column {src!r} (order lines)")
    n = len(raw)

    # --- order ids first: they group the lines --------------------------------------------
    oid = P.parse_id(raw[cols["order_id"]], "orders", "order_id", report, source=cols["order_id"])
    if keys.is_unique(oid):  # one row per order (the usual orders export): no grouping needed
        codes = first_rows = np.arange(n)
    else:
        codes, first_rows = keys.codes_with_rows(oid)
    first = np.zeros(n, dtype=bool)
    first[first_rows] = True

    # --- type every order-level column (lines: blanks allowed on later rows) -------------
    typed: dict[str, pd.Series] = {"order_id": oid}
    if P.normalise_header(cols["customer_id"]) == "email" and "customer_id" not in mapping:
        email = P._blank_to_na(raw[cols["customer_id"]])
        low = email.where(~email.str.contains("@", regex=False).fillna(False).astype(bool), email.str.lower())
        report.add("note", "customer_id", "the export has no customer id: the buyer's e-mail is used")
        report.add("coerced", "customer_id", "e-mail addresses lower-cased (one buyer, one id)",
                   count=int(((low != email) & email.notna()).sum()))
        raw = raw.assign(**{cols["customer_id"]: low})
    for col, src in cols.items():
        kind = ORDER_COLUMNS[col]
        if col in ("order_id", "status"):
            continue
        s = raw[src]
        if kind == "id":
            typed[col] = P.parse_id(s, "orders", col, report, source=src, nullable=True)
        elif kind == "ts":
            typed[col] = P.parse_datetime(s, "orders", col, report, source=src, dayfirst=dayfirst, timezone=tz,
                                          nullable=True)
        elif kind == "amount":
            typed[col] = P.parse_amount(s, "orders", col, report, source=src, decimal=decimal,
                                        currency=currency or p.currency, nullable=True)
        else:
            typed[col] = P._blank_to_na(s)
    cur = currency or p.currency
    if "currency" in extra:
        seen = pd.unique(P._blank_to_na(raw[extra["currency"]]).dropna())
        if len(seen) > 1:
            raise DataError(f"orders.currency (column {extra['currency']!r}): expected one currency; found {sorted(seen)}")
        if len(seen) == 1:
            if cur and cur.upper() != str(seen[0]).upper():
                raise DataError(f"orders.currency (column {extra['currency']!r}): expected {cur.upper()} "
                                f"(currency=); found {seen[0]!r}")
            cur = str(seen[0]).upper()
    src_status = P._blank_to_na(raw[cols["status"]])
    typed["status"], typed["source_status"] = _statuses(p, src_status, typed, raw, extra, status_map, report,
                                                        dayfirst, tz, first)

    # --- one row per order ------------------------------------------------------------------
    n_orders = len(first_rows)
    if n_orders < n:
        later = ~first
        conflict_col, conflict_row = None, None
        same_all = np.ones(n, dtype=bool)
        for col, s in typed.items():
            if col in ("order_id",):
                continue
            ref = s.iloc[first_rows[codes]].reset_index(drop=True)
            cur_s = s.reset_index(drop=True)
            equal = (cur_s == ref).fillna(False).to_numpy(dtype=bool) | (cur_s.isna() & ref.isna()).to_numpy()
            blank = cur_s.isna().to_numpy()
            same_all &= equal
            bad = later & ~equal & ~blank if lines else later & ~equal
            if bad.any() and conflict_col is None:
                conflict_col, conflict_row = col, int(np.argmax(bad))
        if lines:
            if conflict_col is not None:
                i = conflict_row
                a, b = (_plain(typed[conflict_col].iloc[j]) for j in (first_rows[codes[i]], i))
                raise DataError(f"orders.{conflict_col}: expected order fields only on an order's first row or "
                                f"repeated unchanged; found order {oid.iloc[i]!r} with "
                                f"{a!r} on its first row and {b!r} on data row {i + 1}")
            report.add("note", "", f"{n:,} line rows grouped into {n_orders:,} orders (order fields from each "
                       "order's first row)")
        else:
            dup = later & same_all
            if (later & ~same_all).any():
                i = int(np.argmax(later & ~same_all))
                j = int(first_rows[codes[i]])
                col = next(c for c, v in typed.items() if c != "order_id" and not (
                    (pd.isna(v.iloc[i]) and pd.isna(v.iloc[j])) or v.iloc[i] == v.iloc[j]))
                raise DataError(f"orders.order_id: expected one row per order (or exact repeats); found order "
                                f"{oid.iloc[i]!r} twice with different {col!r} (data rows "
                                f"{int(first_rows[codes[i]]) + 1} and {i + 1})")
            report.add("excluded", "", "exact duplicate rows (same order repeated)", count=int(dup.sum()))
    orders = pd.DataFrame({c: typed[c].iloc[first_rows].reset_index(drop=True) for c in _order_cols(typed)})
    for col in REQUIRED_ORDER_COLUMNS:
        P.require_not_null(orders[col], "orders", col, source=cols.get(col))
    orders["source_status"] = orders["source_status"].cat.remove_unused_categories()

    # --- warnings ---------------------------------------------------------------------------
    masked = orders["customer_id"].str.contains("*", regex=False)
    if masked.any():
        report.add("warning", "customer_id", f"masked buyer names (with '*'): {int(masked.sum()):,} orders, "
                   f"{orders['customer_id'][masked].nunique():,} distinct masked names; different buyers can share "
                   "a masked name, so per-customer figures (repeat rate, RFM) merge them — map an unmasked id "
                   "with mapping={'customer_id': ...} if the export has one", count=int(masked.sum()), unit="orders")
    counts = orders["status"].value_counts(sort=False)
    report.add("note", "status", "orders by course status: " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))
    report.add("note", "", (f"timestamps in {tz} local time" if tz else "time zone not stated (timezone=None)")
               + "; " + (f"amounts in {cur}" if cur else "currency not stated (currency=None)"))

    items = None
    if lines:
        items = _items(raw, item_cols, oid, report, decimal, cur)
    report.rows_out = len(orders)
    orders.attrs.update({"timezone": tz, "currency": cur})
    return OrdersRead(orders, items, report, p.name, tz, cur)


def _plain(v):
    """A numpy scalar as the Python value it holds (for messages)."""
    return v.item() if isinstance(v, np.generic) else v


def _order_cols(typed: Mapping[str, pd.Series]) -> list[str]:
    return [c for c in ORDER_COLUMNS if c in typed] + ["source_status"]


def _statuses(p: Preset, src: pd.Series, typed, raw, extra, status_map, report: Report, dayfirst, tz,
              first: np.ndarray) -> tuple[pd.Series, pd.Series]:
    """Course status per row and the source status as a categorical (the mapping is decided
    once per distinct source value; report counts are per order: first rows only)."""
    user = {_key(k): v for k, v in (status_map or {}).items()}
    if p.status_rule == "shopify":
        table = {**SHOPIFY_FINANCIAL, **user}
    elif p.status_rule == "tmall":
        table = {**TMALL_STATUSES, **user}
    else:
        table = {**{s: s for s in schema.EXPORT_ORDER_STATUSES}, **user}
    vocab = list(schema.EXPORT_ORDER_STATUSES) + ["closed"]
    source = src.astype("category")
    cats = list(source.cat.categories)
    target = [table.get(_key(c)) for c in cats]
    unknown = [c for c, t in zip(cats, target, strict=True) if t is None]
    src_codes = source.cat.codes.to_numpy()
    if unknown:
        n_bad = int(np.isin(src_codes, [cats.index(c) for c in unknown]).sum())
        raise DataError(f"orders.status (column {src.name!r}): expected one of {sorted(table)}; found "
                        f"{sorted(unknown)[:8]} ({n_bad:,} rows): map them with status_map={{value: course status}}, "
                        f"course statuses {list(schema.EXPORT_ORDER_STATUSES)}")
    lut = np.array([vocab.index(t) for t in target] + [-1], dtype=np.int8)
    code = lut[src_codes]  # code -1 (missing source) reads lut[-1] = -1
    key_of = np.array([_key(c) for c in cats] + [""], dtype=object)
    V = {s: i for i, s in enumerate(vocab)}
    if p.status_rule == "tmall":
        closed = code == V["closed"]
        if closed.any():
            if "refund_amount" in typed:
                refunded = closed & (typed["refund_amount"].fillna(0).to_numpy() > 0)
                note = "交易关闭 with 退款金额 > 0 → refunded; with 退款金额 = 0 → cancelled"
            else:
                refunded = np.zeros(len(code), dtype=bool)
                report.add("warning", "status", "交易关闭 read as cancelled: the export has no 退款金额 column to "
                           "tell refunded orders apart", count=int((closed & first).sum()), unit="orders")
                note = "交易关闭 → cancelled"
            code[closed] = V["cancelled"]
            code[refunded] = V["refunded"]
            report.add("mapped", "status", note, count=int((closed & first).sum()), unit="orders")
    if p.status_rule == "shopify":
        if "cancelled_at" in extra:
            cancelled = P.parse_datetime(raw[extra["cancelled_at"]], "orders", "cancelled_at", Report("_"),
                                         source=extra["cancelled_at"], dayfirst=dayfirst, timezone=tz,
                                         nullable=True).notna().to_numpy()
            report.add("mapped", "status", "`Cancelled at` set → cancelled (whatever the Financial Status)",
                       count=int((cancelled & (code != V["cancelled"]) & first).sum()), unit="orders")
            code[cancelled] = V["cancelled"]
        if "fulfillment_status" in extra:
            ful = P._blank_to_na(raw[extra["fulfillment_status"]]).str.lower().str.strip() == "unfulfilled"
            waiting = (code == V["completed"]) & (key_of[src_codes] == "paid") & ful.to_numpy(dtype=bool)
            report.add("mapped", "status", "paid and unfulfilled → awaiting_shipment",
                       count=int((waiting & first).sum()), unit="orders")
            code[waiting] = V["awaiting_shipment"]
    pair = src_codes[first].astype(np.int64) * len(vocab) + code[first]
    ok = (src_codes[first] >= 0)
    vals, counts = np.unique(pair[ok], return_counts=True)
    for v, c in zip(vals, counts, strict=True):
        report.add("mapped", "status", f"{cats[v // len(vocab)]!r} → {vocab[v % len(vocab)]}", count=int(c),
                   unit="orders")
    status = pd.Series(pd.Categorical.from_codes(code, dtype=STATUS_DTYPE), index=src.index)
    return status, source


def _key(x) -> str:
    """Status text as matched: NFKC (full-width ， → ,), blanks removed, lower case."""
    return P.normalise_header(unicodedata.normalize("NFKC", str(x)))


def _items(raw: pd.DataFrame, item_cols: Mapping[str, str], oid: pd.Series, report: Report, decimal: str,
           cur: str | None) -> pd.DataFrame:
    r = Report("order_items")
    out = {"order_id": oid.reset_index(drop=True)}
    if "sku_id" in item_cols:
        out["sku_id"] = P.parse_id(raw[item_cols["sku_id"]], "order_items", "sku_id", r, source=item_cols["sku_id"],
                                   nullable=True)
    if "quantity" in item_cols:
        out["quantity"] = P.parse_count(raw[item_cols["quantity"]], "order_items", "quantity", r,
                                        source=item_cols["quantity"], decimal=decimal)
    for c in ("unit_price", "list_price"):
        if c in item_cols:
            out[c] = P.parse_amount(raw[item_cols[c]], "order_items", c, r, source=item_cols[c], decimal=decimal,
                                    currency=cur, nullable=c == "list_price")
    items = pd.DataFrame({k: v.reset_index(drop=True) for k, v in out.items()})
    if "sku_id" in items and items["sku_id"].isna().any():
        report.add("warning", "order_items.sku_id", "lines without a SKU (custom items): sku_id left empty",
                   count=int(items["sku_id"].isna().sum()), unit="lines")
    for line in r.lines:
        report.add(line.kind, f"order_items.{line.column}", line.detail, line.count, line.unit)
    report.add("note", "", f"{len(items):,} order lines in order_items")
    return items


# --- the reverse: course tables in a platform's layout ----------------------------------------
_TMALL_OUT = {"completed": "交易成功", "cancelled": "交易关闭", "refunded": "交易关闭", "unpaid": "等待买家付款",
              "awaiting_shipment": "买家已付款，等待卖家发货", "in_transit": "卖家已发货，等待买家确认"}
_SHOPIFY_OUT = {"completed": "paid", "cancelled": "voided", "refunded": "refunded", "unpaid": "pending",
                "awaiting_shipment": "paid", "in_transit": "paid"}


def _fmt_ts(ts: pd.Series, tz: str | None) -> pd.Series:
    if tz is None:
        return ts.dt.strftime("%Y-%m-%d %H:%M:%S")
    loc = ts.dt.tz_localize(tz, ambiguous=np.zeros(len(ts), dtype=bool), nonexistent="raise")
    txt = loc.dt.strftime("%Y-%m-%d %H:%M:%S %z")
    return txt


def _money(x: pd.Series) -> pd.Series:
    return x.map(repr).astype(P.STR).where(x.notna())


def to_export(orders: pd.DataFrame, order_items: pd.DataFrame | None = None, *, preset: str | Preset = "generic",
              timezone: str | None = None) -> pd.DataFrame:
    """The course's ``orders`` (and ``order_items``) written in a platform's export layout, as text.

    The inverse of :func:`read_orders` for the columns the layout carries (the tests read
    it back and compare): Shopify gets one row per line with order fields on the first row
    and ``Created at`` with the UTC offset of ``timezone`` (required); Tmall gets 订单编号
    as ``="…"``, Chinese headers and statuses (a refunded order: 交易关闭 with 退款金额 =
    its paid amount). Amounts are written with Python's shortest round-trip ``repr``.

    >>> o = pd.DataFrame({"order_id": ["0042"], "customer_id": ["c1"], "order_ts": pd.to_datetime(["2025-01-05 10:00"]),
    ...     "paid_amount": [99.5], "status": ["refunded"]})
    >>> to_export(o, preset="tmall").iloc[0].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'订单编号': '="0042"', '买家会员名': 'c1', '订单创建时间': '2025-01-05 10:00:00', '买家实际支付金额': '99.5',
     '订单状态': '交易关闭', '退款金额': '99.5'}
    """
    p = get_preset(preset)
    o = orders.reset_index(drop=True)
    status = o["status"].astype(str)
    if p.name == "generic":
        out = o.copy()
        if order_items is not None:
            out = order_items.merge(out, on="order_id", how="right", validate="many_to_one")
        return out.astype({c: P.STR for c in out.columns if not pd.api.types.is_datetime64_any_dtype(out[c])})
    if p.status_rule == "tmall":
        out = {"订单编号": '="' + o["order_id"].astype(str) + '"', "买家会员名": o["customer_id"].astype(str),
               "订单创建时间": _fmt_ts(o["order_ts"], None)}
        if "items_amount" in o:
            out["买家应付货款"] = _money(o["items_amount"])
        if "shipping_fee" in o:
            out["买家应付邮费"] = _money(o["shipping_fee"])
        out["买家实际支付金额"] = _money(o["paid_amount"])
        out["订单状态"] = status.map(_TMALL_OUT)
        out["退款金额"] = _money(o["paid_amount"].where(status == "refunded", 0.0))
        frame = pd.DataFrame(out)
        if order_items is not None:
            it = pd.DataFrame({"订单编号": '="' + order_items["order_id"].astype(str) + '"',
                               "商家编码": order_items["sku_id"].astype(str),
                               "购买数量": order_items["quantity"].astype(str), "价格": _money(order_items["unit_price"])})
            frame = it.merge(frame, on="订单编号", how="right", validate="many_to_one")
        return frame.astype(P.STR)
    if timezone is None:
        raise ValueError("to_export(preset='shopify') needs timezone= (Shopify writes UTC offsets)")
    created = _fmt_ts(o["order_ts"], timezone)
    fin = status.map(_SHOPIFY_OUT)
    head = pd.DataFrame({
        "Name": o["order_id"].astype(str), "Email": o["customer_id"].astype(str), "Financial Status": fin,
        "Fulfillment Status": np.where(status == "awaiting_shipment", "unfulfilled", "fulfilled"),
        "Subtotal": _money(o["items_amount"]) if "items_amount" in o else None,
        "Shipping": _money(o["shipping_fee"]) if "shipping_fee" in o else None,
        "Total": _money(o["paid_amount"]),
        "Discount Code": o["coupon_id"] if "coupon_id" in o else None,
        "Discount Amount": _money(o["discount_amount"]) if "discount_amount" in o else None,
        "Created at": created,
        "Cancelled at": created.where(status == "cancelled"),
        "Refunded Amount": _money(o["paid_amount"].where(status == "refunded", 0.0)),
    })
    if order_items is None:
        return head.astype(P.STR)
    it = order_items.reset_index(drop=True)
    lines = pd.DataFrame({"Name": it["order_id"].astype(str), "Lineitem quantity": it["quantity"].astype(str),
                          "Lineitem price": _money(it["unit_price"]),
                          "Lineitem compare at price": _money(it["list_price"]) if "list_price" in it else None,
                          "Lineitem sku": it["sku_id"].astype(str)})
    pos = pd.Series(np.arange(len(o)), index=o["order_id"].astype(str))
    lines["_o"] = lines["Name"].map(pos)
    if lines["_o"].isna().any():
        raise ValueError("order_items has order_id values not in orders")
    lines = lines.sort_values("_o", kind="stable").reset_index(drop=True)
    first = ~lines["Name"].duplicated()
    keyed = head.set_index("Name")
    body = keyed.loc[lines["Name"]].reset_index(drop=True)
    body = body.where(np.repeat(first.to_numpy()[:, None], body.shape[1], axis=1))
    for c in ("Email", "Created at"):  # Shopify repeats these on every line row
        body[c] = keyed.loc[lines["Name"], c].to_numpy()
    out = pd.concat([lines[["Name"]], body, lines.drop(columns=["Name", "_o"])], axis=1)
    no_lines = ~head["Name"].isin(lines["Name"])
    if no_lines.any():
        out = pd.concat([out, head[no_lines]], ignore_index=True)
    return out.astype(P.STR)
