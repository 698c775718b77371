// Checkout: the card is tokenised by Stripe.js, never seen by Harbor.
// 1. ask Harbor for a SetupIntent (CSRF-protected POST), 2. stripe.confirmCardSetup() with
// the card element, which returns a PaymentMethod id, 3. post the form with that id.
// The form carries a checkout token minted when the page was rendered (the order's
// Idempotency-Key), so a second submit of this page can only ever find the same order.
(function () {
  "use strict";
  const form = document.getElementById("checkout-form");
  if (!form || typeof Stripe === "undefined") return;
  const button = document.getElementById("place-order");
  const errors = document.getElementById("card-errors");
  const stripe = Stripe(form.dataset.stripeKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  // (localstripe's stand-in calls change handlers without an event: use none.)
  card.on("change", () => { errors.textContent = ""; });

  let busy = false;
  function setBusy(on) {
    busy = on;
    button.disabled = on;
    button.setAttribute("aria-busy", on ? "true" : "false");
    form.classList.toggle("is-busy", on);
  }
  function fail(message) {
    errors.textContent = message || "Your card could not be used. Please check it or try another card.";
    setBusy(false);
    const first = document.querySelector("#card-element input");
    if (first) first.focus();
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;  // a double click places one order
    if (!form.reportValidity()) return;
    setBusy(true);
    errors.textContent = "";
    try {
      const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
      const response = await fetch(form.dataset.setupUrl, {
        method: "POST", credentials: "same-origin", headers: {"X-CSRFToken": csrf},
      });
      const setup = await response.json().catch(() => ({}));
      if (!response.ok || !setup.client_secret) return fail(setup.error);
      const result = await stripe.confirmCardSetup(setup.client_secret, {
        payment_method: {
          card: card,
          billing_details: {name: form.elements.name.value, email: form.elements.email.value},
        },
      });
      if (result.error) return fail(result.error.message);
      form.elements.payment_method.value = result.setupIntent.payment_method;
      form.submit();  // a plain POST; the answer is a redirect to the order's page
    } catch (err) {
      fail("We could not reach the payment service. Please try again.");
    }
  });
  // Enter in the discount code applies it (the pricing is asked for again), it does not pay.
  const code = document.getElementById("id_discount_code");
  if (code) code.addEventListener("keydown", (event) => {
    if (event.key === "Enter") { event.preventDefault(); document.getElementById("apply-code").click(); }
  });
  // Back from the order page (bfcache): the form is usable again; the same token
  // still leads to the same order.
  window.addEventListener("pageshow", (event) => { if (event.persisted) setBusy(false); });
})();

// A signed-in shopper's saved addresses: choosing one fills the address fields (and, through the
// country's change event, htmx prices the shipping for it).
(function () {
  "use strict";
  const select = document.getElementById("saved-address");
  const data = document.getElementById("saved-address-data");
  if (!select || !data) return;
  const saved = JSON.parse(data.textContent);
  select.addEventListener("change", () => {
    const address = saved[Number(select.value)];
    if (!address) return;
    for (const [field, value] of Object.entries(address)) {
      const input = document.getElementById("id_" + field);
      if (input) input.value = value;
    }
    document.getElementById("id_country").dispatchEvent(new Event("change", { bubbles: true }));
  });
})();
