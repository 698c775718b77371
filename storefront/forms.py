"""The checkout form: what the shopper types. Field limits are the checkout API's own
(orders.serializers), which validates the same data again in the same service."""

import re

from django import forms

from orders.addresses import SHIPPING_COUNTRIES


class CheckoutForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(label="Full name", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(label="Address line 1", max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "address-line2"}))
    city = forms.CharField(label="City", max_length=100, widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    region = forms.CharField(label="State / Province / Region", max_length=100, required=False,
                             widget=forms.TextInput(attrs={"autocomplete": "address-level1"}))
    postal_code = forms.CharField(label="Postal code", max_length=20,
                                  widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    country = forms.ChoiceField(label="Country", choices=[("", "Choose a country"), *SHIPPING_COUNTRIES],
                                widget=forms.Select(attrs={"autocomplete": "country"}))
    # The shipping method (radio buttons the page fills for the country: storefront/views/
    # checkout.py pricing) and an optional discount code; the checkout service checks both.
    shipping_method = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    discount_code = forms.CharField(label="Discount code", required=False, max_length=64,
                                    widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                                  "spellcheck": "false"}))
    # Filled by the page's script: the PaymentMethod Stripe.js made from the card, and the
    # token minted when this page was rendered (the order's idempotency key).
    payment_method = forms.CharField(widget=forms.HiddenInput, required=False, max_length=255)
    checkout_token = forms.CharField(widget=forms.HiddenInput, max_length=32)

    ADDRESS_FIELDS = ("name", "line1", "line2", "city", "region", "postal_code", "country")

    def clean_checkout_token(self):
        token = self.cleaned_data["checkout_token"]
        if not re.fullmatch(r"[0-9a-f]{32}", token):
            raise forms.ValidationError("This checkout page has expired: reload it.")
        return token

    def clean_payment_method(self):
        value = self.cleaned_data["payment_method"]
        if not re.fullmatch(r"pm_[A-Za-z0-9_]+", value or ""):
            raise forms.ValidationError("Enter your card details.")
        return value

    def body(self, cart_lines):
        """The checkout request, in the API's shape, for orders.serializers.CheckoutSerializer."""
        data = self.cleaned_data
        body = {
            "email": data["email"],
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in cart_lines],
            "payment_method": data["payment_method"],
            "shipping_address": {field: data[field] for field in self.ADDRESS_FIELDS},
        }
        if data.get("shipping_method"):
            body["shipping_method"] = data["shipping_method"]
        if data.get("discount_code", "").strip():
            body["discount_code"] = data["discount_code"].strip()
        return body
