"""Labels live in PostgreSQL (STORAGES["labels"], harbor/storage.py), so any web host serves the
label any worker host rendered: a real worker with its own, different MEDIA_ROOT renders it,
this process (web) with an empty MEDIA_ROOT serves it, and no disk holds it. Two saves of one
name at once keep both files; a rolled-back render leaves none; a label written to disk before
the upgrade is still served; the shopper's API and the admin's link read the same bytes."""

import io
import re
import secrets
import threading

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.test import Client

from harbor.models import StoredFile
from harbor.storage import DatabaseStorage
from orders.models import Order, OrderLine, Shipment
from tests.conftest import eventually
from tests.factories import ProductFactory
from tests.realworker import Worker

ADDRESS = {"name": "Ada Lovelace", "line1": "12 Dock Road", "line2": "", "city": "Portsmouth",
           "postal_code": "PO1 3AX", "country": "GB"}


def paid_order_with_a_parcel(status="paid"):
    product = ProductFactory(sku=f"MUG-{secrets.token_hex(3)}", unit_price=1800)
    order = Order.objects.create(email="ada@example.com", payment_method="pm_card_visa", total=1800, currency="usd",
                                 status=status, shipping_address=ADDRESS)
    OrderLine.objects.create(order=order, product=product, sku=product.sku, quantity=1, unit_price=1800)
    shipment = Shipment.objects.create(order=order, tracking_number="HB" + "".join(secrets.choice("0123456789")
                                                                                  for _ in range(14)))
    return order, shipment


def files_under(path):
    return sorted(p for p in path.rglob("*") if p.is_file()) if path.exists() else []


def pdf_from(response):
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/pdf"
    return b"".join(response.streaming_content)


def admin_label_link(client, order):
    page = client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    (link,) = re.findall(r'href="([^"]+)"[^>]*>Open label', page)
    return link


def test_the_labels_storage_is_the_database_by_default():
    assert isinstance(storages["labels"], DatabaseStorage)
    assert Shipment._meta.get_field("label").storage is storages["labels"]


@pytest.mark.django_db(transaction=True)
def test_a_label_rendered_by_a_worker_on_another_host_is_served_by_web_from_the_database(
        tmp_path, settings, broker, admin_client):
    order, shipment = paid_order_with_a_parcel()
    worker_var, web_media = tmp_path / "worker-host", tmp_path / "web-host-media"
    settings.MEDIA_ROOT = web_media  # this process is web on host X: its disk has no label
    queue = f"labels-{secrets.token_hex(4)}"  # this worker's alone: no other worker takes the task
    worker = Worker(tmp_path / "worker.log", {"HARBOR_VAR_DIR": str(worker_var)}, concurrency=1, name="host-y",
                    queues=(queue,), pool="solo").start()
    try:
        from orders.tasks import create_label

        create_label.apply_async(args=[str(order.pk)], queue=queue)
        assert eventually(lambda: Shipment.objects.get(pk=shipment.pk).label, timeout=30), worker.tail()
    finally:
        worker.stop()

    shipment.refresh_from_db()
    stored = StoredFile.objects.get(name=shipment.label.name)
    assert bytes(stored.content).startswith(b"%PDF") and stored.size == len(stored.content)
    # Neither host's disk holds it: the worker wrote to PostgreSQL, not to its MEDIA_ROOT.
    assert files_under(worker_var / "media") == [] and files_under(web_media) == []

    api = Client().get(f"/api/orders/{order.pk}/").json()
    for url in (api["shipment"]["label_url"], api["shipments"][0]["label_url"]):  # the contract's links
        assert pdf_from(Client().get(url.removeprefix("http://testserver"), HTTP_ACCEPT="application/pdf")) == bytes(
            stored.content)
    assert pdf_from(admin_client.get(admin_label_link(admin_client, order))) == bytes(stored.content)
    assert files_under(web_media) == []


@pytest.mark.django_db(transaction=True)
def test_two_saves_of_one_name_at_once_keep_both_files():
    """The first save's row is written but not committed when the second save looks: the name
    seems free, so the second INSERTs it too, waits on the unique name, and when the first
    commits takes another name. Neither file is lost or overwritten."""
    storage = storages["labels"]
    name = f"labels/race-{secrets.token_hex(4)}.pdf"
    first_written, second_waiting = threading.Event(), threading.Event()
    saved, errors = {}, []

    def first():
        try:
            with transaction.atomic():
                saved["first"] = storage.save(name, ContentFile(b"%PDF first"))
                first_written.set()
                second_waiting.wait(15)  # commit only once the second save waits on our row
        except Exception as exc:  # reported by the assertions below
            errors.append(exc)
        finally:
            connection.close()

    def second():
        try:
            first_written.wait(15)
            saved["second"] = storage.save(name, ContentFile(b"%PDF second"))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert first_written.wait(15)
    waited = eventually(lambda: inserts_waiting_on_a_lock() >= 1, timeout=10)
    second_waiting.set()
    for thread in threads:
        thread.join(20)

    assert errors == []
    assert waited, "the second save's INSERT never waited on the first's row"
    assert saved["first"] == name and saved["second"] != name
    assert re.fullmatch(re.escape(name[:-4]) + r"_\w{7}\.pdf", saved["second"])
    assert storage.open(saved["first"]).read() == b"%PDF first"
    assert storage.open(saved["second"]).read() == b"%PDF second"
    assert StoredFile.objects.filter(name__in=[saved["first"], saved["second"]]).count() == 2


def inserts_waiting_on_a_lock():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND query LIKE 'INSERT INTO \"harbor_stored_file\"%%'")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_label_saved_twice_under_one_name_is_never_overwritten():
    storage = storages["labels"]
    name = f"labels/twice-{secrets.token_hex(4)}.pdf"
    first, second = storage.save(name, ContentFile(b"%PDF one")), storage.save(name, ContentFile(b"%PDF two"))
    assert first == name and second != name
    assert (storage.open(first).read(), storage.open(second).read()) == (b"%PDF one", b"%PDF two")


@pytest.mark.django_db(transaction=True)
def test_a_render_whose_transaction_rolls_back_leaves_no_file():
    """The label is written in the transaction that records it (orders/shipping.py)."""
    name = f"labels/rolled-back-{secrets.token_hex(4)}.pdf"
    with pytest.raises(RuntimeError), transaction.atomic():
        storages["labels"].save(name, ContentFile(b"%PDF"))
        raise RuntimeError("the shipment's update failed")
    assert not storages["labels"].exists(name)


def test_a_label_written_to_disk_before_the_upgrade_is_still_served(db, settings, tmp_path, admin_client):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "labels").mkdir()
    old = b"%PDF-1.4 written by the release before"
    order, shipment = paid_order_with_a_parcel(status="fulfilled")
    (tmp_path / "labels" / f"{order.pk}.pdf").write_bytes(old)
    Shipment.objects.filter(pk=shipment.pk).update(label=f"labels/{order.pk}.pdf", status="labeled")

    assert pdf_from(Client().get(f"/api/orders/{order.pk}/label.pdf")) == old
    assert pdf_from(Client().get(f"/api/orders/{order.pk}/shipments/{shipment.pk}/label.pdf")) == old
    assert pdf_from(admin_client.get(admin_label_link(admin_client, order))) == old
    assert not StoredFile.objects.filter(name=f"labels/{order.pk}.pdf").exists()


def test_labels_on_disk_can_be_copied_into_the_database_for_every_host(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "old-1.pdf").write_bytes(b"%PDF old one")
    StoredFile.objects.create(name="labels/old-2.pdf", content=b"%PDF stored since", size=17)
    (tmp_path / "labels" / "old-2.pdf").write_bytes(b"%PDF on disk")
    out = io.StringIO()

    call_command("store_media_in_database", stdout=out)
    call_command("store_media_in_database", stdout=out)  # again: nothing more

    assert "stored 1 file(s)" in out.getvalue() and "stored 0 file(s)" in out.getvalue()
    for path in (tmp_path / "labels").iterdir():
        path.unlink()  # another host: no such disk
    storage = storages["labels"]
    assert storage.open("labels/old-1.pdf").read() == b"%PDF old one"
    assert storage.open("labels/old-2.pdf").read() == b"%PDF stored since"  # never overwritten


def test_stored_labels_are_listed_as_a_directory(db):
    storage = storages["labels"]
    tag = secrets.token_hex(4)
    names = [storage.save(f"labels/{tag}-{i}.pdf", ContentFile(b"%PDF")) for i in (1, 2)]
    _directories, files = storage.listdir("labels")
    assert {name.removeprefix("labels/") for name in names} <= set(files)
    assert storage.size(names[0]) == 4 and storage.exists(names[1])
    with pytest.raises(NotImplementedError):
        storage.url(names[0])  # private: only the label views serve it
