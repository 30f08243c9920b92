package dev.eventline.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;


/**
 * Rewrites what is generated from the function descriptions: the Kubernetes files ({@link Manifests}) and the
 * Terraform module's {@link TopologyFile}. {@code ./mvnw -q -Pmanifests process-test-classes}, after a
 * {@code function.yaml} changed. Deletes generated files whose function is gone, and prints what it wrote,
 * changed or deleted; review the diff and commit it ({@code ManifestsTest} and {@code TerraformTopologyTest} fail
 * while the committed files differ from the generator's output). With {@code -Dmanifests.args="--topology <file>
 * <functions-dir>"} it writes only a topology file, for descriptions kept elsewhere.
 */
public final class ManifestsCommand {

    private ManifestsCommand() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length > 0 && args[0].equals("--topology")) {
            topologyOnly(args);
            return;
        }
        Path root = Path.of(args.length > 0 ? args[0] : "").toAbsolutePath();
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
