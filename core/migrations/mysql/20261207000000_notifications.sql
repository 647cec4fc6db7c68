-- Notifications waiting for the broker (an outbox): written by the service
-- step that caused the event, removed by the delivery job once the broker has
-- confirmed them. `message` is the finished message body (JSON text, the
-- event's own time inside); `priority` picks the routing key.
CREATE TABLE notifications (
    id         BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    priority   VARCHAR(16) NOT NULL,
    message    LONGTEXT NOT NULL,
    created_at BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
