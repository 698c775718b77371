"""The pure parts of `manage.py soak` (loadtest/soak.py): no shop, no database."""

import random

from loadtest import soak

CELERY = ["/venv/bin/python", "/venv/bin/celery", "-A", "harbor", "worker", "-Q", "payments"]


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100
    assert soak.percentile(values, 50) == 50
    assert soak.percentile(values, 95) == 95
    assert soak.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert soak.percentile([7.5], 95) == 7.5
    assert soak.percentile([], 50) is None


def test_summary_counts_lost_double_charges_and_mismatches():
    statuses = {"a": "fulfilled", "b": "fulfilled", "c": "payment_failed", "d": "needs_review",
                "e": "pending", "f": "paid", "g": "fulfilled"}
    charges = {"a": 1, "b": 2, "f": 1, "g": 0, "other-run": 5}
    summary = soak.summarize(statuses, charges, [1.0, 2.0, 10.0], rejected={"409": 2}, kills=3,
                             duration=12.0, fulfilled_span=6.0)

    assert summary["placed"] == 7 and summary["rejected"] == 2
    assert (summary["fulfilled"], summary["payment_failed"], summary["needs_review"]) == (3, 1, 1)
    assert summary["lost"] == 2  # pending and paid are not final
    assert summary["double_charges"] == 1  # b; the other run's order is not ours
    assert summary["charge_mismatches"] == 2  # b (two charges), g (none)
    assert summary["charged_not_fulfilled"] == 1  # f
    assert (summary["p50"], summary["p95"]) == (2.0, 10.0)
    assert summary["throughput"] == 0.5 and summary["kills"] == 3


def test_table_is_aligned_and_has_a_markdown_form():
    summary = soak.summarize({"a": "fulfilled"}, {"a": 1}, [1.234], rejected={"409": 1})
    rows = soak.table_rows(summary)
    text = soak.render_table(rows).splitlines()

    assert len({len(line) for line in text}) == 1  # every line the same width
    narrow = soak.render_table([("placed", 5)]).splitlines()  # values narrower than the header
    assert len({len(line) for line in narrow}) == 1 and narrow[1].endswith("| value |")
    assert any("lost (not final after wait)" in line and line.rstrip(" |").endswith("0") for line in text)
    assert any("1 (409: 1)" in line for line in text)
    assert any("p50" in line and "1.23" in line for line in text)
    markdown = soak.render_table(rows, markdown=True).splitlines()
    assert markdown[:2] == ["| metric | value |", "|---|---:|"] and len(markdown) == len(rows) + 2


def test_plan_declines_every_kth_order_and_never_oversells():
    products = [{"sku": "A", "available": 3}, {"sku": "B", "available": 2}, {"sku": "C", "available": 0}]
    plan = soak.plan_orders(products, 5, 2, "run1", random.Random(1))

    skus = [body["lines"][0]["sku"] for _, body in plan]
    assert sorted(skus) == ["A", "A", "A", "B", "B"]
    assert [body["payment_method"] for _, body in plan] == [soak.CARD_OK, soak.CARD_DECLINED] * 2 + [soak.CARD_OK]
    assert len({key for key, _ in plan}) == 5
    assert all(body["lines"][0]["quantity"] == 1 for _, body in plan)


def test_only_pool_children_of_the_chosen_workers_are_candidates():
    procs = {
        1: (0, ["init"]),
        10: (1, ["make", "run"]),                                    # my shop
        11: (10, ["/bin/sh", "-c", "celery -A harbor worker -Q payments"]),
        12: (11, CELERY),                                            # my worker main
        13: (12, CELERY), 14: (12, CELERY),                          # its pool
        20: (1, ["python", "-m", "celery", "-A", "harbor", "worker"]),  # someone else's worker
        21: (20, ["python", "-m", "celery", "-A", "harbor", "worker"]),
        30: (1, ["/venv/bin/celery", "-A", "harbor", "beat"]),       # beat is not a worker
        31: (30, ["/venv/bin/celery", "-A", "harbor", "beat"]),
        40: (1, ["vim", "celery worker notes"]),
        41: (40, ["cat"]),
    }
    assert soak.pool_children(procs) == [13, 14, 21]
    assert soak.pool_children(procs, shop_pid=10) == [13, 14]
    assert soak.pool_children(procs, main_ok=lambda pid: pid == 20) == [21]
    assert soak.pool_children(procs, shop_pid=10, main_ok=lambda pid: pid == 20) == []
    assert soak.pool_children(procs, shop_pid=999) == []
