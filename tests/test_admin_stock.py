"""The Stock admin: a change of `received` moves `received` and `available` by the same
delta, atomically, so two admins editing one product at once, or a sale meanwhile, lose nothing."""

import pytest
from django.db import transaction

from inventory import stock
from inventory.models import Stock
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mugs(db):
    return ProductFactory(sku="MUG-STOCK", stock__received=100, stock__available=90)  # 10 held by orders


def change_url(product):
    return f"/admin/catalog/stock/{product.pk}/change/"


def loaded_form(client, product):
    """The change form as this admin's browser holds it after loading the page."""
    form = client.get(change_url(product)).context["adminform"].form
    return {name: form[name].value() for name in form.fields}


def stored(product):
    return Stock.objects.values_list("received", "available").get(product=product)


def test_two_admins_adding_stock_to_the_same_product_at_once_both_count(ops_login, mugs):
    ann, bob = ops_login("ops-ann"), ops_login("ops-bob")
    anns_page, bobs_page = loaded_form(ann, mugs), loaded_form(bob, mugs)  # both see received = 100

    assert ann.post(change_url(mugs), {**anns_page, "received": 110}).status_code == 302  # +10
    assert bob.post(change_url(mugs), {**bobs_page, "received": 120}).status_code == 302  # +20

    assert stored(mugs) == (130, 120)


def test_a_sale_while_the_admin_edits_is_kept(ops_login, mugs):
    ann = ops_login("ops-ann")
    page = loaded_form(ann, mugs)
    with transaction.atomic():
        stock.reserve({mugs: 4})  # a checkout takes 4 while the page is open

    assert ann.post(change_url(mugs), {**page, "received": 105}).status_code == 302

    assert stored(mugs) == (105, 91)


def test_received_cannot_go_down_by_more_than_is_available(ops_login, mugs):
    ann = ops_login("ops-ann")

    response = ann.post(change_url(mugs), {**loaded_form(ann, mugs), "received": 5})  # -95, only 90 available

    assert response.status_code == 200
    assert "Only 90 units are available" in str(response.context["adminform"].form.errors["received"])
    assert stored(mugs) == (100, 90)
