"""The returns API: a fulfilled order's returns, and a new one (thin: returns.services decides)."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from harbor.api import ErrorSerializer, ValidationErrorSerializer
from orders.models import Order
from orders.throttles import ClientRateThrottle
from returns import services
from returns.models import Return
from returns.serializers import ReturnRequestSerializer, ReturnSerializer


class ReturnRequestThrottle(ClientRateThrottle):
    scope = "return_request"
    setting = "RETURN_REQUEST_LIMIT"


class OrderReturns(APIView):
    def get_throttles(self):
        return [ReturnRequestThrottle()] if self.request.method == "POST" else []

    @extend_schema(responses={200: ReturnSerializer(many=True), 404: ErrorSerializer},
                   summary="The order's returns, oldest first")
    def get(self, request, pk):
        order = get_object_or_404(Order, pk=pk)
        returns = Return.objects.filter(order=order).select_related("order", "refund").prefetch_related("lines")
        return Response(ReturnSerializer(returns, many=True).data)

    @extend_schema(
        request=ReturnRequestSerializer,
        responses={201: ReturnSerializer, 400: OpenApiResponse(ValidationErrorSerializer, "Nothing written."),
                   404: ErrorSerializer, 429: ErrorSerializer},
        summary="Open a return (a fulfilled order, within RETURN_WINDOW_DAYS of fulfillment)",
        description="Each SKU must be in the order, with at most the units not yet in another return "
                    "that was not rejected. Ops approve it, then mark the goods received: that refunds the "
                    "lines' share (their price less their part of the discount, with their tax; not shipping).")
    def post(self, request, pk):
        order = get_object_or_404(Order, pk=pk)
        body = ReturnRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            ret = services.request(order, body.validated_data["lines"], body.validated_data["reason"],
                                   actor="shopper (API)")
        except services.ReturnRefused as exc:
            raise exceptions.ValidationError({exc.field or "non_field_errors": [str(exc)]})
        ret = Return.objects.select_related("order", "refund").prefetch_related("lines").get(pk=ret.pk)
        return Response(ReturnSerializer(ret).data, status=status.HTTP_201_CREATED)
