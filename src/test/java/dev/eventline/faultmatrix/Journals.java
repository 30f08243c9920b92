package dev.eventline.faultmatrix;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the journals every instance of the matrix's function writes ({@code journal-*.log}: one line
 * {@code <epoch µs> <key> <step>} per applied step, written before the handler returns), as they grow: what
 * was applied, by whom, and when, also by instances that were killed since.
 */
final class Journals {

    /** One application of a step. */
    record Applied(long micros, String key, long step) {
    }

    private final Path dir;
    private final Map<Path, Long> offsets = new HashMap<>();
    private final Map<Path, String> partial = new HashMap<>();
    private final List<Applied> all = new ArrayList<>();

    Journals(Path dir) {
        this.dir = dir;
    }

    /** Reads what was appended since the last call. */
    synchronized void poll() {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "journal-*.log")) {
            for (Path f : files) {
                read(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the journals in " + dir, e);
        }
    }

    private void read(Path f) throws IOException {
        long offset = offsets.getOrDefault(f, 0L);
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= offset) {
                return;
            }
            ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(size - offset, 64L << 20));
            ch.read(buffer, offset);
            offsets.put(f, offset + buffer.position());
            String text = partial.getOrDefault(f, "") + new String(buffer.array(), 0, buffer.position(),
                    StandardCharsets.UTF_8);
            int end = text.lastIndexOf('\n');
            partial.put(f, text.substring(end + 1));
            for (String line : text.substring(0, Math.max(0, end)).split("\n")) {
                String[] parts = line.split(" ");
                if (parts.length == 3) {
                    all.add(new Applied(Long.parseLong(parts[0]), parts[1], Long.parseLong(parts[2])));
                }
            }
        }
    }

    /** @return every application of a key that starts with the prefix, in the order they were read */
    synchronized List<Applied> of(String prefix) {
        return all.stream().filter(a -> a.key().startsWith(prefix)).toList();
    }

    /**
     * @return applications of keys with the prefix per 100 ms, from {@code fromMillis} (bucket 0) to
     *         {@code toMillis}, in one pass
     */
    synchronized long[] perTenthOfASecond(String prefix, long fromMillis, long toMillis) {
        long[] buckets = new long[(int) Math.max(0, (toMillis - fromMillis) / 100)];
        for (Applied a : all) {
            long at = a.micros() / 1000 - fromMillis;
            if (at >= 0 && at / 100 < buckets.length && a.key().startsWith(prefix)) {
                buckets[(int) (at / 100)]++;
            }
        }
        return buckets;
    }

    /** @return applications between these epoch times (ms), of any key with the prefix */
    synchronized long countBetween(String prefix, long fromMillis, long toMillis) {
        long from = fromMillis * 1000;
        long to = toMillis * 1000;
        long n = 0;
        for (int i = all.size() - 1; i >= 0; i--) {
            Applied a = all.get(i);
            if (a.micros() >= from && a.micros() < to && a.key().startsWith(prefix)) {
                n++;
            }
        }
        return n;
    }
}
