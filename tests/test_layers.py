"""Layers point one way: harbor/ is the platform and imports no domain app; catalog/, the
pricing apps and payments/ sit below orders/, which orchestrates; storefront/ sits on top."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

# Bottom to top: harbor (the platform) → catalog → inventory → pricing (shipping, tax, discounts) →
# payments → orders → the consumers of the order's events (notifications: the e-mails; webhooks;
# returns), which learn of changes from the outbox (orders/outbox.py), never by being called from
# orders/ → storefront and accounts (the shopper's pages); demo (the demo shop's data) and loadtest
# sit on top of everything and nothing imports them.
LAYERS = [["catalog"], ["inventory"], ["shipping", "tax", "discounts"], ["payments"], ["orders"],
          ["notifications", "webhooks", "returns"], ["storefront", "accounts"], ["demo", "loadtest"]]
DOMAIN = {app for layer in LAYERS for app in layer}
MAY_NOT_IMPORT = {"harbor": DOMAIN}
for depth, layer in enumerate(LAYERS):
    for app in layer:
        MAY_NOT_IMPORT[app] = {other for higher in LAYERS[depth + 1:] for other in higher}
# Within the pricing layer, each prices on its own: none imports another; nor does one consumer
# of the order's events import another.
for side_by_side in (("shipping", "tax", "discounts"), ("notifications", "webhooks", "returns")):
    for app in side_by_side:
        MAY_NOT_IMPORT[app] |= set(side_by_side) - {app}


def imported_apps(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("package", sorted(MAY_NOT_IMPORT))
def test_a_package_imports_nothing_from_the_layers_above_it(package):
    root = Path(settings.BASE_DIR) / package
    offending = sorted(f"{path.relative_to(root.parent)} imports {app}"
                       for path in root.rglob("*.py") if "migrations" not in path.parts
                       for app in set(imported_apps(path)) & MAY_NOT_IMPORT[package])
    assert offending == []
