package dev.eventline.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.eventline.testsupport.OfflineTools;

/**
 * A plan of {@code terraform/examples/complete} by the offline evaluator ({@code tools/offline-check/terraform-plan.mjs}):
 * every resource instance the module would create, with its evaluated arguments, and the root outputs.
 */
final class TerraformPlan {

    /** The example root module: plans go through its {@code module "eventline"} call, as a user's would. */
    static final Path EXAMPLE = Path.of("terraform", "examples", "complete");

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);

    final JsonNode json;

    private TerraformPlan(JsonNode json) {
        this.json = json;
    }

    /** Runs the evaluator on a root module with these -var values; the result may be a failure. */
    static OfflineTools.Result run(Path root, Map<String, String> vars) {
        List<String> args = new ArrayList<>(List.of(root.toString()));
        vars.forEach((k, v) -> args.addAll(List.of("-var", k + "=" + v)));
        return OfflineTools.node("terraform-plan.mjs", args.toArray(String[]::new));
    }

    static TerraformPlan of(Path root, Map<String, String> vars) {
        OfflineTools.Result result = run(root, vars).orFail("terraform-plan.mjs " + root + " " + vars);
        return new TerraformPlan(readJson(result.stdout()));
    }

    /**
     * The example's plan for the descriptions in {@code functionsDir} under {@code prefix}, with a password for
     * every user ({@link #password}).
     */
    static TerraformPlan forFunctions(Path functionsDir, String prefix, Collection<String> functions,
            Map<String, String> extraVars) {
        Map<String, String> vars = new LinkedHashMap<>();
        vars.put("functions_dir", functionsDir.toAbsolutePath().toString());
        vars.put("prefix", prefix);
        vars.put("gate_password", password("gate"));
        vars.put("function_passwords", passwords(functions));
        vars.putAll(extraVars);
        return of(EXAMPLE, vars);
    }

    /** The password the tests give a role's user. */
    static String password(String role) {
        return "pw-" + role + "-0123456789";
    }

    /** function_passwords as an HCL map (keys quoted: function names may hold '-'). */
    static String passwords(Collection<String> functions) {
        return functions.stream().map(f -> "\"" + f + "\" = \"" + password("fn-" + f) + "\"")
                .collect(Collectors.joining(", ", "{", "}"));
    }

    /** Planned instances of one resource type. */
    List<JsonNode> resources(String type) {
        List<JsonNode> out = new ArrayList<>();
        json.get("resources").forEach(r -> {
            if (r.get("type").asText().equals(type)) {
                out.add(r);
            }
        });
        return out;
    }

    /** Planned instance by address, e.g. {@code module.eventline.rabbitmq_exchange.status}. */
    JsonNode resource(String address) {
        for (JsonNode r : json.get("resources")) {
            if (r.get("address").asText().equals(address)) {
                return r.get("values");
            }
        }
        throw new AssertionError("no planned resource " + address);
    }

    JsonNode output(String name) {
        JsonNode v = json.get("outputs").get(name);
        if (v == null) {
            throw new AssertionError("no output " + name);
        }
        return v;
    }

    static JsonNode readJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + text, e);
        }
    }
}
