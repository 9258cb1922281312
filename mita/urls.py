"""Mita's URLs: the pages of each app, the JSON API under /api/v1/, health, and the Django admin."""

from django.contrib import admin
from django.urls import include, path

from mita.api import api
from mita.core import views as core_views
from mita.servicing import views as servicing_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    # First: the API is what machines call most (payments, field sync); its requests skip every page pattern.
    path("api/v1/", api.urls),
    path("", include("mita.core.urls")),
    path("accounts/", include("mita.accounts.urls")),
    path("registry/", include("mita.registry.urls")),
    path("customers/", include("mita.customers.urls")),
    path("service/", include("mita.servicing.urls")),
    path("stock/", include("mita.stock.urls")),
    path("metering/", include("mita.metering.urls")),
    path("tariffs/", include("mita.tariffs.urls")),
    path("billing/", include("mita.billing.urls")),
    path("q/<str:token>/", servicing_views.quote_page, name="quote"),
    path("notifications/", include("mita.notifications.urls")),
    path("payments/daraja/", include("mita.payments.views_mpesa")),
    path("payments/momo/", include("mita.payments.views_momo")),
    path("payments/", include("mita.payments.urls")),
    path("pay/", include("mita.payments.views_online")),
    path("admin/", admin.site.urls),
]
