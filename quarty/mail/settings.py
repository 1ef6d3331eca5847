"""The mail settings of one app, read once from its config, and their checks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from typing import Any

from email_validator import EmailNotValidError, validate_email

# "Display Name <local@domain>" or a bare "local@domain".
_NAME_ADDR = re.compile(
    r"\s*(?:(?P<name>[^<>]*?)\s*<(?P<angle>[^<>]*)>|(?P<bare>\S+))\s*"
)


def parse_address(value: str) -> Address:
    """One mailbox from "Name <addr>" or "addr"; ValueError says what is wrong."""
    if any(char in value for char in "\r\n\0"):
        raise ValueError("it contains a line break or a NUL")
    match = _NAME_ADDR.fullmatch(value)
    if match is None:
        raise ValueError("it is not one address of the form 'Name <user@host>'")
    addr_spec = match["angle"] if match["angle"] is not None else match["bare"]
    local, at, domain = addr_spec.rpartition("@")
    # The development default is quarty@localhost; email-validator refuses
    # special-use domains, so it checks only the local part of a localhost address.
    checked = (
        f"{local}@example.com" if at and domain.lower() == "localhost" else addr_spec
    )
    try:
        validate_email(checked, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return Address(display_name=(match["name"] or "").strip('" '), addr_spec=addr_spec)


def config_problems(config: Mapping[str, Any]) -> list[str]:
    """What in the mail settings cannot work, in words an operator can act on."""
    problems = []
    addresses = {
        "QUARTY_MAIL_SENDER": config.get("QUARTY_MAIL_SENDER"),
        "QUARTY_ADMIN": config.get("QUARTY_ADMIN"),
    }
    for key, value in addresses.items():
        if value is None and key == "QUARTY_ADMIN":
            continue  # no admin: no new-user mail, by choice
        try:
            parse_address(str(value or ""))
        except ValueError as exc:
            problems.append(f"{key}={value!r} is not a valid email address: {exc}")
    if config.get("MAIL_USE_TLS") and config.get("MAIL_USE_SSL"):
        problems.append(
            "MAIL_USE_TLS (STARTTLS) and MAIL_USE_SSL (implicit TLS) are both on; "
            "set only one"
        )
    if int(config.get("MAIL_MAX_ATTEMPTS", 1)) < 1:
        problems.append("MAIL_MAX_ATTEMPTS must be at least 1")
    if int(config.get("MAIL_BATCH_SIZE", 1)) < 1:
        problems.append("MAIL_BATCH_SIZE must be at least 1")
    return problems


@dataclass(frozen=True)
class MailSettings:
    """Everything the outbox and the SMTP client need, as plain values."""

    server: str | None
    port: int
    use_tls: bool
    use_ssl: bool
    username: str | None
    password: str | None
    timeout: float
    ca_file: str | None
    subject_prefix: str
    sender: Address | None
    admin: Address | None
    max_attempts: int
    retry_backoff: float
    retry_max_delay: float
    claim_lease: float
    poll_interval: float
    shutdown_timeout: float
    batch_size: int
    batch_wait: float

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings:
        """Read the settings; an invalid sender or admin address becomes None."""
        return cls(
            server=config.get("MAIL_SERVER") or None,
            port=int(config["MAIL_PORT"]),
            use_tls=bool(config["MAIL_USE_TLS"]),
            use_ssl=bool(config["MAIL_USE_SSL"]),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            timeout=float(config["MAIL_TIMEOUT"]),
            ca_file=config.get("MAIL_CA_FILE") or None,
            subject_prefix=str(config["QUARTY_MAIL_SUBJECT_PREFIX"]),
            sender=_address_or_none(config.get("QUARTY_MAIL_SENDER")),
            admin=_address_or_none(config.get("QUARTY_ADMIN")),
            max_attempts=max(1, int(config["MAIL_MAX_ATTEMPTS"])),
            retry_backoff=float(config["MAIL_RETRY_BACKOFF"]),
            retry_max_delay=float(config["MAIL_RETRY_MAX_DELAY"]),
            claim_lease=float(config["MAIL_CLAIM_LEASE"]),
            poll_interval=float(config["MAIL_POLL_INTERVAL"]),
            shutdown_timeout=float(config["MAIL_SHUTDOWN_TIMEOUT"]),
            batch_size=max(1, int(config["MAIL_BATCH_SIZE"])),
            batch_wait=max(0, int(config["MAIL_BATCH_WAIT_MS"])) / 1000,
        )

    @property
    def send_deadline(self) -> float:
        """How long a batch's deliveries may take: half the lease, so no one else
        takes a message over while this sender can still be talking to the server."""
        return self.claim_lease / 2

    def retry_delay(self, attempts: int) -> float:
        """Seconds to wait after the given number of failed attempts."""
        delay: float = self.retry_backoff * 2 ** max(attempts - 1, 0)
        return min(delay, self.retry_max_delay)


def _address_or_none(value: object) -> Address | None:
    if not value:
        return None
    try:
        return parse_address(str(value))
    except ValueError:
        return None
