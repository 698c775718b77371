from rest_framework import serializers

from returns.models import Return, ReturnLine


class ReturnLineInSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    quantity = serializers.IntegerField(min_value=1, max_value=10_000)


class ReturnRequestSerializer(serializers.Serializer):
    lines = ReturnLineInSerializer(many=True, allow_empty=False, max_length=100)
    reason = serializers.CharField(max_length=1000, help_text="Why the items are coming back.")


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
        return ret.refund.status if ret.refund_id else None
