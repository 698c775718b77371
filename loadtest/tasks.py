from celery import shared_task


@shared_task(name="loadtest.tasks.noop")
def noop():
    """The benchmark's yardstick for the pipeline: what a Celery worker does with nothing to do
    (its result stored like every task's, in django-celery-results)."""
