from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from orders.addresses import SHIPPING_COUNTRIES
from orders.fields import (
    LABEL_TEXT, LABEL_TEXT_OR_SPACES, LabelText, SchemaPattern, StrictInteger, Text, email_field,
)
from orders.models import Order, OrderLine, OrderStatus

# The countries the storefront offers (orders/addresses.py, the one list), in any case: a
# pattern rather than an enum, so that the schema says exactly what the server takes ("gb" too).
SHIPPING_COUNTRY_PATTERN = "^(?:" + "|".join("".join(f"[{c}{c.lower()}]" for c in code)
                                             for code, _ in SHIPPING_COUNTRIES) + ")\\Z"
MAX_LINES = 50
MAX_QUANTITY = 100


def label_text(**kwargs):
    """An address field: text the shipping label prints (orders.fields.LabelText)."""
    optional = kwargs.get("allow_blank", False)
    return Text(pattern=LabelText(LABEL_TEXT_OR_SPACES if optional else LABEL_TEXT), **kwargs)


class AddressSerializer(serializers.Serializer):
    """A shipping address, printed on the parcel's label as it is written. Its text takes the
    characters the label's fonts print (the `pattern`: the letters, digits and punctuation of
    Latin, Greek, Cyrillic, Hebrew, Arabic, Chinese, Japanese, Korean, Thai and the scripts of
    India, spaces, and the joiners and direction marks U+200C to U+200F); anything else (emoji,
    other symbols, private-use or unassigned characters) is refused with 400, naming the field."""

    name = label_text(max_length=100)
    line1 = label_text(max_length=200)
    line2 = label_text(max_length=200, required=False, allow_blank=True, default="")
    city = label_text(max_length=100)
    region = label_text(max_length=100, required=False, allow_blank=True, default="",
                        help_text="State, province or county, where the country's post uses one (e.g. OR).")
    postal_code = label_text(max_length=20)
    country = Text(
        min_length=2, max_length=2,
        help_text="ISO 3166-1 alpha-2 code of a country Harbor ships to (any case), e.g. US: "
                  + ", ".join(code for code, _ in SHIPPING_COUNTRIES) + ".",
        pattern=SchemaPattern(SHIPPING_COUNTRY_PATTERN,
                              "Harbor does not ship there. Enter the two-letter code of one of: "
                              + ", ".join(code for code, _ in SHIPPING_COUNTRIES) + "."),
    )

    def validate_country(self, value):
        return value.upper()


class CheckoutLineSerializer(serializers.Serializer):
    sku = Text(max_length=64, help_text="A SKU of an active product of the catalog (GET /api/products/).")
    quantity = StrictInteger(min_value=1, max_value=MAX_QUANTITY)


class CheckoutSerializer(serializers.Serializer):
    email = email_field(max_length=254)
    lines = serializers.ListSerializer(
        child=CheckoutLineSerializer(), min_length=1, max_length=MAX_LINES,
        # The same bounds as validators too: drf-spectacular publishes those as minItems/maxItems.
        validators=[MinLengthValidator(1), MaxLengthValidator(MAX_LINES)],
        help_text="One line per SKU (a repeated SKU is refused: send its total quantity), "
                  "all of active products in one currency.",
    )
    payment_method = Text(
        max_length=255, help_text="A Stripe PaymentMethod id, e.g. pm_card_visa.",
        pattern=SchemaPattern(r"^pm_[A-Za-z0-9_]+\Z", "Enter a Stripe PaymentMethod id (pm_...)."),
    )
    shipping_address = AddressSerializer()
    shipping_method = Text(
        max_length=64, required=False, help_text="A shipping method's id serving the address (GET "
        "/api/shipping-methods/?country=XX). Omitted: the cheapest one for the address.",
        pattern=SchemaPattern(r"^[-a-zA-Z0-9_]+\Z", "Enter a shipping method's id (letters, digits, - and _)."))
    discount_code = Text(
        max_length=64, required=False, allow_blank=True, pattern=SchemaPattern(
            r"^[A-Za-z0-9][A-Za-z0-9_-]*\Z", "Enter a discount code (letters, digits, - and _)."),
        help_text="A discount code, in any case (e.g. WELCOME10). Empty or omitted: none.")

    def validate_lines(self, lines):
        """Repeated SKUs are rejected, not merged: one line per SKU, with its total quantity."""
        skus = [line["sku"] for line in lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"SKU repeated: {', '.join(repeated)}. Send one line per SKU with the total quantity."
            )
        # Whether each SKU is an active product of one currency is checked by the checkout
        # service, in its transaction, after the Idempotency-Key (orders.checkout).
        return lines


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "quantity", "unit_price"]


class PaymentSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    payment_intent = serializers.CharField(allow_null=True)
    client_secret = serializers.CharField(
        required=False, help_text="Only while the order is requires_action: for Stripe.js confirmCardPayment.")


class ShipmentSummarySerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    label_url = serializers.URLField()


class ShipmentLineSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField()
    label_url = serializers.URLField(allow_null=True, help_text="Once the label exists.")
    lines = ShipmentLineSerializer(many=True)
    status = serializers.ChoiceField(choices=["pending", "labeled", "shipped", "delivered"])
    carrier_url = serializers.CharField(allow_blank=True, help_text="The carrier's tracking page, once shipped.")
    warehouse = serializers.CharField(allow_null=True, help_text="Where it ships from.")


class ShippingMethodSummarySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    payment = serializers.SerializerMethodField()
    shipment = serializers.SerializerMethodField()
    shipments = serializers.SerializerMethodField()
    receipt_sent_at = serializers.SerializerMethodField()
    shipping_method = serializers.SerializerMethodField()
    reference = serializers.CharField(read_only=True, help_text="The short reference shoppers and ops read, HB-10427.")

    class Meta:
        model = Order
        fields = ["id", "reference", "status", "email", "lines", "subtotal", "discount", "shipping", "tax", "total",
                  "currency", "prices_include_tax", "discount_code", "shipping_method", "payment", "shipment",
                  "shipments", "receipt_sent_at", "created_at", "updated_at"]
        extra_kwargs = {
            "subtotal": {"help_text": "The lines at their prices, minor units."},
            "discount": {"help_text": "What the discount code took off, minor units."},
            "shipping": {"help_text": "The shipping method's price for this order, minor units."},
            "tax": {"help_text": "Tax: included in the prices when prices_include_tax, else added. "
                                 "total = subtotal - discount + shipping (+ tax when prices exclude it)."},
            "total": {"help_text": "What is charged, minor units."},
        }

    @extend_schema_field(ShippingMethodSummarySerializer(allow_null=True))
    def get_shipping_method(self, order):
        return shipping_method_data(order)

    @extend_schema_field(PaymentSummarySerializer(allow_null=True))
    def get_payment(self, order):
        payment = getattr(order, "payment", None)
        if payment is None:
            return None
        summary = {"status": payment.status, "payment_intent": payment.payment_intent_id}
        if order.status == OrderStatus.REQUIRES_ACTION and payment.client_secret:
            summary["client_secret"] = payment.client_secret  # the shopper's browser needs it to authenticate
        return summary

    @extend_schema_field(ShipmentSummarySerializer(allow_null=True))
    def get_shipment(self, order):
        """The first parcel, as clients written for one parcel read it: shown once its label
        exists, so label_url always works."""
        shipment = order.shipment
        if not shipment or not shipment.label:
            return None
        return {"tracking_number": shipment.tracking_number, "label_url": self._url("order-label", order.pk)}

    @extend_schema_field(ShipmentSerializer(many=True))
    def get_shipments(self, order):
        """Every parcel: one per warehouse the order ships from."""
        return [{"id": s.pk, "tracking_number": s.tracking_number,
                 "label_url": self._url("shipment-label", order.pk, s.pk) if s.label else None,
                 "lines": [{"sku": line.sku, "quantity": line.quantity} for line in s.lines.all()],
                 "status": s.status, "carrier_url": s.carrier_url,
                 "warehouse": s.warehouse.name if s.warehouse_id else None} for s in order.shipments.all()]

    def _url(self, name, *args):
        url = reverse(name, args=args)
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_receipt_sent_at(self, order):
        receipt = next((n for n in order.notifications.all() if n.kind == "receipt"), None)
        return serializers.DateTimeField().to_representation(receipt.sent_at) if receipt and receipt.sent_at else None


def placed_order_data(order):
    """What OrderSerializer shows for an order checkout has just written (pending: no payment,
    shipment or receipt yet), built directly from it: a ModelSerializer costs more to set up
    than the rest of the answer. tests/test_checkout.py holds the two to the same output."""
    when = serializers.DateTimeField()
    return {
        "id": str(order.id), "reference": order.reference, "status": order.status, "email": order.email,
        "lines": [{"sku": line.sku, "quantity": line.quantity, "unit_price": line.unit_price}
                  for line in order.lines.all()],
        "subtotal": order.subtotal, "discount": order.discount, "shipping": order.shipping, "tax": order.tax,
        "total": order.total, "currency": order.currency, "prices_include_tax": order.prices_include_tax,
        "discount_code": order.discount_code, "shipping_method": shipping_method_data(order),
        "payment": None, "shipment": None, "shipments": [],
        "receipt_sent_at": None, "created_at": when.to_representation(order.created_at),
        "updated_at": when.to_representation(order.updated_at),
    }


def shipping_method_data(order):
    return {"id": order.shipping_method, "name": order.shipping_method_name} if order.shipping_method else None
