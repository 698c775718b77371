"""Run localstripe like `localstripe --port N [--from-scratch]`, with these changes.

Stock localstripe binds every interface (`::`) and pickles its whole store to the
fixed path /tmp/localstripe.pickle after every write, so two instances on one machine
(a `make run` and a test run) would overwrite each other's state. Here each instance
binds 127.0.0.1 (or --host, e.g. the cluster harness's data host) and keeps its pickle at
`--state`, and that pickle is written atomically, on a timer and at shutdown (see
Persister), not after each write; a pickle that cannot be read is moved aside instead of
keeping the server from starting.
`--no-persist` (throwaway test instances) saves nothing.

Stock localstripe's card element (its fake Stripe.js) takes the number as 16 characters and
jumps to the expiry after the 16th, so "4242 4242 4242 4242", typed as the checkout page
shows it, spilled into the expiry fields, and the server took "4242 4242 4242 4" as a card.
Here the element keeps the digits only (shown in groups of four, as Stripe's own element
does) and the server refuses a number that is not all digits, as Stripe does
(CARD_NUMBER_JS, refuse_malformed_card_numbers).

Stock localstripe's fake Stripe.js also declares a top-level `class Element`, which every script
on the page then sees instead of the DOM's `Element` (a classic script's class declaration is a
global binding), so htmx, which tests `instanceof Element`, broke on any page that loaded it. The
class is served renamed (LocalstripeElement); real Stripe.js declares no such global.

Stock localstripe also lists objects by scanning its whole store, and it lists a charge's
refunds each time it shows the charge (so each time it shows a PaymentIntent): confirming
or retrieving a PaymentIntent cost ~5 ms more per 100 orders already in the store (21 ms
an order when empty, 240 ms after 4,000). TypeIndex keeps the store's objects by type, so
a list reads only its own type.
"""

import argparse
import asyncio
import contextlib
import logging
import os
import pickle
import socket
import time
from collections import defaultdict

from aiohttp import web
from localstripe import resources, server

logger = logging.getLogger("harbor.localstripe")


class Persister:
    """Saves the store to `path` at most once per `interval` seconds, and at shutdown.

    Why a timer: localstripe calls `store.dump_to_disk()` after every POST/PUT/DELETE
    and on every store item set or deleted, so a full pickle per write costs more with
    every object created. Here those calls only mark the store dirty; a task on the
    event loop saves it once per interval if it is dirty, and once more at shutdown
    (aiohttp turns SIGTERM/SIGINT into a clean shutdown, which runs our cleanup).

    Why atomic: a process killed while writing the pickle in place leaves it truncated,
    and the next start failed on it. We write a temp file next to it, fsync it, then
    `os.replace` it onto the path: at any instant the path holds the previous complete
    pickle or the new complete one, never a part of one.
    """

    def __init__(self, path, interval):
        self.path, self.interval = path, interval
        self.dirty = False
        self.writing = None  # the save handed to a thread, while it runs

    def mark_dirty(self):
        self.dirty = True

    def load(self):
        try:
            with open(self.path, "rb") as f:
                data = pickle.load(f)
            if not isinstance(data, dict):
                raise TypeError(f"expected a dict, found {type(data).__name__}")
        except FileNotFoundError:
            return
        except Exception as exc:  # truncated, garbage, unknown classes, wrong type...
            aside = f"{self.path}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
            os.replace(self.path, aside)
            logger.warning("cannot read %s (%r); moved it to %s and started with an empty store",
                           self.path, exc, aside)
            return
        resources.store.clear()
        resources.store.update(data)
        self.dirty = False  # unpickling the Store called dump_to_disk for every item

    def snapshot(self):
        # Pickled in the event loop, in one go: aiohttp runs one thing at a time, so no
        # request handler can change the store halfway through, and the bytes are a
        # consistent copy. It blocks the loop for as long as pickling takes, at most once
        # per interval, which is acceptable; the slow part (writing, fsync) goes to a thread.
        self.dirty = False
        return pickle.dumps(resources.store, protocol=pickle.HIGHEST_PROTOCOL)

    def write(self, data):
        started = time.monotonic()
        tmp = f"{self.path}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # make the rename itself durable
        finally:
            os.close(dir_fd)
        logger.info("saved %d objects to %s (%d KB in %.0f ms)", len(resources.store), self.path,
                    len(data) // 1024, (time.monotonic() - started) * 1000)

    async def save_every_interval(self):
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.interval)
            if not self.dirty:
                continue
            self.writing = loop.run_in_executor(None, self.write, self.snapshot())
            try:
                # Shielded: being cancelled at shutdown must not abandon a write midway;
                # cleanup waits for it before the final save, so saves land in order.
                await asyncio.shield(self.writing)
            except Exception:
                logger.exception("could not save %s; will retry", self.path)
                self.dirty = True

    async def cleanup_ctx(self, app):
        task = asyncio.create_task(self.save_every_interval())
        yield
        # Runs after aiohttp has stopped serving, so the final save includes every request.
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self.writing is not None:
            with contextlib.suppress(Exception):
                await self.writing
        # Unconditionally: some changes (localstripe's delayed payment callbacks) set
        # attributes on stored objects without marking the store dirty.
        self.write(self.snapshot())


class TypeIndex:
    """localstripe's store ({"<object>:<id>": obj}) indexed by object type, in the store's
    insertion order, kept up to date by Store.__setitem__/__delitem__ and rebuilt after a
    load (which fills the store with dict.update, bypassing them)."""

    def __init__(self):
        self.by_type = defaultdict(dict)

    @staticmethod
    def _type(key):
        return key.split(":", 1)[0]

    def rebuild(self, store):
        self.by_type.clear()
        for key, value in store.items():
            self.by_type[self._type(key)][key] = value

    def install(self):
        index = self

        def setitem(store, key, value):
            dict.__setitem__(store, key, value)
            index.by_type[index._type(key)][key] = value
            store.dump_to_disk()

        def delitem(store, key):
            dict.__delitem__(store, key)
            index.by_type[index._type(key)].pop(key, None)
            store.dump_to_disk()

        def list_all(cls, url, limit=None, starting_after=None, **kwargs):
            # StripeObject._api_list_all, reading one type's objects instead of the store.
            if kwargs:
                raise resources.UserError(400, "Unexpected " + ", ".join(kwargs.keys()))
            li = resources.List(url, limit=limit, starting_after=starting_after)
            li._list = list(index.by_type[cls.object].values())
            return li

        resources.Store.__setitem__ = setitem
        resources.Store.__delitem__ = delitem
        resources.StripeObject._api_list_all = classmethod(list_all)
        self.rebuild(resources.store)


# Appended to localstripe's fake Stripe.js. Every input of the card element first puts the
# number field back to its digits (what localstripe's own handler reads, and where it decides
# to move on to the expiry: after 16 of them), then shows them in groups of four again.
CARD_NUMBER_JS = """
// Harbor (harbor/devservices/localstripe_server.py): the card number may be typed with spaces.
(function () {
  const mount = LocalstripeElement.prototype.mount;
  LocalstripeElement.prototype.mount = function (domElement) {
    mount.call(this, domElement);
    const inputs = this._inputs;
    if (!inputs || !inputs.number || inputs.number.dataset.harborDigits) return;
    const number = inputs.number;
    number.dataset.harborDigits = "true";
    number.setAttribute("size", "19");
    number.setAttribute("inputmode", "numeric");
    number.setAttribute("autocomplete", "cc-number");
    Object.values(inputs).forEach((input) => {
      const changed = input.oninput;
      input.oninput = (event) => {
        const digits = number.value.replace(/\\D/g, "").slice(0, 16);
        number.value = digits;
        changed(event);
        number.value = digits.replace(/(\\d{4})(?=\\d)/g, "$1 ");
      };
    });
  };
})();
"""
STRIPE_JS_PATH = "/js.stripe.com/v3/"


@web.middleware
async def card_number_with_spaces(request, handler):
    response = await handler(request)
    if request.path == STRIPE_JS_PATH and response.status == 200:
        script = (response.text.replace("class Element {", "class LocalstripeElement {")
                  .replace("new Element(this)", "new LocalstripeElement(this)")
                  .replace("instanceof Element)", "instanceof LocalstripeElement)"))
        response.text = script + CARD_NUMBER_JS
    return response


def refuse_malformed_card_numbers():
    """A card number that is not all digits is refused as Stripe refuses it (402,
    incorrect_number), instead of being stored with a last4 such as "42 4"."""
    init = resources.PaymentMethod.__init__

    def checked_init(self, type=None, card=None, **kwargs):
        if type == "card" and isinstance(card, dict) and isinstance(card.get("number"), str) \
                and not card["number"].isdigit():
            raise resources.UserError(402, "Your card number is incorrect.",
                                      {"code": "incorrect_number"})
        init(self, type=type, card=card, **kwargs)

    resources.PaymentMethod.__init__ = checked_init


def accept_card_numbers_with_spaces():
    server.app.middlewares.append(card_number_with_spaces)
    refuse_malformed_card_numbers()


def patch_localstripe(persister):
    """Persistence through `persister`, and lists through a TypeIndex."""
    index = TypeIndex()

    def load(store):
        persister.load()
        index.rebuild(store)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = lambda store: persister.mark_dirty()
    index.install()
    return index


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    parser.add_argument("--state", required=True, help="where to keep this instance's pickle")
    parser.add_argument("--from-scratch", action="store_true", help="ignore a pickle left by a previous run")
    parser.add_argument("--no-persist", action="store_true", help="never save the store (throwaway instances)")
    parser.add_argument("--save-interval", type=float, default=1.0, help="seconds between saves of a changed store")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)

    persister = Persister(args.state, args.save_interval)
    patch_localstripe(persister)
    accept_card_numbers_with_spaces()
    if not args.from_scratch:
        resources.store.try_load_from_disk()
    if not args.no_persist:
        server.app.cleanup_ctx.append(persister.cleanup_ctx)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    web.run_app(server.app, sock=sock, print=None)


if __name__ == "__main__":
    main()
