/**
 * What the HTTP doors share, and nothing else: reading CloudEvents from a request (structured, batch and
 * binary mode) and the refusal with its JSON error body, written by {@link dev.eventline.http.HttpAnswer}. The
 * rules an event must meet that the producer client applies too (partition key, attribute bounds) live with
 * the client's sources, in {@code dev.eventline.cloudevents}. The gate and the HTTP trigger
 * both build on it and never on each other (see {@code ArchitectureTest}).
 */
package dev.eventline.http;
