"""The multi-host harness (issue 20): Harbor on several test hosts, each a network namespace,
against a three-node RabbitMQ cluster, under five faults during a steady stream of orders.

    sudo make cluster-test                       # or: python -m tests.cluster --orders 300 --rate 4

net.py the hosts; broker.py the RabbitMQ cluster; hosts.py the data host and the shop's
processes; harness.py up and down; stream.py the orders and the numbers; scenarios.py the
faults and their proofs; run.py a scenario end to end and the report.

Never collected by `make test` (tests/conftest.py: collect_ignore): it needs root, takes about
a quarter of an hour and owns the machine's two cores meanwhile.
"""
