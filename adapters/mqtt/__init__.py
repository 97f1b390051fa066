"""The MQTT side of status notifications (aiomqtt): `MqttLink` publishes QoS 1 messages in
order and reports which of them the broker acknowledged; `Subscription` is the receiving
end, as a participant runs it."""

from adapters.mqtt.link import (
    BrokerAddress,
    BrokerUnavailable,
    MqttLink,
    parse_broker_url,
    tls_context,
)
from adapters.mqtt.subscriber import Received, Subscription

__all__ = ["BrokerAddress", "BrokerUnavailable", "MqttLink", "Received", "Subscription",
           "parse_broker_url", "tls_context"]
