-- Notifications waiting for the broker (an outbox): written by the service
-- step that caused the event, removed by the delivery job once the broker has
-- confirmed them. `message` is the finished message body (JSON text, the
-- event's own time inside); `priority` picks the routing key.
CREATE TABLE notifications (
    id         BIGSERIAL PRIMARY KEY,
    priority   VARCHAR(16) COLLATE "C" NOT NULL,
    message    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
