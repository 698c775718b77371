"""CSV export of the orders selected in the admin, for ops' spreadsheets: one row per order line,
with the order's totals and status on each row, streamed (rows are written as the database
yields them, so a month of orders costs no memory and starts downloading at once).

Amounts are in major units with the currency's own decimals ("18.00", "500" for JPY), from
catalog.money, as a spreadsheet expects. A text cell that a spreadsheet would run as a formula
(one starting with =, +, -, @, a tab or a carriage return: a shopper's name or e-mail is
theirs to choose) is prefixed with a quote, as OWASP advises for CSV injection.
"""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

from catalog.money import currency
from orders.models import OrderLine

COLUMNS = ["reference", "order_id", "created_at", "status", "email", "country", "currency", "sku", "quantity",
           "unit_price", "line_discount", "line_tax", "line_total", "order_subtotal", "order_discount",
           "order_shipping", "order_tax", "order_total", "prices_include_tax", "shipping_method", "discount_code"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value):
        return value


def _text(value):
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(FORMULA_START) else value


def rows(order_ids):
    lines = (OrderLine.objects.filter(order_id__in=order_ids).select_related("order")
             .order_by("order__number", "pk"))
    for line in lines.iterator(chunk_size=500):
        order = line.order
        major = currency(order.currency).to_major
        yield [order.reference, str(order.pk), order.created_at.isoformat(), order.status, _text(order.email),
               _text((order.shipping_address or {}).get("country", "")), order.currency.upper(), _text(line.sku),
               line.quantity, major(line.unit_price), major(line.discount), major(line.tax),
               major(line.line_total), major(order.subtotal), major(order.discount), major(order.shipping),
               major(order.tax), major(order.total), "yes" if order.prices_include_tax else "no",
               _text(order.shipping_method_name), _text(order.discount_code)]


def export_csv(modeladmin, request, queryset):
    writer = csv.writer(_Echo())
    order_ids = list(queryset.order_by().values_list("pk", flat=True))

    def stream():
        yield writer.writerow(COLUMNS)
        for row in rows(order_ids):
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="harbor-orders-{stamp}.csv"'
    return response


export_csv.short_description = "Export selected orders to CSV (one row per line)"
export_csv.allowed_permissions = ["export"]  # OrderAdmin.has_export_permission: orders.export_order
