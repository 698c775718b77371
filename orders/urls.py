from django.urls import path

from orders.views import OrderCreate, OrderDetail

urlpatterns = [
    path("orders/", OrderCreate.as_view(), name="order-create"),
    path("orders/<uuid:pk>/", OrderDetail.as_view(), name="order-detail"),
]
