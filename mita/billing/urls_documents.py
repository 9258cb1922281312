"""URLs of bill documents (views_documents.py): included in billing's urls.py by one line."""

from django.urls import path

from mita.billing import (
    navigation_documents,  # noqa: F401  (registers the report's card)
    views_documents,
)

urlpatterns = [
    path("bills/<int:bill_id>/pdf/", views_documents.bill_pdf_view, name="bill_pdf"),
    path("connections/<int:connection_id>/household/", views_documents.household_page, name="household"),
    path("reports/customers-billed/", views_documents.customers_billed_page, name="customers_billed"),
    path("reports/customers-billed.csv", views_documents.customers_billed_csv_view, name="customers_billed_csv"),
]
