/**
 * What the HTTP doors share, and nothing else: reading CloudEvents from a request (structured, batch and
 * binary mode; the attribute bounds) and the refusal with its JSON error body. The gate and the HTTP trigger
 * both build on it and never on each other (see {@code ArchitectureTest}).
 */
package dev.eventline.http;
