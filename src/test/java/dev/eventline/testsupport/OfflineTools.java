package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the Node.js checkers in {@code tools/offline-check} (HCL2 parser, Kubernetes/Knative/KEDA schemas), the
 * offline stand-ins for {@code terraform validate} and {@code kubectl apply --dry-run}. Installs their pinned
 * packages ({@code npm ci}) the first time. Node.js 20+ is a build requirement like the JDK: without it these
 * tests fail and say so, since a check that does not run must not pass.
 */
public final class OfflineTools {

    /** The npm project, relative to the repository root (the tests' working directory). */
    public static final Path DIR = Path.of("tools", "offline-check").toAbsolutePath();

    private static volatile boolean installed;

    private OfflineTools() {
    }

    /** What a checker printed and how it ended. */
    public record Result(int exitCode, String stdout, String stderr) {

        public Result orFail(String what) {
            if (exitCode != 0) {
                throw new AssertionError(what + " failed (exit " + exitCode + "):\n" + stdout + "\n" + stderr);
            }
            return this;
        }
    }

    /** Runs {@code node tools/offline-check/<script> args...} in the repository root. */
    public static Result node(String script, String... args) {
        ensureInstalled();
        List<String> command = new ArrayList<>(List.of("node", DIR.resolve(script).toString()));
        command.addAll(List.of(args));
        return run(command, Path.of("").toAbsolutePath(), 120);
    }

    private static synchronized void ensureInstalled() {
        if (installed) {
            return;
        }
        Path lock = DIR.resolve("package-lock.json");
        Path marker = DIR.resolve("node_modules").resolve(".eventline-installed");
        try (FileChannel channel = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"), "eventline-npm.lock"),
                StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            String want = Files.readString(lock);
            if (!Files.exists(marker) || !Files.readString(marker).equals(want)) {
                requireNode();
                run(List.of("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"), DIR, 600)
                        .orFail("npm ci in " + DIR + " (needs the npm registry once)");
                Files.writeString(marker, want);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot install the offline checkers in " + DIR, e);
        }
        installed = true;
    }

    private static void requireNode() {
        Result version;
        try {
            version = run(List.of("node", "--version"), DIR, 30);
        } catch (UncheckedIOException e) {
            throw new AssertionError("Node.js 20+ is needed for the offline Terraform and Kubernetes checks "
                    + "(Debian/Ubuntu: apt-get install nodejs npm): " + e.getMessage(), e);
        }
        String v = version.stdout().trim();
        int major = v.startsWith("v") ? Integer.parseInt(v.substring(1, v.indexOf('.'))) : 0;
        if (major < 20) {
            throw new AssertionError("Node.js 20+ is needed for the offline checks, found " + v);
        }
    }

    private static Result run(List<String> command, Path dir, int timeoutSeconds) {
        try {
            Path out = Files.createTempFile("offline-check", ".out");
            Path err = Files.createTempFile("offline-check", ".err");
            try {
                Process process = new ProcessBuilder(command).directory(dir.toFile())
                        .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
                process.getOutputStream().close();
                if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError(command + " did not finish in " + timeoutSeconds + " s");
                }
                return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                        Files.readString(err, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
                Files.deleteIfExists(err);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + command, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + command, e);
        }
    }
}
