from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.stock import InsufficientStock
from harbor.api import ErrorSerializer, ValidationErrorSerializer
from orders import checkout
from orders.models import Order, Shipment
from orders.serializers import CheckoutSerializer, OrderSerializer


ORDER_QUERYSET = Order.objects.select_related("payment", "shipment").prefetch_related("lines", "notifications")


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
    OpenApiParameter.HEADER, required=False,
    description="Retry-safe key (1-255 printable ASCII). Same key and body: the same order again.",
)


def _idempotency_key(request):
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not (1 <= len(key) <= 255) or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError({"Idempotency-Key": ["Must be 1-255 printable ASCII characters."]})
    return key


class OrderCreate(APIView):
    @extend_schema(
        request=CheckoutSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={
            202: OpenApiResponse(OrderSerializer, "Accepted: the order is pending, fulfillment is queued."),
            200: OpenApiResponse(OrderSerializer, "Replay of an earlier request with the same Idempotency-Key."),
            400: OpenApiResponse(ValidationErrorSerializer, "Malformed input; nothing written."),
            409: OpenApiResponse(ErrorSerializer, "insufficient_stock (with `skus`); nothing written."),
            413: OpenApiResponse(ErrorSerializer, "Body over 64 KiB."),
            422: OpenApiResponse(ErrorSerializer, "Idempotency-Key reused with a different body."),
        },
        summary="Place an order (answers before payment; poll the order for its status)",
    )
    def post(self, request):
        key = _idempotency_key(request)
        body = CheckoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order, created = checkout.place_order(
                **body.validated_data, idempotency_key=key, request_hash=checkout.fingerprint(request.data)
            )
        except InsufficientStock as exc:
            raise Conflict({"code": "insufficient_stock", "detail": str(exc), "skus": exc.skus})
        except checkout.IdempotencyKeyReused:
            raise Unprocessable({"code": "idempotency_key_reused",
                                 "detail": "This Idempotency-Key was used with a different request body."})
        headers = {"Location": reverse("order-detail", args=[order.pk])}
        if not created:
            headers["Idempotent-Replayed"] = "true"
            order = ORDER_QUERYSET.get(pk=order.pk)
        return Response(OrderSerializer(order, context={"request": request}).data, headers=headers,
                        status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK)


@extend_schema(responses={200: OrderSerializer, 404: ErrorSerializer})
class OrderDetail(generics.RetrieveAPIView):
    """One order, by its unguessable id."""

    serializer_class = OrderSerializer
    queryset = ORDER_QUERYSET


@extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ErrorSerializer})
@api_view(["GET"])
def order_label(request, pk):
    """The order's 4x6 in shipping label (PDF). Anyone holding the order id may fetch it."""
    shipment = Shipment.objects.filter(order_id=pk).exclude(label="").first()
    if shipment is None:
        raise exceptions.NotFound("This order has no label yet.")
    return FileResponse(shipment.label.open("rb"), content_type="application/pdf",
                        filename=f"label-{shipment.tracking_number}.pdf")
