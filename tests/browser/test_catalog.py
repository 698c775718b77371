"""A shopper browses and searches the demo catalog in a real browser: departments, a shelf
below one, search with filters, sorting and pages, a product's gallery. The demo catalog is
seeded (sixty products with their drawn pictures and thumbnails) for each test."""

import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import Product
from storefront.views.catalog import SHELF


@pytest.fixture
def demo(shop):
    call_command("seed_catalog", verbosity=0)  # pictures are drawn once per session (their files stay)
    return shop


def scroll_through(page):
    """Bring every lazy picture into view (for a full-page screenshot showing them)."""
    page.evaluate("""async () => { for (let y = 0; y < document.body.scrollHeight; y += 600) {
        window.scrollTo(0, y); await new Promise(r => setTimeout(r, 60)); } window.scrollTo(0, 0); }""")
    page.wait_for_load_state("networkidle")


def test_a_shopper_browses_from_the_home_page_to_a_department_a_shelf_and_a_product(page, demo, screenshot):
    page.goto("/")
    tiles = page.locator(".tile")
    expect(tiles).to_have_count(6)
    expect(page.locator(".card")).to_have_count(6 * SHELF)  # a shelf of SHELF per department (ten in each)
    first = page.locator(".card picture img").first  # thumbnails, not placeholders
    expect(first).to_have_attribute("srcset", re.compile(r"\.jpg 120w, .*\.jpg 960w$"))
    assert page.evaluate("() => document.querySelector('.card picture img').naturalWidth") > 0
    scroll_through(page)
    screenshot("home")

    page.get_by_role("link", name=re.compile("^Clothing")).first.click()
    expect(page).to_have_url(re.compile("/categories/clothing/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Clothing")
    expect(page.locator(".results-count")).to_have_text("16 products")
    scroll_through(page)
    screenshot("category")

    page.get_by_role("link", name="Caps & hats").click()
    expect(page.locator(".results-count")).to_have_text("5 products")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_have_text(re.compile(r"Shop\s*/\s*Clothing\s*/\s*Caps & hats"))
    page.locator(".card", has_text="Deckhand cap, navy").get_by_role("link").click()
    expect(page).to_have_url(re.compile("/products/CAP-NVY/$"))


def test_search_with_filters_sorting_and_pages(page, demo, screenshot):
    page.goto("/")
    page.get_by_role("searchbox", name="Search the shop").fill("enamel")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/search/\?q=enamel$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Results for “enamel”")
    names = page.locator(".card-title").all_inner_texts()
    assert len(names) >= 5 and all("nam" in n.lower() or "mug" in n.lower() or "cup" in n.lower()
                                   or "flask" in n.lower() for n in names)
    scroll_through(page)
    screenshot("search-results")

    page.get_by_label("Sort by").select_option("-price")
    page.get_by_label("Max price ($)").fill("20")
    page.get_by_role("button", name="Show products").click()
    prices = [float(p.strip("$")) for p in page.locator(".card .price").all_inner_texts()]
    assert prices == sorted(prices, reverse=True) and max(prices) <= 20

    page.get_by_label("Search for").fill("")
    page.get_by_label("Max price ($)").fill("")
    page.get_by_label("In stock only").check()
    page.get_by_label("Sort by").select_option("price")
    page.get_by_role("button", name="Show products").click()
    in_stock = Product.objects.filter(active=True, stocks__available__gt=0).distinct().count()
    expect(page.locator(".results-count")).to_have_text(f"{in_stock} products · page 1 of 3")
    first_page = [float(p.strip("$")) for p in page.locator(".card .price").all_inner_texts()]
    page.get_by_role("link", name="Next page").click()
    expect(page.locator(".results-count")).to_contain_text("page 2 of 3")
    second_page = [float(p.strip("$")) for p in page.locator(".card .price").all_inner_texts()]
    assert len(first_page) == 24 and first_page == sorted(first_page) and max(first_page) <= min(second_page)
    expect(page.get_by_label("In stock only")).to_be_checked()  # the filters travel with the pages
    expect(page.locator(".card", has_text="Merino scarf")).to_have_count(0)  # sold out

    page.get_by_role("searchbox", name="Search the shop").fill("anchorage")
    page.get_by_role("button", name="Search").click()
    expect(page.locator(".no-results")).to_contain_text("Nothing matches “anchorage”")
    screenshot("search-no-results")
    page.locator(".no-results").get_by_role("link", name="MUG-001").click()
    expect(page.locator(".card-title")).to_have_text(["Harbor enamel mug"])


def test_a_product_gallery_shows_each_picture_from_its_thumbnail(page, demo, screenshot):
    product = next(p for p in Product.objects.filter(active=True) if p.images.count() == 3)
    page.goto(f"/products/{product.sku}/")
    slides = page.locator(".gallery-slide")
    expect(slides).to_have_count(3)
    track = page.locator("#gallery-track")

    def in_view(index):
        box, slide = track.bounding_box(), slides.nth(index).bounding_box()
        return abs(slide["x"] - box["x"]) < 2

    assert in_view(0)
    expect(slides.nth(0).locator("img")).to_have_attribute("alt", product.name)
    page.get_by_role("link", name="Picture 3 of 3").click()
    page.wait_for_function("() => Math.abs(document.getElementById('gallery-track').scrollLeft - "
                           "document.getElementById('gallery-track').clientWidth * 2) < 2")
    assert in_view(2) and not in_view(0)
    expect(page.get_by_role("link", name="Picture 3 of 3")).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="Picture 1 of 3")).not_to_have_attribute("aria-current", "true")
    screenshot("product-gallery")
    page.get_by_role("link", name="Picture 2 of 3").click()
    page.wait_for_function("() => Math.abs(document.getElementById('gallery-track').scrollLeft - "
                           "document.getElementById('gallery-track').clientWidth) < 2")
    expect(slides.nth(1).locator("img")).to_have_attribute("alt", f"{product.name}, close-up")
    webp = page.evaluate("() => document.querySelector('.gallery-slide img').currentSrc")
    assert webp.endswith(".webp")  # Chromium takes the WebP source; the JPEG is the fallback
