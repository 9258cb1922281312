"""What every payment provider's callback shares: the caller's address behind proxies, and the allowlist."""

import ipaddress
import logging
from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from mita.core.errors import DomainError, PermissionDenied

logger = logging.getLogger(__name__)


def allowed_networks(allowed_ips: Iterable[str], *, example: str) -> list[str]:
    """Normalise an allowlist of addresses and networks; a bad entry is a field error naming it."""
    networks = []
    for entry in allowed_ips:
        try:
            networks.append(str(ipaddress.ip_network(str(entry).strip(), strict=False)))
        except ValueError:
            raise DomainError(
                _("%(entry)s is not an address or a network such as %(example)s.")
                % {"entry": entry, "example": example},
                code="allowed_ips_invalid",
                fields={"allowed_ips": [_("Give addresses or networks, one a line.")]},
            ) from None
    return networks


def source_address(meta: dict[str, Any], *, forwarded_for_hops: int) -> str:
    """The caller's address: the connection's, or the one the trusted proxies in front of Mita saw."""
    if forwarded_for_hops > 0:
        forwarded = [part.strip() for part in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if part.strip()]
        if len(forwarded) >= forwarded_for_hops:
            return forwarded[-forwarded_for_hops]
    return str(meta.get("REMOTE_ADDR") or "")


def address_check(*, allowed_ips: list[str], source_ip: str, provider: str, operator_id: int) -> None:
    """Refuse (403) a callback from outside the operator's allowlist; an empty allowlist allows every address."""
    if not allowed_ips:
        return
    try:
        address = ipaddress.ip_address(source_ip)
    except ValueError:
        address = None
    if address is None or not any(address in ipaddress.ip_network(net, strict=False) for net in allowed_ips):
        logger.warning(
            "%s callback for operator %s from %s refused: not an allowed address", provider, operator_id, source_ip
        )
        raise PermissionDenied(
            _("This address may not send %(provider)s callbacks.") % {"provider": provider},
            code="callback_address_refused",
        )
