from allauth.account.adapter import DefaultAccountAdapter

from harbor.clientip import client_key


class AccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request):
        """What allauth's rate limits count per client: the client as every other limit of Harbor
        counts it (harbor.clientip: REMOTE_ADDR, or the NUM_PROXIES-th address from the right of
        X-Forwarded-For; an IPv6 client per /64)."""
        return client_key(request) or "unknown"
