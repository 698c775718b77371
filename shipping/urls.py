from django.urls import path

from shipping.views import shipping_methods

urlpatterns = [path("shipping-methods/", shipping_methods, name="shipping-methods")]
