"""The admin's "Refund…" page for one order: the whole amount left or a part, with a reason,
and whether the goods came back (orders.operations.request_refund does the rest)."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from catalog.money import MoneyError, format_money, parse_money
from orders import operations
from orders.models import Order
from payments.models import Payment


class RefundForm(forms.Form):
    amount = forms.CharField(label="Amount", required=False, max_length=32,
                             help_text="In the order's currency (e.g. 5.00; ¥500). Leave empty to refund everything "
                                       "that is left.")
    reason = forms.CharField(label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    restock = forms.BooleanField(label="The goods came back: put them back in stock (once refunded in full)",
                                 required=False)


def refund_view(model_admin, request, object_id):
    if not request.user.has_perm("orders.refund_order"):
        raise PermissionDenied
    order = get_object_or_404(Order, pk=object_id)
    payment = Payment.objects.filter(order=order).first()
    form = RefundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            text = form.cleaned_data["amount"].strip()
            amount = parse_money(text, order.currency) if text else None  # the currency's own minor units
            outcome = operations.request_refund(
                order, actor=request.user.get_username(), reason=form.cleaned_data["reason"],
                amount=amount, restock=form.cleaned_data["restock"])
        except MoneyError as exc:
            form.add_error("amount", str(exc))
        except operations.OperationRefused as exc:
            form.add_error("amount" if "amount" in str(exc) else None, str(exc))
        else:
            messages.success(request, f"Order {order.pk}: {outcome}.")
            return redirect(reverse("admin:orders_order_change", args=[order.pk]))
    context = {
        **model_admin.admin_site.each_context(request), "title": f"Refund order {order.pk}", "order": order,
        "form": form, "opts": model_admin.model._meta,
        "paid": format_money(payment.amount, payment.currency) if payment else "nothing",
        "refunded": format_money(payment.amount_refunded, payment.currency) if payment else "nothing",
    }
    return TemplateResponse(request, "admin/orders/order/refund.html", context)
