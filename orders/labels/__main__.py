"""`python -m orders.labels`: regenerate orders/fonts/printable.txt after changing the fonts."""

from orders.labels.fonts import PRINTABLE_FILE, printable_file

PRINTABLE_FILE.write_text(printable_file())
