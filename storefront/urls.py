from django.urls import path

from storefront.views import cart, catalog, checkout, find_order, media, order, returns

app_name = "storefront"

urlpatterns = [
    path("", catalog.catalog, name="catalog"),
    path("search/", catalog.search_page, name="search"),
    path("categories/<slug:slug>/", catalog.category_page, name="category"),
    path("products/<str:sku>/", catalog.product_detail, name="product"),
    path("cart/", cart.cart, name="cart"),
    path("cart/add/", cart.cart_add, name="cart-add"),
    path("cart/update/", cart.cart_update, name="cart-update"),
    path("cart/remove/", cart.cart_remove, name="cart-remove"),
    path("checkout/", checkout.checkout_page, name="checkout"),
    path("checkout/payment/", checkout.payment_setup, name="payment-setup"),
    path("checkout/pricing/", checkout.checkout_pricing, name="checkout-pricing"),
    path("orders/find/", find_order.find_order, name="find-order"),
    path("orders/link/<str:token>/", find_order.order_link, name="order-link"),
    path("orders/<uuid:order_id>/", order.order_page, name="order"),
    path("orders/<uuid:order_id>/live/", order.order_live, name="order-live"),
    path("orders/<uuid:order_id>/authenticate/", order.authenticate_page, name="order-authenticate"),
    path("orders/<uuid:order_id>/authenticated/", order.order_authenticated, name="order-authenticated"),
    path("orders/<uuid:order_id>/back-to-cart/", order.order_back_to_cart, name="order-back-to-cart"),
    path("orders/link/<str:token>/return/", returns.order_return, name="order-return"),
    path(f"{media.PREFIX}<path:path>", media.catalog_file, name="catalog-media"),
]
