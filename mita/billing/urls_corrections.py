"""Pages of billing corrections, in the billing namespace (mita/billing/urls.py adds them): penalties, cancel and
rebill, the bills flagged for rebill by index adjustments."""

from django.urls import path

from mita.billing import views_corrections as views

urlpatterns = [
    path("penalties/", views.penalty_run, name="penalty_run"),
    path("penalties/rules/", views.penalty_rules, name="penalty_rules"),
    path("penalties/rules/<int:penalty_rule_id>/", views.penalty_rule_edit, name="penalty_rule_edit"),
    path("bills/<int:bill_id>/cancel/", views.bill_cancel_view, name="bill_cancel"),
    path("bills/<int:bill_id>/rebill/", views.bill_rebill_view, name="bill_rebill"),
    path("rebills/", views.rebill_list, name="rebill_list"),
    path("rebills/<int:bill_id>/", views.rebill_flagged_view, name="rebill_flagged"),
]
