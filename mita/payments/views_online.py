"""Online payment pages: the public payment link page and the customer's return from the gateway, the gateway's
webhook, and the staff pages (settings, checkouts, sending a link by SMS).

Wire with path("pay/", include("mita.payments.views_online")): the URL names are online:pay, online:return,
online:webhook, online:settings, online:checkout_list, online:checkout_check, online:checkout_review and
online:link_send.
"""

import logging
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from mita.accounts.roles import Role
from mita.core.errors import DomainError, NotFound
from mita.core.forms import form_add_domain_error
from mita.core.money import CURRENCY_EXPONENTS, quantize
from mita.core.permissions import require_roles
from mita.core.tenancy import get_for_access_or_404
from mita.integrations.gateway.client import WEBHOOK_HASH_HEADER, loads
from mita.payments.models_online import OnlineCheckout
from mita.payments.online import (
    checkout_start,
    link_quote,
    online_channel_configure,
    online_config,
    online_confirm,
    online_return,
    online_webhook_authorise,
    online_webhook_receive,
    online_webhook_url,
    payment_link_get,
    payment_link_send,
    payment_link_url,
    webhook_source_ip,
)
from mita.payments.online_review import REVIEW_ROLES, online_review_dismiss, online_review_record
from mita.payments.selectors import PAYMENT_ROLES, holder_get_for_access

logger = logging.getLogger(__name__)

CHECKOUT_PAGE_ROWS = 100


def _money_format(currency: str) -> str:
    return f"{CURRENCY_EXPONENTS.get(currency, 2)}g"


def _operator(request: HttpRequest) -> Any:
    operator = request.access.operator  # type: ignore[attr-defined]
    if operator is None:  # a regulator or district workspace takes no payments
        raise Http404
    return operator


# The customer's pages ----------------------------------------------------------------------------------------------


class PayForm(forms.Form):
    amount = forms.DecimalField(
        label=gettext_lazy("Amount to pay"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    payer_phone = forms.CharField(
        label=gettext_lazy("Your phone number"),
        max_length=20,
        help_text=gettext_lazy("The payment service may send you a code or a receipt on it."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def __init__(self, *args: Any, can_change: bool, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        if can_change:
            self.fields["amount"].help_text = _("In %(currency)s. You may pay more or less than what is due.") % {
                "currency": currency
            }
        else:
            del self.fields["amount"]

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if quantize(amount, self.currency) != amount:
            raise forms.ValidationError(
                _("%(currency)s amounts have no smaller units than this: write %(rounded)s."),
                code="precision",
                params={"currency": self.currency, "rounded": quantize(amount, self.currency)},
            )
        return amount


def _link_or_404(token: str) -> Any:
    try:
        return payment_link_get(token=token)
    except NotFound:
        raise Http404 from None


def link_page(request: HttpRequest, token: str) -> HttpResponse:
    """A payment link: who is paid, for which account, what it owes; Pay sends the customer to the gateway."""
    link = _link_or_404(token)
    quote = link_quote(link=link)
    form = PayForm(
        request.POST or None,
        can_change=quote.can_change,
        currency=quote.currency,
        initial={"amount": quote.amount if quote.amount > 0 else None, "payer_phone": link.phone},
    )
    status = 410 if quote.expired else 200
    if request.method == "POST" and quote.enabled and not quote.expired and form.is_valid():
        try:
            checkout = checkout_start(
                link=link, amount=form.cleaned_data.get("amount"), payer_phone=form.cleaned_data["payer_phone"]
            )
        except DomainError as error:
            form_add_domain_error(form, error)
            status = error.status
        else:
            return redirect(checkout.checkout_url)
    elif form.errors:
        status = 400
    return render(
        request,
        "payments/online_pay.html",
        {"link": link, "quote": quote, "form": form, "money_format": _money_format(quote.currency)},
        status=status,
    )


def link_return(request: HttpRequest, token: str) -> HttpResponse:
    """The customer is back from the gateway: the checkout is verified with the gateway, and its outcome shown."""
    link = _link_or_404(token)
    try:
        checkout = online_return(
            link=link,
            tx_ref=request.GET.get("tx_ref", ""),
            transaction_id=request.GET.get("transaction_id", ""),
            said=request.GET.get("status", ""),
        )
    except NotFound:
        raise Http404 from None
    return render(
        request,
        "payments/online_return.html",
        {
            "link": link,
            "operator": link.operator,
            "checkout": checkout,
            "receipt": getattr(checkout.payment, "receipt", None) if checkout.payment else None,
            "money_format": _money_format(checkout.currency),
        },
    )


@csrf_exempt
def webhook(request: HttpRequest, operator_id: int, secret: str) -> HttpResponse:
    """The gateway's webhook (POST, verif-hash header). Only a hint: the transaction it names is verified with the
    gateway before anything is recorded. Answers 200 once authenticated and readable, matched or not."""
    try:
        config = online_webhook_authorise(
            operator_id=operator_id,
            secret=secret,
            verif_hash=request.headers.get(WEBHOOK_HASH_HEADER),
            source_ip=webhook_source_ip(request.META),
        )
    except DomainError as error:
        if error.status == 404:
            raise Http404 from None
        return JsonResponse(error.as_dict(), status=error.status)
    if request.method != "POST":
        response = JsonResponse(
            {"error": {"code": "method_not_allowed", "message": _("Send a POST."), "fields": {}}}, status=405
        )
        response["Allow"] = "POST"
        return response
    try:
        checkout = online_webhook_receive(config=config, body=loads(request.body))
    except (ValueError, RequestDataTooBig) as error:
        logger.warning("online webhook for operator %s refused: %s", operator_id, error)
        message = _("The body cannot be read: %(reason)s.") % {"reason": error}
        return JsonResponse({"error": {"code": "payload_invalid", "message": message, "fields": {}}}, status=400)
    return JsonResponse({"received": True, "matched": checkout is not None})


# Staff pages -------------------------------------------------------------------------------------------------------


class SettingsForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("Take payments online"), required=False)
    secret_key = forms.CharField(
        label=gettext_lazy("Gateway secret key"),
        max_length=128,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=gettext_lazy("From the gateway's dashboard (API keys). Empty keeps the key you have."),
    )
    clear_secret_key = forms.BooleanField(
        label=gettext_lazy("Use the installation's gateway account instead of our own"), required=False
    )
    secret_hash = forms.CharField(
        label=gettext_lazy("Webhook secret hash"),
        max_length=128,
        required=False,
        help_text=gettext_lazy("Empty keeps the hash shown below; or type the one already set in the dashboard."),
    )
    rotate_secret_hash = forms.BooleanField(label=gettext_lazy("Make a new secret hash"), required=False)
    rotate_webhook_secret = forms.BooleanField(label=gettext_lazy("Make a new webhook URL"), required=False)
    allowed_ips = forms.CharField(
        label=gettext_lazy("Allowed source addresses"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One address or network a line. Empty lets any address send webhooks."),
    )
    allow_amount_change = forms.BooleanField(label=gettext_lazy("Customers may change the amount"), required=False)
    min_amount = forms.DecimalField(label=gettext_lazy("Smallest payment"), max_digits=16, decimal_places=2)
    max_amount = forms.DecimalField(
        label=gettext_lazy("Largest payment"),
        max_digits=16,
        decimal_places=2,
        required=False,
        help_text=gettext_lazy("Empty: no limit."),
    )


@login_required
@require_roles(Role.OPERATOR_ADMIN)
def channel_settings(request: HttpRequest) -> HttpResponse:
    """The operator's online payments: on or off, its gateway account, the webhook to set in the gateway's
    dashboard, and the amounts a customer may pay."""
    operator = _operator(request)
    config = online_config(operator=operator)
    initial: dict[str, Any] = {"enabled": True, "allow_amount_change": True, "min_amount": Decimal("1")}
    if config is not None:
        initial = {
            "enabled": config.enabled,
            "allowed_ips": "\n".join(config.allowed_ips),
            "allow_amount_change": config.allow_amount_change,
            "min_amount": config.min_amount,
            "max_amount": config.max_amount,
        }
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            config = online_channel_configure(
                operator=operator,
                acting_user=request.user,
                enabled=data["enabled"],
                secret_key="" if data["clear_secret_key"] else (data["secret_key"] or None),
                secret_hash=data["secret_hash"] or None,
                rotate_secret_hash=data["rotate_secret_hash"],
                rotate_callback_secret=data["rotate_webhook_secret"],
                allowed_ips=[line for line in data["allowed_ips"].splitlines() if line.strip()],
                allow_amount_change=data["allow_amount_change"],
                min_amount=data["min_amount"],
                max_amount=data["max_amount"],
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("Online payment settings saved."))
            return redirect("online:settings")
    return render(
        request,
        "payments/online_settings.html",
        {
            "form": form,
            "config": config,
            "webhook_url": online_webhook_url(config=config) if config else "",
        },
        status=400 if form.errors else 200,
    )


@login_required
@require_roles(*PAYMENT_ROLES)
def checkout_list(request: HttpRequest) -> HttpResponse:
    """The operator's latest online checkouts, how each ended, and its receipt."""
    operator = _operator(request)
    checkouts = OnlineCheckout.objects.for_operator(operator).select_related("payment__receipt")
    return render(
        request,
        "payments/online_checkouts.html",
        {
            "checkouts": checkouts[:CHECKOUT_PAGE_ROWS],
            "config": online_config(operator=operator),
            "money_format": _money_format(operator.currency),
            "can_configure": request.access.has_role(Role.OPERATOR_ADMIN),  # type: ignore[attr-defined]
            "can_review": request.access.has_role(*REVIEW_ROLES),  # type: ignore[attr-defined]
        },
    )


@login_required
@require_roles(*PAYMENT_ROLES)
@require_POST
def checkout_check(request: HttpRequest, checkout_id: int) -> HttpResponse:
    """Verify a checkout with the gateway now (the customer says they paid)."""
    checkout = get_for_access_or_404(
        OnlineCheckout.objects.select_related("operator"),
        request.access,  # type: ignore[attr-defined]
        pk=checkout_id,
        operator=_operator(request),
    )
    checkout = online_confirm(checkout=checkout)
    if checkout.status == OnlineCheckout.Status.PENDING:
        messages.info(request, _("The gateway has no payment on this checkout yet."))
    else:
        messages.success(request, _("The gateway says: %(status)s.") % {"status": checkout.get_status_display()})
    return redirect("online:checkout_list")


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        choices=[
            ("record", gettext_lazy("Record it as a payment")),
            ("dismiss", gettext_lazy("Settled outside Mita (refunded or paid back): no payment")),
        ],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(
        label=gettext_lazy("Amount received"),
        max_digits=16,
        decimal_places=2,
        required=False,
        help_text=gettext_lazy("In the operator's currency: what the gateway settles for this payment."),
    )
    holder = forms.CharField(
        label=gettext_lazy("Customer account"),
        max_length=64,
        required=False,
        help_text=gettext_lazy("Empty: the checkout's own account."),
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == "record" and data.get("amount") is None:
            self.add_error("amount", _("Give the amount received to record the payment."))
        return data


@login_required
@require_roles(*REVIEW_ROLES)
def checkout_review(request: HttpRequest, checkout_id: int) -> HttpResponse:
    """Resolve an online payment the gateway verified but Mita could not take: record it, or close it with a note."""
    checkout = get_for_access_or_404(
        OnlineCheckout.objects.select_related("operator", "resolved_by"),
        request.access,  # type: ignore[attr-defined]
        pk=checkout_id,
        operator=_operator(request),
    )
    currency = checkout.operator.currency
    initial = {"holder": checkout.holder}
    if checkout.confirmed_amount is not None and checkout.currency == currency:
        initial["amount"] = checkout.confirmed_amount
    form = ReviewForm(request.POST or None, initial=initial)
    if request.method == "POST" and checkout.status == OnlineCheckout.Status.REVIEW and form.is_valid():
        data = form.cleaned_data
        try:
            if data["decision"] == "record":
                online_review_record(
                    checkout=checkout,
                    amount=data["amount"],
                    holder=data["holder"],
                    note=data["note"],
                    acting_user=request.user,
                )
            else:
                online_review_dismiss(checkout=checkout, note=data["note"], acting_user=request.user)
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(request, _("The online payment is resolved."))
            return redirect("online:checkout_list")
    return render(
        request,
        "payments/online_review.html",
        {"checkout": checkout, "form": form, "currency": currency, "money_format": _money_format(currency)},
        status=400 if form.errors else 200,
    )


class LinkSendForm(forms.Form):
    phone = forms.CharField(label=gettext_lazy("Customer's phone"), max_length=20)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"),
        max_digits=16,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text=gettext_lazy("Empty: what the account owes when the customer pays."),
    )


@login_required
@require_roles(*PAYMENT_ROLES)
def link_send(request: HttpRequest, holder: str) -> HttpResponse:
    """Send a customer a link to pay their account online, by SMS."""
    access = request.access  # type: ignore[attr-defined]
    holder = holder_get_for_access(access=access, holder=holder)
    operator = access.operator
    config = online_config(operator=operator)
    form = LinkSendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            link, sms = payment_link_send(
                operator=operator,
                holder=holder,
                phone=form.cleaned_data["phone"],
                amount=form.cleaned_data["amount"],
                acting_user=request.user,
            )
        except DomainError as error:
            form_add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("The payment link %(link)s is on its way to %(phone)s.")
                % {"link": payment_link_url(link=link), "phone": sms.to},
            )
            return redirect("payments:account_detail", holder=holder)
    return render(
        request,
        "payments/online_link_send.html",
        {"holder": holder, "form": form, "enabled": bool(config and config.enabled)},
        status=400 if form.errors else 200,
    )


app_name = "online"
urlpatterns = [
    path("staff/settings/", channel_settings, name="settings"),
    path("staff/checkouts/", checkout_list, name="checkout_list"),
    path("staff/checkouts/<int:checkout_id>/check/", checkout_check, name="checkout_check"),
    path("staff/checkouts/<int:checkout_id>/review/", checkout_review, name="checkout_review"),
    path("staff/accounts/<str:holder>/link/", link_send, name="link_send"),
    path("hooks/<int:operator_id>/<str:secret>/", webhook, name="webhook"),
    path("<str:token>/", link_page, name="pay"),
    path("<str:token>/return/", link_return, name="return"),
]
