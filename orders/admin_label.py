"""The shipping label, opened from the order admin by staff who may view orders.

The label's storage (PostgreSQL by default, harbor/storage.py) has no public URL: labels are
private files. The shopper's copy is the API's /api/orders/<id>/label.pdf; staff
get theirs here, behind the admin's login and the order's view permission.
"""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html

from orders.models import Order, Shipment


def label_view(model_admin, request, object_id, shipment_id):
    order = get_object_or_404(Order, pk=object_id)
    if not model_admin.has_view_permission(request, order):
        raise PermissionDenied
    shipment = get_object_or_404(Shipment, pk=shipment_id, order=order)
    if not shipment.label:
        raise Http404("This shipment has no label yet.")
    return FileResponse(shipment.label.open("rb"), content_type="application/pdf",
                        filename=f"label-{shipment.tracking_number}.pdf")


def label_link(shipment):
    if not shipment.pk or not shipment.label:
        return "not yet"
    url = reverse("admin:orders_order_label", args=[shipment.order_id, shipment.pk])
    return format_html('<a href="{}" target="_blank" rel="noopener">Open label (PDF)</a>', url)
