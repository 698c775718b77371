"""The stock admin: a change of `received` in one warehouse moves `received` and `available`
by the same delta, atomically, so two admins editing one product's stock at once, or a sale
meanwhile, lose nothing; a product's page shows and edits its stock in every warehouse."""

import pytest

from inventory.models import Stock
from orders.checkout import place_order
from tests.factories import ProductFactory, StockFactory, WarehouseFactory

pytestmark = pytest.mark.django_db
ADDRESS = {"name": "A", "line1": "1 Road", "line2": "", "city": "C", "postal_code": "P", "country": "GB"}


@pytest.fixture
def mugs(db):
    return ProductFactory(sku="MUG-STOCK", stock__received=100, stock__available=90)  # 10 held by orders


def change_url(product):
    return f"/admin/inventory/stock/{Stock.objects.get(product=product).pk}/change/"


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


def test_a_sale_while_the_admin_edits_is_kept(ops_login, mugs, broker):
    ann = ops_login("ops-ann")
    page = loaded_form(ann, mugs)
    place_order(email="a@example.com", lines=[{"product": mugs, "quantity": 4}], payment_method="pm_card_visa",
                shipping_address=ADDRESS)  # a checkout takes 4 while the page is open

    assert ann.post(change_url(mugs), {**page, "received": 105}).status_code == 302

    assert stored(mugs) == (105, 91)


def test_received_cannot_go_down_by_more_than_is_available(ops_login, mugs):
    ann = ops_login("ops-ann")

    response = ann.post(change_url(mugs), {**loaded_form(ann, mugs), "received": 5})  # -95, only 90 available

    assert response.status_code == 200
    assert "Only 90 units are available" in str(response.context["adminform"].form.errors["received"])


def test_a_product_page_edits_its_stock_in_each_warehouse_by_delta(admin_client, mugs):
    newark = StockFactory(product=mugs, warehouse=WarehouseFactory(code="newark"), received=10, available=10)
    page = admin_client.get(f"/admin/catalog/product/{mugs.pk}/change/")
    formsets = [inline.formset for inline in page.context["inline_admin_formsets"]]
    formset = next(f for f in formsets if f.model is Stock)
    data = {}
    for each in formsets:  # the pictures' inline too, left empty
        rows = 2 if each is formset else 0
        data.update({f"{each.prefix}-{k}": v for k, v in {"TOTAL_FORMS": rows, "INITIAL_FORMS": rows,
                                                          "MIN_NUM_FORMS": 0, "MAX_NUM_FORMS": 1000}.items()})
    form = page.context["adminform"].form
    data.update({name: form[name].value() for name in form.fields if form[name].value() is not None})
    for i, row in enumerate(formset.forms):
        data.update({f"{row.prefix}-id": row.instance.pk, f"{row.prefix}-product": mugs.pk,
                     f"{row.prefix}-warehouse": row.instance.warehouse_id,
                     f"{row.prefix}-received_seen": row.instance.received,
                     f"{row.prefix}-received": row.instance.received + (5 if row.instance.pk == newark.pk else 0)})

    assert admin_client.post(f"/admin/catalog/product/{mugs.pk}/change/", data).status_code == 302

    assert Stock.objects.values_list("received", "available").get(pk=newark.pk) == (15, 15)
    assert stored_in(mugs, "main") == (100, 90)


def stored_in(product, code):
    return Stock.objects.values_list("received", "available").get(product=product, warehouse__code=code)
