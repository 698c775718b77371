"""The products list is cached in Redis and never stale after a change: every change to a
product or its stock (a checkout, a failed payment, the admin) moves the catalog's version on."""

import json

import pytest
from django.core.cache import cache

from catalog.models import Product
from inventory.models import Stock
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the version moves on commit


def available(api):
    return {p["sku"]: p["available"] for p in api.get("/api/products/").json()["results"]}


def stored_key():
    """The default page's key (it ends with a hash of the host its links name)."""
    keys = cache._cache.get_client().keys(cache.make_key("products.json:*"))
    assert len(keys) == 1, keys
    return keys[0].decode().split(":", 2)[2]


def test_the_list_is_served_from_the_cache_until_the_catalog_changes(api, product, checkout_body, broker,
                                                                     django_assert_num_queries):
    assert available(api) == {"MUG-001": 50}
    with django_assert_num_queries(0):
        assert available(api) == {"MUG-001": 50}  # cached: no query

    api.post("/api/orders/", checkout_body(), format="json")  # 2 mugs sold
    assert available(api) == {"MUG-001": 48}

    Product.objects.filter(sku="MUG-001").update(unit_price=1)  # a bulk update bypasses signals...
    assert api.get("/api/products/").json()["results"][0]["unit_price"] == 1800  # ...so it is not seen until a change
    ProductFactory(sku="CAP-1", stock__available=3)  # a save through the ORM is one
    assert available(api) == {"MUG-001": 48, "CAP-1": 3}


def test_a_stale_build_is_never_served(api, product):
    from catalog import cache as catalog_cache

    assert available(api) == {"MUG-001": 50}
    key = stored_key()
    stale = cache.get(key)
    Stock.objects.filter(product=product).update(available=7)
    catalog_cache._bump()  # what a commit does after a change
    cache.set(key, stale)  # a slow reader stores what it built before the change

    assert available(api) == {"MUG-001": 7}


def test_without_redis_the_list_comes_from_the_database(api, product, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", down)

    assert available(api) == {"MUG-001": 50}


class Exploit:
    """Unpickling this creates a file: proof that a pickle written to Redis was run."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_cache_stores_json_and_never_unpickles_what_someone_wrote_to_redis(api, product, tmp_path):
    import pickle

    assert available(api) == {"MUG-001": 50}
    client = cache._cache.get_client(write=True)
    key = stored_key()
    stored = client.get(cache.make_key(key))
    version, body = json.loads(stored)  # JSON, readable by anyone, runnable by no one
    assert json.loads(body)["results"][0]["sku"] == "MUG-001"

    marker = tmp_path / "pwned"
    client.set(cache.make_key(key), pickle.dumps(Exploit(str(marker))))  # someone on Redis's network

    assert available(api) == {"MUG-001": 50}  # built afresh from the database
    assert not marker.exists()
