"""Finding products: PostgreSQL full-text search over name, description and SKU (a generated
tsvector under a GIN index, prefix terms, ranking), with filters and sorts; the same search
behind the storefront's search and category pages and GET /api/products/."""

import pytest
from django.db import connection

from catalog import search
from catalog.models import Category, Product
from tests.factories import CategoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf():
    galley = CategoryFactory(slug="galley", name="Galley")
    drinkware = CategoryFactory(slug="drinkware", name="Drinkware", parent=galley)
    deck = CategoryFactory(slug="deck", name="Deck")
    return {
        "mug": ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800, category=drinkware,
                              description="A white enamel mug with a navy rim.", stock__available=20),
        "bottle": ProductFactory(sku="BTL-750", name="Steel bottle, 750 ml", unit_price=3200, category=drinkware,
                                 description="Keeps tea hot; fits a mug's worth.", stock__available=0),
        "plate": ProductFactory(sku="PLT-ENM", name="Enamel plate", unit_price=1400, category=galley,
                                description="A plate.", stock__available=5),
        "rope": ProductFactory(sku="ROPE-10M", name="Mooring line, 10 m", unit_price=3900, category=deck,
                               description="Three-strand line.", stock__available=3),
        "hidden": ProductFactory(sku="MUG-OLD", name="Old mug", active=False, category=drinkware),
    }


def found(**filters):
    return [p.sku for p in search.products(search.Filters(**filters))]


def test_words_match_names_descriptions_and_skus_as_prefixes_with_stemming(shelf):
    assert found(q="mug") == ["MUG-001", "BTL-750"]  # the name's match ranks above the description's
    assert found(q="mugs") == found(q="mug")  # English stemming
    assert found(q="enam mu") == ["MUG-001"]  # every word, each a prefix: found while typing
    assert found(q="MUG-001") == ["MUG-001"] and found(q="rope 10") == ["ROPE-10M"]  # SKUs, split at the dash
    assert found(q="enamel") == ["MUG-001", "PLT-ENM"]  # in the mug's name and its description: more weight
    assert found(q="mug anchor") == []  # all words are required
    assert found(q="!!! :* & |") == []  # no word: nothing (and no tsquery syntax ever reaches PostgreSQL)
    assert found(q="") == ["PLT-ENM", "MUG-001", "ROPE-10M", "BTL-750"]  # no text: in stock first, then by name


def test_the_search_column_is_kept_by_postgresql_and_searched_through_its_gin_index(shelf):
    Product.objects.filter(sku="PLT-ENM").update(name="Enamel serving platter")  # no save(), no signal
    assert found(q="platter") == ["PLT-ENM"]
    with connection.cursor() as cursor:
        # What a big catalog makes the planner choose. Plain index scans are off too: else, on a
        # table whose statistics say it is tiny, walking the primary key in GROUP BY order and
        # filtering each row can look cheaper than the GIN index (CI saw that plan once); only
        # a bitmap scan can use a condition's index, so the plan shows whether this one can.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        plan = str(search.products(search.Filters(q="platter")).explain())
    assert "product_search" in plan, plan


def test_a_department_lists_its_own_products_and_those_below_it(shelf):
    galley = Category.objects.get(slug="galley")
    assert sorted(found(category=galley)) == ["BTL-750", "MUG-001", "PLT-ENM"]
    assert found(category=Category.objects.get(slug="drinkware")) == ["MUG-001", "BTL-750"]  # sold out last


def test_filters_and_sorts(shelf):
    assert found(in_stock=True) == ["PLT-ENM", "MUG-001", "ROPE-10M"]
    assert found(min_price=1500, max_price=3500, sort="price") == ["MUG-001", "BTL-750"]
    assert found(sort="-price") == ["ROPE-10M", "BTL-750", "MUG-001", "PLT-ENM"]
    assert found(sort="name") == ["PLT-ENM", "MUG-001", "ROPE-10M", "BTL-750"]
    Product.objects.filter(sku="PLT-ENM").update(created_at="2030-01-01T00:00:00Z")
    assert found(sort="newest")[0] == "PLT-ENM"
    assert found(q="mug", sort="price") == ["MUG-001", "BTL-750"]


def test_a_category_loop_made_in_the_admin_does_not_hang_the_page(shelf):
    galley, drinkware = Category.objects.get(slug="galley"), Category.objects.get(slug="drinkware")
    Category.objects.filter(pk=galley.pk).update(parent=drinkware)  # galley under drinkware under galley
    assert sorted(found(category=galley)) == ["BTL-750", "MUG-001", "PLT-ENM"]


# --- the API ------------------------------------------------------------------------------

def test_the_api_searches_filters_by_category_and_paginates(api, shelf):
    assert [p["sku"] for p in api.get("/api/products/?search=mug").json()["results"]] == ["MUG-001", "BTL-750"]
    drinks = api.get("/api/products/?category=galley&page_size=2").json()
    assert drinks["count"] == 3 and [p["sku"] for p in drinks["results"]] == ["BTL-750", "MUG-001"]
    assert drinks["next"].endswith("/api/products/?category=galley&page=2&page_size=2")
    second = api.get("/api/products/?category=galley&page=2&page_size=2").json()
    assert [p["sku"] for p in second["results"]] == ["PLT-ENM"] and second["next"] is None
    assert second["results"][0] == {"sku": "PLT-ENM", "name": "Enamel plate", "unit_price": 1400, "currency": "usd",
                                    "available": 5, "category": "galley"}
    assert api.get("/api/products/?category=no-such-thing").json() == {"count": 0, "next": None, "previous": None,
                                                                       "results": []}


@pytest.mark.parametrize("query, field", [("page=0", "page"), ("page=x", "page"), ("page_size=101", "page_size"),
                                          ("category=a%20b", "category"), ("search=" + "a" * 101, "search"),
                                          ("page=", "page")])
def test_the_api_refuses_a_bad_query_naming_the_parameter(api, shelf, query, field):
    response = api.get(f"/api/products/?{query}")
    assert response.status_code == 400 and list(response.json()["errors"]) == [field]


def test_a_page_past_the_last_is_404(api, shelf):
    response = api.get("/api/products/?page=9")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
