"""Returning items: the order's return form, opened from the signed link in the receipt
(`/orders/link/<token>/return/`, orders/links.py: the order's reference, signed). The shopper
picks units of the order's lines and says why; returns.services decides."""

from django import forms
from django.contrib import messages
from django.core.validators import RegexValidator
from django.shortcuts import render
from django.urls import reverse

from catalog.money import format_money
from orders import links, totals
from orders.views import ORDER_QUERYSET
from returns import services
from storefront.responses import SeeOther, not_found



class ReturnForm(forms.Form):
    reason = forms.CharField(label="Why are they coming back?", max_length=1000,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, lines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = []
        for line, left in lines:
            name = f"qty_{line.pk}"
            # ASCII digits only: int() takes "٣" too, which is no quantity a person typed here.
            self.fields[name] = forms.CharField(
                label=f"{line.product.name} ({line.sku})", required=False, initial="0", max_length=5,
                validators=[RegexValidator(r"^[0-9]+$", "Enter a whole number.")],
                widget=forms.NumberInput(attrs={"min": 0, "max": left, "inputmode": "numeric"}),
                help_text=f"up to {left}")
            self.lines.append((line, left, name))

    def clean(self):
        cleaned = super().clean()
        wanted = []
        for line, left, name in self.lines:
            value = cleaned.get(name)
            if name in self.errors:
                continue
            units = int(value or 0)
            if units > left:
                self.add_error(name, f"At most {left}.")
            elif units:
                wanted.append({"sku": line.sku, "quantity": units})
        if not wanted and not self.errors:
            raise forms.ValidationError("Choose at least one item to return.")
        cleaned["lines"] = wanted
        return cleaned

    def rows(self):
        return [(line, left, self[name]) for line, left, name in self.lines if left > 0]


def order_return(request, token):
    found = links.order_for(token)
    order = ORDER_QUERYSET.filter(pk=found.pk).first() if found else None
    if order is None:  # a link someone changed or made up: like an unknown order
        return not_found(request)
    if why := services.why_not(order):
        return render(request, "storefront/return.html", {"order": order, "refused": f"This order cannot be "
                      f"returned: {why}."}, status=409)
    lines = services.returnable(order)
    form = ReturnForm(request.POST or None, lines=lines)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                ret = services.request(order, form.cleaned_data["lines"], form.cleaned_data["reason"])
            except services.ReturnRefused as exc:
                form.add_error("reason" if exc.field == "reason" else None, str(exc))
            else:
                messages.success(request, f"Return {ret.pk} requested: {ret.lines_text()}. We will e-mail you "
                                          f"when it is approved, with where to send the items.")
                return SeeOther(reverse("storefront:order", args=[order.pk]) + "#returns")
        status = 400
    rows = [(line, left, field, format_money(totals.line_paid(line, order.prices_include_tax), order.currency))
            for line, left, field in form.rows()]
    context = {"order": order, "form": form, "rows": rows, "closes": services.window_closes(order)}
    return render(request, "storefront/return.html", context, status=status)
