"""The broker (sans-IO), its messages, and the controller's topic creation."""

from kafkalab.broker.broker import Broker, default_log_factory
from kafkalab.broker.controller import Controller, validate_topic_name
from kafkalab.broker.placement import StripedReplicaPlacer
from kafkalab.broker import messages

__all__ = ["Broker", "Controller", "default_log_factory", "messages", "StripedReplicaPlacer", "validate_topic_name"]
