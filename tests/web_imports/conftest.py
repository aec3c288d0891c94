"""The portal's fixtures (served with the API, a tenant's users of each role, Chromium)."""

from tests.web_forms.conftest import chromium, portal_tenant, portal_url, stranger

__all__ = ["chromium", "portal_tenant", "portal_url", "stranger"]
