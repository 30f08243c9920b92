package dev.eventline.broker;

import com.rabbitmq.client.AMQP;

/** One message to publish: persistent, mandatory, confirmed. */
public record OutgoingMessage(String exchange, String routingKey, AMQP.BasicProperties properties, byte[] body) {
}
