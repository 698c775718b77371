from rest_framework import serializers

from catalog.models import Product
from catalog.search import MAX_QUERY


class ProductSerializer(serializers.ModelSerializer):
    # Units that can be bought now (catalog.availability: the list's querysets annotate it).
    available = serializers.IntegerField(read_only=True, help_text="Units in the warehouses (all of them: no address is known here).")
    category = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True,
                                            help_text="The product's category (its slug), or null.")

    class Meta:
        model = Product
        fields = ["sku", "name", "unit_price", "currency", "available", "category"]


class SearchText(serializers.CharField):
    """Any text, its length counted as sent (catalog.search reads only its words)."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)
        self.validators = [v for v in self.validators if v.__class__.__name__ != "ProhibitNullCharactersValidator"]


class ProductFilterSerializer(serializers.Serializer):
    """GET /api/products/'s filters (the schema's query parameters; page and page_size are the
    pagination's)."""

    search = SearchText(required=False, allow_blank=True, max_length=MAX_QUERY,
                                   help_text="Words to find in the name, description or SKU (each as a prefix: "
                                             "`enam mu` finds the enamel mug), best matches first.")
    category = serializers.RegexField(r"^[-a-zA-Z0-9_]*$", required=False, allow_blank=True, max_length=100,
                                      trim_whitespace=False,
                                      help_text="A category's slug: its products and those of the categories "
                                                "below it (empty: every category). An unknown slug lists nothing.")


MAX_PAGE, MAX_PAGE_SIZE = 100_000, 100


class ProductQuerySerializer(ProductFilterSerializer):
    """The whole query string, checked before anything is looked up."""

    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)

    def to_internal_value(self, data):
        # DRF reads an empty query parameter as absent; "?page=" is not a page number.
        blank = {name: ["A valid integer is required."] for name in ("page", "page_size") if data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)
