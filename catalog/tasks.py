from celery import shared_task

from catalog.audit import stock_drift


@shared_task(name="catalog.tasks.audit_stock")
def audit_stock():
    """Nightly: report (never fix) stock that disagrees with the order lines. The result,
    kept in django-celery-results, lists each drifting SKU."""
    drift = stock_drift()
    return {"products_with_drift": len(drift), "drift": drift}
