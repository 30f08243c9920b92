package dev.eventline.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away certificate authority with a broker certificate (for localhost and 127.0.0.1) and a client
 * certificate, made with the JDK's keytool (no openssl needed): PEM files for the broker's
 * {@code ssl_options}, PKCS12 stores for the application's {@code rabbitmq.tls.*}.
 */
public final class TestCertificates {

    /** The password of every store made here. */
    public static final String PASSWORD = "changeit-test";

    private final Path dir;

    private TestCertificates(Path dir) {
        this.dir = dir;
    }

    /** Makes a new authority and its certificates in {@code dir} (created), named after {@code ca}. */
    public static TestCertificates create(Path dir, String ca) {
        TestCertificates c = new TestCertificates(dir);
        try {
            Files.createDirectories(dir);
            c.authority(ca);
            c.signed("server", "CN=localhost", "SAN=dns:localhost,ip:127.0.0.1");
            c.signed("client", "CN=eventline-test-client", null);
            c.keytool("-importcert", "-noprompt", "-alias", "ca", "-file", c.file("ca.pem"), "-keystore",
                    c.file("trust.p12"), "-storetype", "PKCS12", "-storepass", PASSWORD);
            c.pemKey("server");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make test certificates in " + dir, e);
        }
        return c;
    }

    public Path caPem() {
        return dir.resolve("ca.pem");
    }

    public Path serverPem() {
        return dir.resolve("server.pem");
    }

    public Path serverKeyPem() {
        return dir.resolve("server-key.pem");
    }

    /** The CA only: what a client trusts. */
    public Path trustStore() {
        return dir.resolve("trust.p12");
    }

    /** The client's key with its certificate chain. */
    public Path clientKeyStore() {
        return dir.resolve("client.p12");
    }

    private void authority(String ca) throws IOException {
        keytool("-genkeypair", "-alias", "ca", "-keyalg", "RSA", "-keysize", "2048", "-dname", "CN=" + ca,
                "-ext", "bc:c", "-validity", "2", "-keystore", file("ca.p12"), "-storetype", "PKCS12", "-storepass",
                PASSWORD);
        keytool("-exportcert", "-rfc", "-alias", "ca", "-keystore", file("ca.p12"), "-storepass", PASSWORD, "-file",
                file("ca.pem"));
    }

    /** A key pair in {@code <name>.p12}, its certificate signed by the CA in {@code <name>.pem} and in the store. */
    private void signed(String name, String dname, String extension) throws IOException {
        String store = file(name + ".p12");
        keytool("-genkeypair", "-alias", name, "-keyalg", "RSA", "-keysize", "2048", "-dname", dname, "-validity",
                "2", "-keystore", store, "-storetype", "PKCS12", "-storepass", PASSWORD);
        keytool("-certreq", "-alias", name, "-keystore", store, "-storepass", PASSWORD, "-file", file(name + ".csr"));
        List<String> sign = new ArrayList<>(List.of("-gencert", "-rfc", "-alias", "ca", "-keystore", file("ca.p12"),
                "-storepass", PASSWORD, "-validity", "2", "-infile", file(name + ".csr"), "-outfile",
                file(name + ".pem")));
        if (extension != null) {
            sign.addAll(List.of("-ext", extension));
        }
        keytool(sign.toArray(String[]::new));
        keytool("-importcert", "-noprompt", "-alias", "ca", "-file", file("ca.pem"), "-keystore", store,
                "-storepass", PASSWORD);
        keytool("-importcert", "-alias", name, "-file", file(name + ".pem"), "-keystore", store, "-storepass",
                PASSWORD);
    }

    /** The broker reads its key as PEM (PKCS#8), which keytool cannot write: the JDK encodes it. */
    private void pemKey(String name) throws IOException {
        try {
            KeyStore store = KeyStore.getInstance(dir.resolve(name + ".p12").toFile(), PASSWORD.toCharArray());
            PrivateKey key = (PrivateKey) store.getKey(name, PASSWORD.toCharArray());
            String body = Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(key.getEncoded());
            Files.writeString(dir.resolve(name + "-key.pem"),
                    "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n");
        } catch (java.security.GeneralSecurityException e) {
            throw new IOException("cannot read the key of " + name, e);
        }
    }

    private String file(String name) {
        return dir.resolve(name).toString();
    }

    private void keytool(String... args) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("keytool.log").toFile())).start();
        try {
            if (!p.waitFor(Duration.ofSeconds(60).toSeconds(), TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool " + args[0] + " failed; see " + dir.resolve("keytool.log"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
