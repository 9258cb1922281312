from django.urls import path

from mita.payments import views, views_cashier, views_deposits, views_documents, views_panels, views_settings

app_name = "payments"
urlpatterns = [
    path("", views.payment_list, name="payment_list"),
    path("new/", views.payment_record, name="payment_record"),
    path("suspense/", views.suspense_list, name="suspense_list"),
    path("settings/", views_settings.payment_settings_view, name="settings"),
    path("<int:payment_id>/", views.payment_detail, name="payment_detail"),
    path("<int:payment_id>/reprint/", views.receipt_reprint, name="receipt_reprint"),
    path("<int:payment_id>/void/", views.payment_void_view, name="payment_void"),
    path("<int:payment_id>/assign/", views.payment_assign_view, name="payment_assign"),
    path("accounts/<str:holder>/", views.account_detail, name="account_detail"),
    path("<int:payment_id>/receipt.pdf", views_documents.receipt_pdf_view, name="receipt_pdf"),
    path("<int:payment_id>/reprint.pdf", views_documents.receipt_reprint_pdf, name="receipt_reprint_pdf"),
    path("accounts/<str:holder>/statement/", views_documents.statement_page, name="statement"),
    path("accounts/<str:holder>/statement.pdf", views_documents.statement_pdf_view, name="statement_pdf"),
    # Deposits, refunds and corrections (views_deposits.py)
    path("deposits/rates/", views_deposits.deposit_rate_list, name="deposit_rate_list"),
    path("deposits/rates/<int:rate_id>/", views_deposits.deposit_rate_edit, name="deposit_rate_edit"),
    path("accounts/<str:holder>/deposit/", views_deposits.holder_deposit, name="holder_deposit"),
    path("accounts/<str:holder>/deposit/charge/", views_deposits.holder_deposit_charge, name="holder_deposit_charge"),
    path("accounts/<str:holder>/deposit/adjust/", views_deposits.holder_deposit_adjust, name="holder_deposit_adjust"),
    path("accounts/<str:holder>/deposit/apply/", views_deposits.holder_deposit_apply, name="holder_deposit_apply"),
    path("accounts/<str:holder>/charges/", views_deposits.holder_charges, name="holder_charges"),
    path("charges/<int:charge_id>/cancel/", views_deposits.charge_cancel_view, name="charge_cancel"),
    path("<int:payment_id>/chargeback/", views_deposits.payment_chargeback, name="payment_chargeback"),
    path("refunds/", views_deposits.refund_list, name="refund_list"),
    path("refunds/new/", views_deposits.refund_request_view, name="refund_request"),
    path("refunds/<int:refund_id>/", views_deposits.refund_detail, name="refund_detail"),
    path("refunds/<int:refund_id>/approve/", views_deposits.refund_approve_view, name="refund_approve"),
    path("refunds/<int:refund_id>/reject/", views_deposits.refund_reject_view, name="refund_reject"),
    path("refunds/<int:refund_id>/payout/", views_deposits.refund_payout_view, name="refund_payout"),
    # The customer 360 page's miscellaneous-charges panel (mita/payments/panels.py).
    path("customers/<int:customer_id>/charges/", views_panels.customer_misc_charge, name="customer_misc_charge"),
]
urlpatterns += views_cashier.urlpatterns  # tills/, handovers/: cashier sessions and hand-overs
