"""Settings of broker administration, from `OWNAT_` environment variables like the rest.

`OWNAT_MQTT_ADMIN_URL` (`mqtt://ownat-admin:<password>@mosquitto:1883`, or `mqtts://`) names the
broker's admin account. Unset, the platform does not administer the broker: the embedded mode's
loopback broker has no authentication, and a broker run from a generated file needs no live updates.
"""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from devices.protocol import MqttAddress, parse_mqtt_url
from devices.registry.broker_access import BrokerAccess
from devices.registry.dynsec import Account
from devices.registry.dynsec_client import DynsecClient


class BrokerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OWNAT_", env_file=".env", extra="ignore")

    mqtt_admin_url: SecretStr | None = None
    broker_admin_timeout_s: float = Field(default=10.0, gt=0)
    # How often `ownat broker-config --sync --interval` repairs what a missed update left behind.
    broker_sync_interval_s: int = Field(default=300, ge=10)

    @field_validator("mqtt_admin_url")
    @classmethod
    def _names_an_account(cls, url: SecretStr | None) -> SecretStr | None:
        if url is not None:
            account_address(url.get_secret_value())
        return url


def load_broker_settings(**overrides: object) -> BrokerSettings:
    """Reads the environment now; callers own the instance."""
    return BrokerSettings(**overrides)  # type: ignore[arg-type]


def account_address(url: str) -> MqttAddress:
    """The broker address of an account URL; ValueError unless it carries a username and password."""
    address = parse_mqtt_url(url)
    if not address.username or not address.password:
        raise ValueError("the MQTT URL of a platform account must carry its username and password")
    return address


def account_of(url: str) -> Account:
    """The username and password in an account URL."""
    address = account_address(url)
    return Account(username=address.username or "", password=address.password or "")


def broker_access_from(settings: BrokerSettings) -> BrokerAccess | None:
    """The broker administration these settings describe, or None when there is none."""
    if settings.mqtt_admin_url is None:
        return None
    address = account_address(settings.mqtt_admin_url.get_secret_value())
    return BrokerAccess(DynsecClient(address, timeout_s=settings.broker_admin_timeout_s))
