from django.urls import path

from catalog.views import ProductList

urlpatterns = [path("products/", ProductList.as_view(), name="product-list")]
