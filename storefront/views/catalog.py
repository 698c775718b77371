from django.shortcuts import render

from catalog.models import Product
from inventory.stock import with_available
from storefront.responses import not_found


def catalog(request):
    products = with_available(Product.objects.filter(active=True)).order_by("name")
    return render(request, "storefront/catalog.html", {"products": products})


def product_detail(request, sku):
    product = with_available(Product.objects.filter(sku=sku, active=True)).first()
    if product is None:
        return not_found(request)
    return render(request, "storefront/product.html", {"product": product})
