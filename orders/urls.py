from django.urls import path

from orders.views import OrderCreate, OrderDetail, order_label, shipment_label

urlpatterns = [
    path("orders/", OrderCreate.as_view(), name="order-create"),
    path("orders/<uuid:pk>/", OrderDetail.as_view(), name="order-detail"),
    path("orders/<uuid:pk>/label.pdf", order_label, name="order-label"),
    path("orders/<uuid:pk>/shipments/<int:shipment_id>/label.pdf", shipment_label, name="shipment-label"),
]
