"""Run localstripe like `localstripe --port N [--from-scratch]`, with two changes.

Stock localstripe binds every interface (`::`) and pickles its whole store to the
fixed path /tmp/localstripe.pickle after every write, so two instances on one machine
(a `make run` and a test run) would overwrite each other's state. Here each instance
binds 127.0.0.1 and keeps its pickle at `--state`.
"""

import argparse
import logging
import pickle
import socket

from aiohttp import web
from localstripe import resources, server


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", required=True, help="where to keep this instance's pickle")
    parser.add_argument("--from-scratch", action="store_true", help="ignore a pickle left by a previous run")
    args = parser.parse_args()

    def load(store):
        try:
            with open(args.state, "rb") as f:
                store.clear()
                store.update(pickle.load(f))
        except FileNotFoundError:
            pass

    def dump(store):
        with open(args.state, "wb") as f:
            pickle.dump(store, f, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    if not args.from_scratch:
        resources.store.try_load_from_disk()

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    logging.basicConfig(level=logging.INFO)
    web.run_app(server.app, sock=sock, print=None)


if __name__ == "__main__":
    main()
