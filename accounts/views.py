"""The shopper's account pages (the sign-up, login and e-mail pages are django-allauth's)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from accounts import customers
from accounts.forms import DeleteAccountForm
from accounts.models import Address
from storefront.order_status import LABELS


@login_required
def orders(request):
    """My orders: every order of the account, newest first, with its status and its page."""
    rows = [{"order": order, "status_label": LABELS.get(order.status, order.status)}
            for order in customers.orders_of(request.user)]
    return render(request, "accounts/orders.html", {"rows": rows})


@login_required
def addresses(request):
    return render(request, "accounts/addresses.html", {"addresses": customers.addresses_of(request.user)})


@login_required
@require_POST
def address_delete(request, pk):
    address = get_object_or_404(Address, pk=pk, user=request.user)
    address.delete()
    messages.success(request, "The address was removed.")
    return redirect("accounts:addresses")


@login_required
@require_http_methods(["GET", "POST"])
def delete_account(request):
    form = DeleteAccountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)  # the session ends first: nothing of it points at the deleted account
        kept = customers.delete_account(user)
        messages.success(request, "Your account was deleted." + (
            f" Your {kept} order{'s' if kept != 1 else ''} stay with us for our books, no longer linked to an account."
            if kept else ""))
        return redirect("storefront:catalog")
    return render(request, "accounts/delete.html", {"form": form}, status=400 if request.method == "POST" else 200)
