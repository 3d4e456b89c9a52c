"""Stream consumers: events that already flow through a company's message broker, read in
batches into the same intake as the API. One interface (``consumer.Source``) with an adapter per
broker: NATS JetStream and RabbitMQ streams; Kafka is the next one behind the same interface
(a consumer group, offsets committed after each stored batch, a dead-letter topic)."""
