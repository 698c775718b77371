from storefront.cart import Cart


def cart(request):
    """`cart_count` for the header's "Cart (N)" link on every page (read from the session
    only when a template shows it)."""
    return {"cart_count": lambda: len(Cart(request.session))}
