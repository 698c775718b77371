"""Layers point one way: harbor/ is the platform and imports no domain app; catalog/ and
payments/ sit below orders/, which orchestrates; storefront/ sits on top."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

DOMAIN = {"catalog", "payments", "orders", "notifications", "storefront"}
MAY_NOT_IMPORT = {
    "harbor": DOMAIN,
    "catalog": DOMAIN - {"catalog"},
    "payments": {"orders", "notifications", "storefront"},
    "orders": {"storefront"},
    "notifications": {"storefront"},
}


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
