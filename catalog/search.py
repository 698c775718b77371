"""Finding products: PostgreSQL full-text search, filters and sorting, for the storefront's
search and category pages and the API alike.

The text is matched against `Product.search_vector` (name and SKU weigh A, the description C;
English stemming; a stored generated column under a GIN index). Each word the shopper typed
becomes a prefix term (`mug:*`), all of them required, so "enam mu" finds the enamel mug as
it is being typed, "mugs" finds "mug" (stemming), and "MUG-001" finds that SKU (the parser
splits it into "mug" and "001"). Matches are ranked by `ts_rank` (weights: a hit in the name
beats one in the description). Only letters and digits reach the query: what a shopper types
can never be tsquery syntax.
"""

import re
from dataclasses import dataclass, field

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, F, Value, When
from django.db.models.functions import Lower

from catalog.availability import in_stock, with_available
from catalog.models import SEARCH_CONFIG, Category, Product

MAX_QUERY = 100  # characters of the search text that count
MAX_TERMS = 8
WORD = re.compile(r"\w+", re.UNICODE)

SORTS = {
    # key: (label, ordering). "relevance" needs a text; without one it falls back to "featured".
    "relevance": ("Best match", None),
    "featured": ("Featured", None),
    "price": ("Price: low to high", [F("unit_price").asc(), "sku"]),
    "-price": ("Price: high to low", [F("unit_price").desc(), "sku"]),
    "newest": ("Newest", [F("created_at").desc(), "sku"]),
    "name": ("Name", [Lower("name"), "sku"]),
}
# Without a search text: in-stock first, then the category's own order, then the name.
FEATURED = [F("category__position").asc(nulls_last=True), Lower("name"), "sku"]


def terms(text):
    """The words of a search text, lowercased, at most MAX_TERMS of them."""
    return [word.lower() for word in WORD.findall((text or "")[:MAX_QUERY])][:MAX_TERMS]


def text_query(text):
    """A SearchQuery requiring every word as a prefix, or None if the text has no words."""
    words = terms(text)
    if not words:
        return None
    # \w+ cannot hold tsquery syntax (quotes, &, |, !, :, parentheses), so "raw" is safe here.
    return SearchQuery(" & ".join(f"{word}:*" for word in words), search_type="raw", config=SEARCH_CONFIG)


@dataclass
class Filters:
    """What the shopper asked for; every field optional."""

    q: str = ""
    category: Category | None = None
    in_stock: bool = False
    min_price: int | None = None  # minor units
    max_price: int | None = None
    sort: str = ""
    # The categories the search looked in (the category and everything under it).
    category_ids: list = field(default_factory=list)


def descendants(category, categories=None):
    """The ids of `category` and of every category below it."""
    categories = categories if categories is not None else list(Category.objects.values_list("id", "parent_id"))
    children = {}
    for cid, parent in categories:
        children.setdefault(parent, []).append(cid)
    found, todo = [], [category.pk]
    while todo:
        cid = todo.pop()
        if cid in found:  # a cycle someone made in the admin: stop, do not loop
            continue
        found.append(cid)
        todo.extend(children.get(cid, []))
    return found


def products(filters):
    """The active products matching `filters`, each with `available` (and `rank` when
    searching), in the order asked for. A text without any word matches nothing."""
    queryset = with_available(Product.objects.filter(active=True)).select_related("category")
    sort = filters.sort if filters.sort in SORTS else ""
    if filters.q.strip():
        query = text_query(filters.q)
        if query is None:
            return queryset.none()
        queryset = queryset.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query))
        sort = sort or "relevance"
    elif sort == "relevance" or not sort:
        sort = "featured"
    if filters.category is not None:
        filters.category_ids = descendants(filters.category)
        queryset = queryset.filter(category_id__in=filters.category_ids)
    if filters.in_stock:
        queryset = queryset.filter(in_stock())
    if filters.min_price is not None:
        queryset = queryset.filter(unit_price__gte=filters.min_price)
    if filters.max_price is not None:
        queryset = queryset.filter(unit_price__lte=filters.max_price)
    if sort == "relevance":
        return queryset.order_by(F("rank").desc(), Lower("name"), "sku")
    if sort == "featured":
        return queryset.order_by(Case(When(in_stock(), then=Value(0)), default=Value(1)), *FEATURED)
    return queryset.order_by(*SORTS[sort][1])
