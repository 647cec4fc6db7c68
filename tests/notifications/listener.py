"""A real oslo.messaging notification listener for the black-box tests.

Listens on one exchange and topic of a RabbitMQ broker and writes every
notification it receives as one JSON line to stdout (flushed at once):
priority, publisher_id, event_type, payload and metadata (message_id,
timestamp), exactly as oslo.messaging decoded them from the message.

usage: listener.py TRANSPORT_URL EXCHANGE TOPIC
"""

import json
import sys
import threading

from oslo_config import cfg
import oslo_messaging


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()

    def _record(self, priority, ctxt, publisher_id, event_type, payload, metadata):
        line = json.dumps({
            "priority": priority,
            "ctxt": ctxt,
            "publisher_id": publisher_id,
            "event_type": event_type,
            "payload": payload,
            "metadata": metadata,
        })
        with self.lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def info(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record("INFO", ctxt, publisher_id, event_type, payload, metadata)

    def error(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record("ERROR", ctxt, publisher_id, event_type, payload, metadata)

    def warn(self, ctxt, publisher_id, event_type, payload, metadata):
        self._record("WARN", ctxt, publisher_id, event_type, payload, metadata)


def main():
    url, exchange, topic = sys.argv[1:4]
    conf = cfg.ConfigOpts()
    conf([], project="glint-notification-test")
    transport = oslo_messaging.get_notification_transport(conf, url=url)
    targets = [oslo_messaging.Target(topic=topic, exchange=exchange)]
    listener = oslo_messaging.get_notification_listener(
        transport, targets, [Recorder()], executor="threading")
    # One worker thread: notifications are recorded in the order they arrive.
    listener.start(override_pool_size=1)
    sys.stderr.write("listening\n")
    sys.stderr.flush()
    # Runs until the test kills it.
    threading.Event().wait()


if __name__ == "__main__":
    main()
