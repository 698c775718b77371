"""Render docs/images/architecture.svg to architecture.png (what the README shows), with the
Chromium the browser tests use: `.venv/bin/python docs/images/render.py`."""

import os
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent

with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=["--no-sandbox"])
    page = browser.new_page(viewport={"width": 1200, "height": 520}, device_scale_factor=2)
    page.goto((HERE / "architecture.svg").as_uri())
    page.screenshot(path=HERE / "architecture.png")
    browser.close()
