package dev.eventline.functions.bench;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * An append-only record of every step the benchmark function applied, {@code <epoch µs> <key> <step>} per
 * line, written with one unbuffered write per step before the handler returns (so before its ack): what a
 * process applied survives its kill -9, and the fault matrix reads the journals of every instance to find
 * lost, reordered and duplicated events. A stream, not a FileChannel: an interrupted handler thread (a timed-out
 * call) would close a FileChannel for good.
 */
final class BenchJournal implements AutoCloseable {

    private final FileOutputStream file;

    BenchJournal(Path path) {
        try {
            this.file = new FileOutputStream(path.toFile(), true);
        } catch (IOException e) {
            throw new UncheckedIOException("eventline.bench.journal: cannot open " + path, e);
        }
    }

    synchronized void applied(String key, long step) {
        long micros = ChronoUnit.MICROS.between(Instant.EPOCH, Instant.now());
        try {
            file.write((micros + " " + key + " " + step + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("benchmark journal not written", e); // the call fails: retried
        }
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
