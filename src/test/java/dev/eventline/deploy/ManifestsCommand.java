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
 * while the committed files differ from the generator's output).
 */
public final class ManifestsCommand {

    private ManifestsCommand() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "").toAbsolutePath();
        Manifests manifests = Manifests.forRepository(root);
        SortedMap<String, String> rendered = manifests.render();
        rendered.put(TopologyFile.PATH, TopologyFile.render(manifests.catalog().all()));
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
}
