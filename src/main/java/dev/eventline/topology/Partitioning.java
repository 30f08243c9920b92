package dev.eventline.topology;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Which partition a partition key belongs to: jump consistent hashing (Lamping and Veach, 2014) of the first
 * 64 bits of the key's SHA-256 (UTF-8). It depends on the key and the partition count alone, so every gate and
 * every replay puts a key in the same partition, before and after any broker restart; and when the count
 * changes from P to P+1 only about 1/(P+1) of the keys move.
 * <p>
 * Why not the broker's {@code x-consistent-hash} exchange, as first designed: its hash ring lives in the
 * broker's memory and is rebuilt from the bindings when a node boots, in an order that need not be the order
 * they were declared in. On RabbitMQ 3.10 a single {@code stop_app}/{@code start_app} moved 1,662 of 2,000
 * keys to another of 12 queues, and the fault matrix's full cluster restart reordered events of 954 keys
 * (events accepted before the restart waited in the old partition while later ones went to the new one).
 * So the gate picks the partition, and the function's exchange is a plain {@code direct} exchange with one
 * binding per partition, routing key = its index ({@link #routingKey}).
 */
public final class Partitioning {

    private Partitioning() {
    }

    /** @return the partition of this key, 0..count-1 */
    public static int of(String partitionKey, int count) {
        if (count < 1) {
            throw new IllegalArgumentException("a function has at least one partition, not " + count);
        }
        return jump(hash(partitionKey), count);
    }

    /** The routing key, and binding key, of partition {@code index} on the function's direct exchange. */
    public static String routingKey(int index) {
        return Integer.toString(index);
    }

    /** The routing key this key's events are published with. */
    public static String routingKey(String partitionKey, int count) {
        return routingKey(of(partitionKey, count));
    }

    private static long hash(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(digest, 0, Long.BYTES).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Jump consistent hash: the bucket of {@code key} among {@code buckets}. */
    private static int jump(long key, int buckets) {
        long bucket = -1;
        long next = 0;
        while (next < buckets) {
            bucket = next;
            key = key * 2862933555777941757L + 1;
            next = (long) ((bucket + 1) * ((double) (1L << 31) / (double) ((key >>> 33) + 1)));
        }
        return (int) bucket;
    }
}
