from django.shortcuts import render

from catalog.models import Product
from storefront.responses import not_found


def catalog(request):
    products = Product.objects.filter(active=True).select_related("stock").order_by("name")
    return render(request, "storefront/catalog.html", {"products": products})


def product_detail(request, sku):
    product = Product.objects.filter(sku=sku, active=True).select_related("stock").first()
    if product is None:
        return not_found(request)
    return render(request, "storefront/product.html", {"product": product})
