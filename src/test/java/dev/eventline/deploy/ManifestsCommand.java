package dev.eventline.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

import dev.eventline.config.FunctionCatalog;


/**
 * Rewrites what is generated from the function descriptions: the Kubernetes files ({@link Manifests}) and the
 * Terraform module's {@link TopologyFile}. {@code ./mvnw -q -Pmanifests process-test-classes}, after a
 * {@code function.yaml} changed. Deletes generated files whose function is gone, and prints what it wrote,
 * changed or deleted; review the diff and commit it ({@code ManifestsTest} and {@code TerraformTopologyTest} fail
 * while the committed files differ from the generator's output). With {@code -Dmanifests.args="--topology <file>
 * <functions-dir>"} it writes only a topology file, for descriptions kept elsewhere; with
 * {@code -Dmanifests.args="--out <dir> --image ... --prefix ..."} one deployment's Kubernetes files ({@link #SETTINGS}).
 */
public final class ManifestsCommand {

    private ManifestsCommand() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 0 && args[0].equals("--topology")) {
            topologyOnly(args);
            return;
        }
        Map<String, String> flags = flags(args);
        Path root = Path.of(flags.getOrDefault("--root", "")).toAbsolutePath();
        if (flags.containsKey("--out")) {
            deployment(root, flags);
            return;
        }
        Manifests manifests = Manifests.forRepository(root);
        SortedMap<String, String> rendered = manifests.render();
        rendered.put(TopologyFile.PATH, TopologyFile.render(root.resolve("functions")));
        List<String> changed = new ArrayList<>();
        for (var file : rendered.entrySet()) {
            Path path = root.resolve(file.getKey());
            if (!Files.exists(path) || !Files.readString(path).equals(file.getValue())) {
                changed.add(file.getKey());
            }
        }
        List<String> stale = manifests.stale(rendered);
        for (String file : stale) {
            Files.delete(root.resolve(file));
        }
        manifests.write(rendered);
        System.out.println("manifests: " + rendered.size() + " files from " + manifests.catalog().all().size()
                + " function descriptions; changed " + changed + ", deleted " + stale);
    }

    /** The deployment settings a set of manifests may be written with, and what each sets. */
    static final Map<String, String> SETTINGS = Map.of(
            "--out", "the directory the set is written to, in the repository's layout (required for the others)",
            "--image", "registry/name:tag of the images; function <fn> runs <registry/name>-<fn>:<tag>, the gate -gate",
            "--prefix", "EVENTLINE_TOPOLOGY_PREFIX of every process (Terraform's prefix): [A-Za-z0-9._-]",
            "--vhost", "the virtual host in the Secrets' broker URLs and the sources' settings",
            "--cluster", "the RabbitmqCluster's name (the broker's host in the URLs)",
            "--root", "the repository (default: the working directory)");

    /**
     * {@code --out <dir> [--image ...] [--prefix ...] [--vhost ...] [--cluster ...]}: one deployment's Kubernetes
     * files, with its settings in every manifest, written under {@code dir} (the committed files, with the
     * defaults, stay as they are). Validate and apply them as the committed ones (docs/deploying.md).
     */
    private static void deployment(Path root, Map<String, String> flags) throws IOException {
        FunctionCatalog catalog = FunctionCatalog.fromDirectory(root.resolve("functions"));
        Manifests.Options d = Manifests.defaults(catalog);
        String prefix = flags.getOrDefault("--prefix", d.prefix());
        if (!prefix.matches("[A-Za-z0-9._-]*")) {
            throw new IllegalArgumentException("--prefix may hold only letters, digits, '.', '_' and '-', as Terraform's");
        }
        String image = flags.getOrDefault("--image", d.image());
        // [registry[:port]/]path:tag; not a digest: each function's image is this name with -<fn> appended
        if (!image.matches("([a-z0-9][a-z0-9.-]*(:[0-9]+)?/)?[a-z0-9]+([._/-][a-z0-9]+)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")) {
            throw new IllegalArgumentException("--image must be [registry[:port]/]name:tag (lower-case name, a tag; not a "
                    + "digest: function <fn> runs <name>-<fn>:<tag>), not " + image);
        }
        Manifests manifests = new Manifests(root, catalog, new Manifests.Options(image, prefix,
                flags.getOrDefault("--vhost", d.vhost()), flags.getOrDefault("--cluster", d.clusterName()), d.producers()));
        Path out = Path.of(flags.get("--out")).toAbsolutePath().normalize();
        if (out.equals(root.normalize())) {
            throw new IllegalArgumentException("--out must not be the repository: its files keep the defaults (ManifestsTest)");
        }
        SortedMap<String, String> rendered = manifests.render();
        // files this command wrote there before whose function is gone
        try (var old = Files.exists(out) ? Files.walk(out) : java.util.stream.Stream.<Path>empty()) {
            for (Path file : old.filter(Files::isRegularFile).toList()) {
                String relative = out.relativize(file).toString().replace('\\', '/');
                if (!rendered.containsKey(relative) && Files.readString(file).startsWith(Manifests.GENERATED_MARK)) {
                    Files.delete(file);
                }
            }
        }
        for (var file : rendered.entrySet()) {
            Path path = out.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.writeString(path, file.getValue());
        }
        System.out.println("manifests: " + rendered.size() + " files under " + out + " (image " + image + ", prefix '"
                + prefix + "')");
    }

    private static Map<String, String> flags(String[] args) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!SETTINGS.containsKey(args[i]) || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: [--topology <file> <functions-dir>] or any of "
                        + new TreeMap<>(SETTINGS) + "; not " + String.join(" ", args));
            }
            flags.put(args[i], args[i + 1]);
        }
        if (flags.size() > (flags.containsKey("--root") ? 1 : 0) && !flags.containsKey("--out")) {
            throw new IllegalArgumentException("deployment settings need --out <dir>: the committed files keep the defaults");
        }
        return flags;
    }

    /**
     * {@code --topology <file> <functions-dir>}: only the Terraform module's topology file, for descriptions kept
     * outside this repository's {@code functions/} (the module's {@code topology_file}).
     */
    private static void topologyOnly(String[] args) throws IOException {
        if (args.length != 3) {
            throw new IllegalArgumentException("usage: --topology <topology.json to write> <directory of <name>/function.yaml>");
        }
        Path out = Path.of(args[1]).toAbsolutePath();
        Path functions = Path.of(args[2]).toAbsolutePath();
        if (!Files.isDirectory(functions)) {
            throw new IllegalArgumentException(functions + " is not a directory of <name>/function.yaml");
        }
        Files.writeString(out, TopologyFile.render(functions));
        System.out.println("topology: " + out + " from the function descriptions in " + functions);
    }
}
