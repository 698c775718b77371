"""The catalog's pages as HTML: home by department, a department, search results (and their
empty states), a product's gallery and structured data; the pictures' thumbnails and how they
are served; what search engines read (meta descriptions, canonical links, sitemap, robots)."""

import json
import re

import pytest
from django.test import Client

from catalog import images
from catalog.models import ProductImage
from storefront.views.catalog import SHELF
from tests.factories import CategoryFactory, ProductFactory, picture_file

pytestmark = pytest.mark.django_db(transaction=True)  # pictures get their thumbnails on commit


@pytest.fixture
def client():
    return Client()


@pytest.fixture
def shop_shelf():
    clothing = CategoryFactory(slug="clothing", name="Clothing", description="Tees and caps for salt air.")
    tees = CategoryFactory(slug="tees", name="Tees", parent=clothing)
    mug = ProductFactory(sku="MUG-001", name="Harbor enamel mug", unit_price=1800,
                         description="A white enamel mug.", stock__available=20)
    tee = ProductFactory(sku="TEE-1", name="Lighthouse tee", unit_price=2600, category=tees, stock__available=0)
    caps = [ProductFactory(sku=f"CAP-{n:02}", name=f"Deckhand cap {n:02}", category=clothing) for n in range(25)]
    return {"clothing": clothing, "tees": tees, "mug": mug, "tee": tee, "caps": caps}



def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_home_shows_a_shelf_per_department_with_a_tile_for_each_and_every_product_without_one(client, shop_shelf):
    page = html(client.get("/"))
    # Clothing's first SHELF (4) of its 26 (tees below it included), and the mug, which no
    # department's page lists.
    assert page.count('class="card"') == SHELF + 1 and page.count(">Add to cart</button>") == SHELF + 1
    assert ">All 26 in clothing</a>" in page and ">26 products</span>" in page
    assert 'href="/categories/clothing/"' in page and ">More from the shop<" in page  # the mug has no category
    assert '<meta name="description" content="Sturdy goods' in page
    assert '<link rel="canonical" href="http://testserver/">' in page


def test_a_department_page_lists_what_is_below_it_paginated_with_its_links(client, shop_shelf):
    page = html(client.get("/categories/clothing/"))
    assert "26 products · page 1 of 2" in page and page.count('class="card"') == 24
    assert 'href="/categories/tees/"' in page  # the shelf below it
    assert '<meta name="description" content="Tees and caps for salt air.">' in page
    second = html(client.get("/categories/clothing/?page=2"))
    assert second.count('class="card"') == 2
    assert '<link rel="canonical" href="http://testserver/categories/clothing/?page=2">' in second
    assert client.get("/categories/no-such-thing/").status_code == 404


def test_filters_narrow_a_department_and_a_bad_value_is_shown_not_used(client, shop_shelf):
    page = html(client.get("/categories/clothing/?in_stock=1&sort=price"))
    assert "Lighthouse tee" not in page and "25 products" in page
    page = html(client.get("/categories/clothing/?max_price=abc"))
    assert "26 products" in page and "Enter an amount such as" in page


def test_search_results_and_the_states_that_help(client, shop_shelf):
    page = html(client.get("/search/?q=enamel+mu"))
    assert "1 product" in page and "Harbor enamel mug" in page and "Results for “enamel mu”" in page
    assert '<link rel="canonical" href="http://testserver/search/?q=enamel+mu">' in page
    nothing = html(client.get("/search/?q=anchor"))
    assert "Nothing matches “anchor”" in nothing and "Check the spelling" in nothing
    assert 'href="/categories/clothing/"' in nothing  # and where to browse instead
    narrowed = html(client.get("/search/?q=tee&in_stock=1"))
    assert "with these filters" in narrowed and "Clear the filters" in narrowed
    empty = html(client.get("/search/"))
    assert "Type a product, a material or a SKU" in empty and 'class="card"' not in empty


def test_a_product_page_shows_its_gallery_in_order_with_webp_and_jpeg_thumbnails(client, shop_shelf):
    mug = shop_shelf["mug"]
    second = ProductImage.objects.create(product=mug, image=picture_file("side.jpg"), alt_text="The mug, side",
                                         position=2)
    first = ProductImage.objects.create(product=mug, image=picture_file("front.jpg", colour=(200, 30, 30)),
                                        alt_text="The mug, front", position=1)
    for picture in (first, second):
        picture.refresh_from_db()
        assert [w for _, w in picture.renditions["webp"]] == [120, 240]  # no wider than the upload (300 px)
        assert [w for _, w in picture.renditions["jpeg"]] == [120, 240]
    page = html(client.get("/products/MUG-001/"))
    assert page.index('alt="The mug, front"') < page.index('alt="The mug, side"')
    sources = re.findall(r'<source type="image/webp" srcset="([^"]+)"', page)
    assert sources and all(re.fullmatch(r"/media/catalog/thumbs/\S+\.webp 120w, /media/catalog/thumbs/\S+\.webp 240w",
                                        s) for s in sources)
    assert re.search(r'<img src="/media/catalog/thumbs/\S+\.jpg" srcset="\S+\.jpg 120w, \S+\.jpg 240w"', page)
    assert page.count('href="#picture-') == 2  # the thumbnails that bring each picture into view
    thumbnail = sources[0].split(" ")[0]
    served = client.get(thumbnail)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    assert served["Cache-Control"] == "public, max-age=31536000, immutable"


def test_the_product_page_carries_product_structured_data_with_an_offer(client, shop_shelf):
    ProductImage.objects.create(product=shop_shelf["tee"], image=picture_file(), alt_text="The tee")
    page = html(client.get("/products/TEE-1/"))
    (raw,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    data = json.loads(raw)
    assert data["@type"] == "Product" and data["sku"] == "TEE-1" and data["name"] == "Lighthouse tee"
    assert data["offers"] == {"@type": "Offer", "url": "http://testserver/products/TEE-1/", "priceCurrency": "USD",
                              "price": "26.00", "availability": "https://schema.org/OutOfStock",
                              "itemCondition": "https://schema.org/NewCondition"}
    assert data["image"][0].startswith("http://testserver/media/catalog/thumbs/")


def test_structured_data_cannot_close_its_script_element(client, db):
    ProductFactory(sku="X-1", name="</script><script>alert(1)</script>")
    page = html(client.get("/products/X-1/"))
    assert "<script>alert(1)" not in page and "\\u003C/script\\u003E" in page


def test_only_the_catalogs_pictures_are_served_from_media(client, settings, shop_shelf):
    label = settings.MEDIA_ROOT / "labels" / "secret.pdf"
    label.parent.mkdir(parents=True, exist_ok=True)
    label.write_bytes(b"%PDF-1.4 a label")
    for path in ("/media/labels/secret.pdf", "/media/catalog/../labels/secret.pdf",
                 "/media/catalog/%2e%2e/labels/secret.pdf", "/media/catalog/..%2flabels/secret.pdf"):
        response = client.get(path)
        assert response.status_code in (400, 404) and b"a label" not in response.content, path


def test_a_picture_without_thumbnails_yet_shows_a_tile_not_a_broken_image(client, shop_shelf):
    picture = ProductImage.objects.create(product=shop_shelf["mug"], image=picture_file(), alt_text="The mug")
    ProductImage.objects.filter(pk=picture.pk).update(renditions={})
    page = html(client.get("/products/MUG-001/"))
    assert "<picture" not in page and 'class="product-art no-picture"' not in page and "no-picture" in page


def test_sitemap_and_robots(client, shop_shelf):
    sitemap = html(client.get("/sitemap.xml"))
    for path in ("/", "/categories/clothing/", "/categories/tees/", "/products/MUG-001/", "/products/CAP-24/"):
        assert f"<loc>http://testserver{path}</loc>" in sitemap
    robots = client.get("/robots.txt")
    assert robots["Content-Type"] == "text/plain; charset=utf-8"
    body = robots.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in body and "Disallow: /admin/" in body
    assert "Disallow: /cart/" not in body and "Disallow: /products/" not in body


def test_thumbnails_are_made_once_per_file_and_recorded_on_the_picture(shop_shelf, monkeypatch):
    picture = ProductImage.objects.create(product=shop_shelf["mug"], image=picture_file(), alt_text="The mug")
    picture.refresh_from_db()
    made = [name for key in ("webp", "jpeg") for name, _ in picture.renditions[key]]
    assert all(images.storage().exists(name) for name in made) and len(made) == 4
    from sorl.thumbnail import default

    calls = []
    monkeypatch.setattr(default.engine, "write", lambda *args: calls.append(args))
    images.refresh(picture)  # again: the files are there, nothing is drawn again
    assert calls == []


def test_the_admin_edits_categories_and_a_products_pictures_with_their_thumbnails(admin_client, shop_shelf):
    picture = ProductImage.objects.create(product=shop_shelf["mug"], image=picture_file(), alt_text="The mug")
    picture.refresh_from_db()
    page = html(admin_client.get(f"/admin/catalog/product/{shop_shelf['mug'].pk}/change/"))
    assert 'name="images-0-alt_text"' in page and 'value="The mug"' in page
    assert images.srcsets(picture.renditions)["src"] in page  # the thumbnail, made on save
    assert "Tees" in html(admin_client.get("/admin/catalog/category/"))
    upload = admin_client.post(f"/admin/catalog/product/{shop_shelf['tee'].pk}/change/", {
        "sku": "TEE-1", "name": "Lighthouse tee", "description": "", "unit_price": 2600, "currency": "usd",
        "active": "on", "weight_grams": 220, "tax_class": "standard", "category": shop_shelf["tees"].pk,
        "images-TOTAL_FORMS": 1, "images-INITIAL_FORMS": 0, "images-MIN_NUM_FORMS": 0, "images-MAX_NUM_FORMS": 1000,
        "images-0-image": picture_file("tee.jpg"), "images-0-alt_text": "The tee, folded", "images-0-position": 0,
        # The stock inline (a row per warehouse), left as it is.
        "stocks-TOTAL_FORMS": 0, "stocks-INITIAL_FORMS": 0, "stocks-MIN_NUM_FORMS": 0, "stocks-MAX_NUM_FORMS": 1000,
    })
    assert upload.status_code == 302, upload.context["errors"] if upload.context else upload
    added = ProductImage.objects.get(product=shop_shelf["tee"])
    assert added.alt_text == "The tee, folded" and added.renditions["webp"]
