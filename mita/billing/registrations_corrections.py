"""Billing corrections' registrations, imported by BillingConfig.ready(): the home cards and the daily penalty run."""

from mita.billing import navigation_corrections, tasks_corrections  # noqa: F401
