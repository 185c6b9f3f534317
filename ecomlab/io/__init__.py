"""Bring your own data: read a shop's exports into the course layout, with a report.

``read_orders(path, preset=...)`` reads an orders export — Shopify, Tmall/Taobao or any
CSV/Excel/Parquet (``generic``, with a column ``mapping=`` and a ``status_map=``) — into
the course's ``orders`` (and ``order_items`` when the export has lines);
``read_events(path, mapping=..., event_map=...)`` reads a clickstream, maps the shop's
event names onto funnel steps and builds sessions where the export has none. Each
returns a result whose ``.report`` says what was mapped, coerced, excluded and why,
with counts (``print(result.report)`` in a terminal; shown as a table in a notebook).

Typing is strict (:mod:`ecomlab.io.parse` states every rule): ids stay text (leading
zeros kept, ``="…"`` guards removed, scientific notation refused); ambiguous day/month
dates, epoch numbers and mixed date formats are refused; timestamps come back naive in
the shop's time zone; ``¥1,229.80`` is read by a stated rule, ``1,5`` is refused;
wrong encodings and empty files are named. Every refusal is a
:class:`~ecomlab.io.report.DataError` (a ``ValueError``) naming the table, the column,
the expected form and an example of what was found.

What a template can rely on:

- ``read_orders(...)`` → :class:`OrdersRead` with ``.orders`` (``order_id, customer_id,
  order_ts, paid_amount, status`` always; ``status`` a categorical of
  :data:`ecomlab.schema.EXPORT_ORDER_STATUSES`, of which only ``completed`` is a kept
  purchase for :data:`ecomlab.metrics.VALID_STATUSES`; ``source_status`` keeps the text as
  written), ``.order_items`` or ``None``, ``.report``, ``.timezone`` and ``.currency``
  (also in ``orders.attrs`` for labels).
- ``read_events(...)`` → :class:`EventsRead` with ``.events`` (the course's events layout,
  ``event`` an ordered categorical of the funnel steps), ``.steps`` (pass them to
  :func:`ecomlab.traffic.funnel`), ``.report``.
- every refusal is a :class:`DataError` (subclass of ``ValueError``): catch it to show the
  message; ``Report.to_frame()`` gives the report as a table for an HTML page.
- :func:`to_export` writes the course's tables in a preset's layout (fixtures, round trips).
- the promotion calendar of any year is :func:`ecomlab.calendar.promotion_calendar`.

>>> from ecomlab import io
>>> sorted(io.PRESETS)
['generic', 'shopify', 'taobao', 'tmall']
"""

from ecomlab.io.events import EventsRead, read_events
from ecomlab.io.orders import OrdersRead, read_orders, to_export
from ecomlab.io.presets import PRESETS, Preset
from ecomlab.io.report import DataError, Report

__all__ = ["read_orders", "read_events", "to_export", "OrdersRead", "EventsRead", "Report", "DataError",
           "PRESETS", "Preset"]
