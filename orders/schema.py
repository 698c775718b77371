"""What the published schema says that drf-spectacular 0.30 has no decorator for: OpenAPI
links from a placed order (POST /api/orders/, 202 and 200) to its own pages. Clients and
schemathesis's stateful tests follow them with the `id` of the answer."""

LINKS = [
    ("GetOrder", "/api/orders/{id}/", "The order just placed: poll it for its status."),
    ("GetLabel", "/api/orders/{id}/label.pdf", "Its shipping label, once there is one (404 until then)."),
]


def add_order_links(result, generator, request, public):
    """A POSTPROCESSING_HOOKS entry (harbor/settings.py)."""
    paths = result["paths"]
    if "/api/orders/" not in paths:
        return result
    for status in ("200", "202"):
        paths["/api/orders/"]["post"]["responses"][status]["links"] = {
            name: {"operationId": paths[path]["get"]["operationId"], "parameters": {"id": "$response.body#/id"},
                   "description": description}
            for name, path, description in LINKS
        }
    return result
