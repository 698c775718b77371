from django.urls import path

from returns.views import OrderReturns

urlpatterns = [
    path("orders/<uuid:pk>/returns/", OrderReturns.as_view(), name="order-returns"),
]
