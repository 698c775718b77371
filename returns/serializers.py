from django.core.validators import MaxLengthValidator, MinLengthValidator
from rest_framework import serializers

from orders.fields import StrictInteger, Text
from orders.serializers import MAX_LINES, MAX_QUANTITY

from returns.models import Return, ReturnLine


class ReturnLineInSerializer(serializers.Serializer):
    sku = Text(max_length=64, help_text="A SKU of the order's lines.")
    quantity = StrictInteger(min_value=1, max_value=MAX_QUANTITY)


class ReturnRequestSerializer(serializers.Serializer):
    lines = serializers.ListSerializer(
        child=ReturnLineInSerializer(), min_length=1, max_length=MAX_LINES,
        validators=[MinLengthValidator(1), MaxLengthValidator(MAX_LINES)],  # published as minItems/maxItems
        help_text="The units coming back, per SKU of the order.")
    reason = Text(max_length=1000, help_text="Why the items are coming back.")


class ReturnLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReturnLine
        fields = ["sku", "quantity", "amount"]


class ReturnSerializer(serializers.ModelSerializer):
    lines = ReturnLineSerializer(many=True, read_only=True)
    refund_status = serializers.SerializerMethodField(
        help_text="The refund of a received return: requested, pending, succeeded or failed; null before.")
    currency = serializers.CharField(source="order.currency", read_only=True)

    class Meta:
        model = Return
        fields = ["id", "status", "reason", "lines", "amount", "currency", "refund_status", "note", "created_at",
                  "received_at"]
        extra_kwargs = {"amount": {"help_text": "Minor units: the lines' share (refunded once received)."}}

    def get_refund_status(self, ret) -> str | None:
        # As the order has settled it (orders.refunds.settle commits the refund's applied
        # status, the payment's refunded total and the events that explain them together), not
        # Stripe's answer recorded a moment before: the three always agree on what they show.
        return (ret.refund.applied or ret.refund.Status.REQUESTED) if ret.refund_id else None
