"""`make run`'s embedded servers keep their ports across restarts (var/<service>/port), so the
URLs in var/devservices.env, and in every shell that sourced it, stay right; a port that
something else took meanwhile is replaced, and the new one kept."""

import socket

import redis

from harbor.devservices.servers import Redis


def start(root):
    return Redis(root, durable=False).start()


def test_a_restarted_server_listens_on_the_port_it_had(tmp_path):
    first = start(tmp_path)
    port = first.port
    first.stop()

    second = start(tmp_path)
    try:
        assert second.port == port
        assert (tmp_path / "redis" / "port").read_text().strip() == str(port)
        assert redis.Redis(port=port).ping()
    finally:
        second.stop()


def test_a_port_taken_meanwhile_is_replaced_and_the_new_one_kept(tmp_path):
    first = start(tmp_path)
    port = first.port
    first.stop()
    squatter = socket.socket()
    # The first server's closed connections may linger in TIME_WAIT on that port.
    squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    squatter.bind(("127.0.0.1", port))
    squatter.listen()
    try:
        second = start(tmp_path)
        second.stop()
    finally:
        squatter.close()

    assert second.port != port
    assert (tmp_path / "redis" / "port").read_text().strip() == str(second.port)
    third = start(tmp_path)
    third.stop()
    assert third.port == second.port
