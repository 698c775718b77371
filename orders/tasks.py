import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="orders.tasks.fulfill_order")
def fulfill_order(order_id):
    """Charge, label and receipt one order. (Foundation stage: it only logs.)"""
    logger.info("fulfill_order(%s) received", order_id)
