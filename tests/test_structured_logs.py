"""One grep for an order id shows its whole story: the checkout request's `request_id` and
the `order_id` ride along into every task it causes (django-structlog), on JSON lines."""

import json

from tests.conftest import eventually, wait_for_status


def lines_about(path, order_id):
    found = []
    for raw in path.read_text(errors="replace").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue
        if isinstance(line, dict) and line.get("order_id") == order_id:
            found.append(line)
    return found


def test_a_checkouts_request_id_and_order_id_follow_it_through_every_task(worker, api, product, checkout_body):
    response = api.post("/api/orders/", checkout_body(email="story@example.com"), format="json")
    order_id = response.json()["id"]
    assert wait_for_status(order_id, ("fulfilled",)).status == "fulfilled"

    def whole_story():
        lines = lines_about(worker.log_path, order_id)
        started = {line["task_id"]: line["task"] for line in lines if line.get("event") == "task_started"}
        succeeded = {started.get(line["task_id"]) for line in lines if line.get("event") == "task_succeeded"}
        return lines if {"orders.tasks.fulfill_order", "orders.tasks.create_label",
                         "notifications.tasks.on_event"} <= succeeded else None  # on_event: the receipt

    lines = eventually(whole_story, 20)
    assert lines, worker.tail()
    assert len({line["request_id"] for line in lines}) == 1  # the checkout request's, on every line
    assert all(line.get("task_id") for line in lines)
    assert {f"order {order_id}: pending → paid", f"order {order_id}: paid → fulfilled"} <= {
        line["event"].split(" (")[0] for line in lines}
    assert all(set(line) >= {"timestamp", "level", "logger", "event"} for line in lines)
    enqueued = [line["child_task_id"] for line in lines if line.get("event") == "task_enqueued"]
    assert len(enqueued) >= 2 and len(enqueued) == len(set(enqueued))  # each task the worker sent, logged once
