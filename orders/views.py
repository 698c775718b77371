from django.conf import settings
from django.db.models import Prefetch
from django.http import FileResponse, JsonResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, renderers, status
from rest_framework.decorators import api_view, renderer_classes
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.stock import InsufficientStock
from harbor.api import ErrorSerializer, ValidationErrorSerializer
from harbor.clientip import client_id
from orders import checkout
from orders.metrics import CHECKOUT_OUTCOMES
from orders.models import Order, Shipment
from orders.serializers import CheckoutSerializer, OrderSerializer, placed_order_data
from orders.throttles import CheckoutRateThrottle, FailedPaymentsThrottle


ORDER_QUERYSET = Order.objects.select_related("payment").prefetch_related(
    "lines", "notifications", Prefetch("shipments", Shipment.objects.select_related("warehouse")
                                         .prefetch_related("lines")))


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY


class TooManyUnpaid(exceptions.APIException):
    """429 in the API's error shape, with Retry-After (DRF's handler reads `wait`)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    wait = checkout.TooManyUnpaid.retry_after


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
    throttle_classes = [CheckoutRateThrottle, FailedPaymentsThrottle]

    def dispatch(self, request, *args, **kwargs):
        """Every answer to a POST is counted by status (harbor_checkout_outcomes_total): throttled
        429s and parse errors (raised before post() runs) too, and a 500 when something escaped."""
        response = None
        try:
            response = super().dispatch(request, *args, **kwargs)
            return response
        finally:
            if request.method == "POST":
                CHECKOUT_OUTCOMES.labels(status=str(response.status_code if response is not None else 500)).inc()

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
            429: OpenApiResponse(ErrorSerializer, "Too many orders from this client, too many of its orders "
                                                  "awaiting payment, or too many failed payments; see Retry-After."),
        },
        summary="Place an order (answers before payment; poll the order for its status)",
        description=(
            "The body's shape, lengths, patterns and bounds are all in its schema. What the schema cannot "
            "say is checked too (400 naming the field): every SKU must be an active product of the catalog "
            "(`GET /api/products/`), one line per SKU, all lines in one currency; `shipping_method` must "
            "serve the address (`GET /api/shipping-methods/`); `discount_code` must be a code that is "
            "active, within its dates, not used up, and applies to the cart. Stock short: 409. "
            "String fields are stored without leading and trailing spaces."
        ),
    )
    def post(self, request):
        key = _idempotency_key(request)
        body = CheckoutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            order, created = checkout.place_order(
                **body.validated_data, idempotency_key=key, request_hash=checkout.fingerprint(request.data),
                client=client_id(request),
            )
        except checkout.UnknownProducts as exc:
            raise exceptions.ValidationError({"lines": [str(exc)]})
        except checkout.InvalidShipping as exc:
            raise exceptions.ValidationError({"shipping_method": [str(exc)]})
        except checkout.InvalidDiscount as exc:
            raise exceptions.ValidationError({"discount_code": [str(exc)]})
        except InsufficientStock as exc:
            raise Conflict({"code": "insufficient_stock", "detail": str(exc), "skus": exc.skus})
        except checkout.IdempotencyKeyReused:
            raise Unprocessable({"code": "idempotency_key_reused",
                                 "detail": "This Idempotency-Key was used with a different request body."})
        except checkout.TooManyUnpaid:
            raise TooManyUnpaid({"code": "too_many_unpaid_orders",
                                 "detail": f"This client has {settings.CHECKOUT_UNPAID_LIMIT} orders awaiting payment: "
                                           "pay or cancel one of them first."})
        headers = {"Location": reverse("order-detail", args=[order.pk])}
        if created:  # answered from what checkout wrote, without reading it back
            return Response(placed_order_data(order), headers=headers, status=status.HTTP_202_ACCEPTED)
        headers["Idempotent-Replayed"] = "true"
        order = ORDER_QUERYSET.get(pk=order.pk)
        return Response(OrderSerializer(order, context={"request": request}).data, headers=headers,
                        status=status.HTTP_200_OK)


@extend_schema(responses={200: OrderSerializer, 404: ErrorSerializer})
class OrderDetail(generics.RetrieveAPIView):
    """One order, by its unguessable id."""

    serializer_class = OrderSerializer
    queryset = ORDER_QUERYSET


class PDFRenderer(renderers.BaseRenderer):
    """Lets DRF's content negotiation answer `Accept: application/pdf` (what the schema
    documents for the label) instead of 406; the view returns the file itself. An error DRF
    raises for such a request (405, say) is still written as JSON, and says so."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)


@extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ErrorSerializer})
@api_view(["GET"])
@renderer_classes([renderers.JSONRenderer, PDFRenderer])
def order_label(request, pk):
    """The 4x6 in shipping label (PDF) of the order's first parcel (its `shipment`). Anyone
    holding the order id may fetch it."""
    shipment = Shipment.objects.filter(order_id=pk).order_by("pk").first()
    return _label(shipment)


@extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY, 404: ErrorSerializer})
@api_view(["GET"])
@renderer_classes([renderers.JSONRenderer, PDFRenderer])
def shipment_label(request, pk, shipment_id):
    """The 4x6 in shipping label (PDF) of one of the order's parcels (its `shipments`)."""
    return _label(Shipment.objects.filter(order_id=pk, pk=shipment_id).first())


def _label(shipment):
    if shipment is None or not shipment.label:  # JSON whatever was asked for (the PDF renderer cannot write one)
        return JsonResponse({"code": "not_found", "detail": "This parcel has no label yet."}, status=404)
    return FileResponse(shipment.label.open("rb"), content_type="application/pdf",
                        filename=f"label-{shipment.tracking_number}.pdf")
