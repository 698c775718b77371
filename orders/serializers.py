from django.core.validators import RegexValidator
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.models import Product
from orders.models import Order, OrderLine

MAX_LINES = 50
MAX_QUANTITY = 100


class AddressSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=100)
    postal_code = serializers.CharField(max_length=20)
    country = serializers.CharField(
        min_length=2, max_length=2, help_text="ISO 3166-1 alpha-2 code, e.g. US.",
        validators=[RegexValidator(r"^[A-Za-z]{2}$", "Enter a two-letter ISO 3166-1 country code.")],
    )

    def validate_country(self, value):
        return value.upper()


class CheckoutLineSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class CheckoutSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    lines = CheckoutLineSerializer(many=True, min_length=1, max_length=MAX_LINES)
    payment_method = serializers.CharField(
        max_length=255, help_text="A Stripe PaymentMethod id, e.g. pm_card_visa.",
        validators=[RegexValidator(r"^pm_[A-Za-z0-9_]+$", "Enter a Stripe PaymentMethod id (pm_...).")],
    )
    shipping_address = AddressSerializer()

    def validate_lines(self, lines):
        """Repeated SKUs are rejected, not merged: one line per SKU, with its total quantity."""
        skus = [line["sku"] for line in lines]
        repeated = sorted({sku for sku in skus if skus.count(sku) > 1})
        if repeated:
            raise serializers.ValidationError(
                f"SKU repeated: {', '.join(repeated)}. Send one line per SKU with the total quantity."
            )
        products = Product.objects.filter(sku__in=skus, active=True).in_bulk(field_name="sku")
        unknown = [sku for sku in skus if sku not in products]
        if unknown:
            raise serializers.ValidationError(f"Unknown or unavailable SKU: {', '.join(unknown)}.")
        if len({p.currency for p in products.values()}) > 1:
            raise serializers.ValidationError("All lines of one order must be in the same currency.")
        return [{"product": products[line["sku"]], "quantity": line["quantity"]} for line in lines]


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["sku", "quantity", "unit_price"]


class PaymentSummarySerializer(serializers.Serializer):
    status = serializers.CharField()
    payment_intent = serializers.CharField(allow_null=True)


class ShipmentSummarySerializer(serializers.Serializer):
    tracking_number = serializers.CharField()
    label_url = serializers.URLField()


class OrderSerializer(serializers.ModelSerializer):
    lines = OrderLineSerializer(many=True, read_only=True)
    payment = serializers.SerializerMethodField()
    shipment = serializers.SerializerMethodField()
    receipt_sent_at = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = ["id", "status", "email", "lines", "total", "currency", "payment", "shipment",
                  "receipt_sent_at", "created_at", "updated_at"]

    @extend_schema_field(PaymentSummarySerializer(allow_null=True))
    def get_payment(self, order):
        payment = getattr(order, "payment", None)
        return {"status": payment.status, "payment_intent": payment.payment_intent_id} if payment else None

    @extend_schema_field(ShipmentSummarySerializer(allow_null=True))
    def get_shipment(self, order):
        shipment = getattr(order, "shipment", None)
        if not shipment or not shipment.label:
            return None  # shown once the label exists, so label_url always works
        url = reverse("order-label", args=[order.pk])
        request = self.context.get("request")
        return {"tracking_number": shipment.tracking_number,
                "label_url": request.build_absolute_uri(url) if request else url}

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_receipt_sent_at(self, order):
        receipt = next((n for n in order.notifications.all() if n.kind == "receipt"), None)
        return serializers.DateTimeField().to_representation(receipt.sent_at) if receipt and receipt.sent_at else None
