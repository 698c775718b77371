"""The multi-host harness's numbers (tests/cluster/stream.py summarize), on plain data: what
"recovered" and "drained" mean in its tables."""

from tests.cluster.stream import summarize

FAULT, HEALED = 100.0, 160.0


def test_recovery_is_measured_from_the_fault_and_the_backlog_is_what_was_placed_before_it_ended():
    rows = {  # id: (status, created, first final, fulfilled)
        "before": ("fulfilled", 90.0, 91.0, 91.0),
        "stuck": ("fulfilled", 120.0, 175.0, 175.0),  # placed during the fault: part of the backlog
        "first-after": ("fulfilled", 101.0, 104.0, 104.0),
        "declined": ("payment_failed", 150.0, 151.0, None),
        "later": ("fulfilled", 170.0, 190.0, 190.0),  # placed after the heal: not the backlog
    }
    charges = {"before": 1, "stuck": 1, "first-after": 1, "later": 1}
    n = summarize(list(rows), rows, charges, FAULT, HEALED)
    assert n["first_fulfilled_after_fault_s"] == 4.0
    assert n["backlog_drained_s"] == 75.0
    assert (n["placed"], n["final"], n["charged"], n["doubled"], n["lost"]) == (5, 5, 4, 0, 0)
    assert n["max_s"] == 55.0


def test_an_order_not_final_is_lost_and_leaves_the_backlog_undrained():
    rows = {"a": ("pending", 120.0, None, None), "b": ("fulfilled", 90.0, 92.0, 92.0)}
    n = summarize(["a", "b", "never-stored"], rows, {"b": 2}, FAULT, HEALED)
    assert n["lost"] == 2 and n["doubled"] == 1 and n["backlog_drained_s"] is None
