"""The shop's catalog pages: the home page (every product, by department), a department,
search results, a product with its pictures. Finding and filtering is catalog.search's work;
these views read the query string, paginate and pick what each page shows."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import render
from django.urls import reverse

from catalog import search
from catalog.availability import units, with_available
from catalog.models import Category, Product, ProductImage
from storefront.forms import ProductFilterForm
from storefront.responses import not_found

PAGE_SIZE = 24
SHELF = 4  # products per department on the home page (one row); its page lists them all
PICTURES = Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"))
SHOP_CURRENCY = "usd"  # the demo shop's; the price filter reads amounts in it


class Departments:
    """The category tree, read once per page (a few dozen rows at most)."""

    def __init__(self):
        self.all = list(Category.objects.all())
        self.by_id = {c.pk: c for c in self.all}
        self.by_slug = {c.slug: c for c in self.all}
        for category in self.all:
            category.child_list = []
        for category in self.all:
            if category.parent_id in self.by_id:
                self.by_id[category.parent_id].child_list.append(category)
        self.top = [c for c in self.all if c.parent_id is None]

    def ancestors(self, category):
        """From the top department down to `category`'s parent."""
        chain, seen = [], set()
        parent = self.by_id.get(category.parent_id)
        while parent is not None and parent.pk not in seen:
            seen.add(parent.pk)
            chain.insert(0, parent)
            parent = self.by_id.get(parent.parent_id)
        return chain

    def top_of(self, category_id):
        category = self.by_id.get(category_id)
        if category is None:
            return None
        chain = self.ancestors(category)
        return chain[0] if chain else category

    def choices(self):
        """(slug, label) for a select: each department followed by what is below it, indented."""
        out = []

        def walk(nodes, depth):
            for node in nodes:
                out.append((node.slug, "\u2003" * depth + node.name))
                walk(node.child_list, depth + 1)

        walk(self.top, 0)
        return out


def catalog(request):
    """Home: a tile per top-level department, then a shelf for each (in their order) with its
    first SHELF products as the department's page sorts them and a link to all of them, then
    every product that has no department (no page lists those)."""
    departments = Departments()
    products = list(search.products(search.Filters()))
    sections = {dept.pk: {"department": dept, "products": []} for dept in departments.top}
    other = {"department": None, "products": []}
    for product in products:
        top = departments.top_of(product.category_id)
        (sections[top.pk] if top is not None else other)["products"].append(product)
    sections = [s for s in sections.values() if s["products"]] + ([other] if other["products"] else [])
    for section in sections:
        section["count"] = len(section["products"])
        if section["department"] is not None:
            # Sixty cards made the page twenty times slower than the twelve it had; a shelf
            # of one row keeps it quick whatever the catalog's size.
            section["products"] = section["products"][:SHELF]
    # Pictures only for the cards shown (a tile shows its shelf's first picture).
    prefetch_related_objects([p for s in sections for p in s["products"]], PICTURES)
    tiles = [{"department": s["department"], "picture": _first_picture(s["products"]), "count": s["count"]}
             for s in sections if s["department"] is not None]
    return render(request, "storefront/catalog.html", {
        "sections": sections, "tiles": tiles, "product_count": len(products)})


def category_page(request, slug):
    departments = Departments()
    category = departments.by_slug.get(slug)
    if category is None:
        return not_found(request)
    return _listing(request, departments, category=category)


def search_page(request):
    return _listing(request, Departments())


def _listing(request, departments, category=None):
    """A page of products: a department's, or the search results (the query string's q and
    filters), paginated."""
    sorts = [(key, label) for key, (label, _) in search.SORTS.items()
             if key != "relevance" or (request.GET.get("q") or "").strip()]
    form = ProductFilterForm(request.GET, categories=departments.choices(), sorts=sorts, currency=SHOP_CURRENCY)
    form.is_valid()
    chosen = category or departments.by_slug.get(form.value("category", ""))
    filters = search.Filters(q=form.value("q", "") if category is None else "", category=chosen,
                             in_stock=bool(form.value("in_stock", False)), min_price=form.value("min_price"),
                             max_price=form.value("max_price"), sort=form.value("sort", ""))
    searching = category is None
    narrowed = bool(filters.in_stock or filters.min_price is not None or filters.max_price is not None
                    or (searching and chosen))
    # The search page with nothing asked shows help and the departments, not all sixty products.
    asked = bool(not searching or filters.q or narrowed)
    results = search.products(filters).prefetch_related(PICTURES) if asked else Product.objects.none()
    paginator = Paginator(results, PAGE_SIZE)
    page = paginator.get_page(form.value("page", 1))
    base = reverse("storefront:search") if searching else reverse("storefront:category", args=[category.slug])
    kept = request.GET.copy()
    kept.pop("page", None)
    unfiltered = base + (f"?{urlencode({'q': filters.q})}" if searching and filters.q else "")
    canonical = unfiltered
    if page.number > 1:
        canonical += ("&" if "?" in canonical else "?") + f"page={page.number}"
    return render(request, "storefront/listing.html", {
        "form": form, "filters": filters, "category": category, "chosen": chosen, "searching": searching,
        "ancestors": departments.ancestors(category) if category else [],
        "children": category.child_list if category else [], "departments": departments.top,
        "page": page, "paginator": paginator, "query_string": kept.urlencode(), "base": base,
        "narrowed": narrowed, "unfiltered": unfiltered, "asked": asked, "canonical_path": canonical,
    })


def product_context(product):
    """What the product page shows (also when the add-to-cart form comes back with an error)."""
    departments = Departments()
    category = departments.by_id.get(product.category_id)
    crumbs = (departments.ancestors(category) + [category]) if category else []
    return {"product": product, "pictures": list(product.images.all()), "available": units(product),
            "crumbs": crumbs}


def product_for(sku):
    return with_available(Product.objects.filter(sku=sku, active=True)).prefetch_related(PICTURES).first()


def product_detail(request, sku):
    product = product_for(sku)
    if product is None:
        return not_found(request)
    return render(request, "storefront/product.html", product_context(product))


def _first_picture(products):
    for product in products:
        pictures = list(product.images.all())
        if pictures and pictures[0].renditions:
            return pictures[0]
    return None
