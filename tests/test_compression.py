"""The shop's HTML pages are gzip-compressed for browsers that ask; the JSON API is not."""

import gzip

import pytest
from django.test import Client

from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_pages_are_compressed_for_browsers_that_ask_and_the_api_is_not(db):
    for n in range(30):
        ProductFactory(sku=f"P-{n:02}", name=f"Deck thing {n}")
    client = Client(HTTP_ACCEPT_ENCODING="gzip, deflate")
    page = client.get("/")
    assert page["Content-Encoding"] == "gzip"
    assert "Deck thing 29" in gzip.decompress(page.content).decode()
    api = client.get("/api/products/")
    assert not api.has_header("Content-Encoding") and api.json()["count"] == 30
    plain = Client().get("/")
    assert not plain.has_header("Content-Encoding") and "Deck thing 29" in plain.content.decode()
