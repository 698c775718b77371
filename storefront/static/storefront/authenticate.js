// 3-D Secure: Stripe.js shows the bank's check for the order's PaymentIntent; whatever the
// outcome, the form then tells Harbor, which asks Stripe what happened (the browser's word
// is never taken for it) and sends the shopper back to the order's live status page.
(function () {
  "use strict";
  const form = document.getElementById("authenticate-form");
  if (!form || typeof Stripe === "undefined") return;
  const status = document.getElementById("authenticate-status");
  Stripe(form.dataset.stripeKey).confirmCardPayment(form.dataset.clientSecret).then((result) => {
    form.elements.outcome.value = result.error ? "failed" : "done";
    status.textContent = result.error ? (result.error.message || "Authentication failed.") : "Confirmed. One moment…";
    form.submit();
  }, () => { status.textContent = "We could not reach the payment service. Go back to your order and try again."; });
})();
