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


class ProductFilterForm(forms.Form):
    """What a shopper can ask of the search and category pages (all optional, in the query
    string). A value that is not valid is ignored, with its error shown by its field."""

    q = forms.CharField(label="Search for", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "enterkeyhint": "search"}))
    category = forms.ChoiceField(label="Department", required=False)
    in_stock = forms.BooleanField(label="In stock only", required=False)
    min_price = forms.CharField(label="Min price ($)", required=False, max_length=12,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}))
    max_price = forms.CharField(label="Max price ($)", required=False, max_length=12,
                                widget=forms.TextInput(attrs={"inputmode": "decimal", "size": 6}))
    sort = forms.ChoiceField(label="Sort by", required=False)
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000, widget=forms.HiddenInput)
    quiet = True  # every field is optional: no "Optional" hint on each (storefront/_field.html)

    def __init__(self, data, *, categories=(), sorts=(), currency="usd"):
        super().__init__(data)
        self.currency = currency
        self.fields["category"].choices = [("", "All departments"), *categories]
        self.fields["sort"].choices = list(sorts)

    def _price(self, name):
        from catalog.money import MoneyError, parse_money

        text = self.cleaned_data.get(name, "").strip().lstrip("$")
        if not text or text.strip("0.") == "":
            return None
        try:
            return parse_money(text, self.currency)
        except MoneyError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_min_price(self):
        return self._price("min_price")

    def clean_max_price(self):
        return self._price("max_price")

    def clean(self):
        data = super().clean()
        low, high = data.get("min_price"), data.get("max_price")
        if low is not None and high is not None and low > high:
            self.add_error("max_price", "The max price is below the min price.")
        return data

    def value(self, name, default=None):
        """The field's cleaned value, or `default` when it was missing or not valid."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value


class FindOrderForm(forms.Form):
    email = forms.EmailField(label="Email", max_length=254,
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    reference = forms.CharField(label="Order reference", max_length=24, help_text="On your receipt, e.g. HB-10427",
                                widget=forms.TextInput(attrs={"autocapitalize": "characters", "spellcheck": "false",
                                                              "placeholder": "HB-10427"}))

    def clean_reference(self):
        from orders.links import number_of

        number = number_of(self.cleaned_data["reference"])
        if number is None:
            raise forms.ValidationError("Enter the reference as it is on your receipt, such as HB-10427.")
        return f"HB-{number}"
