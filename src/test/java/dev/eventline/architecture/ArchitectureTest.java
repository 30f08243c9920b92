package dev.eventline.architecture;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The package walls, checked on the compiled product classes (not the tests): a wrong import fails the build.
 * <p>
 * Floors, lowest first; a floor uses only floors below it:
 * <ol>
 * <li>{@code config}, {@code util}, {@code cloudevents}: descriptions, settings, small helpers, the CloudEvents
 * rules the producer client shares (its sources, compiled in);</li>
 * <li>{@code broker}: connections, confirms, the message format;</li>
 * <li>{@code topology}: names and the declared topology;</li>
 * <li>{@code fault}, {@code metrics}, {@code http}: retry and dead-letter rules, what the pipeline measures
 * (queue depth, each function's load), what the HTTP doors share (reading CloudEvents, the error body);</li>
 * <li>the doors, {@code gate}, {@code trigger}, {@code admin}, which never use one another;</li>
 * <li>{@code app}: start-up and wiring.</li>
 * </ol>
 * The functions ({@code functions.*}) are plain Java for the triggers to call: they use {@code fault}'s
 * {@code NonRetryableException} at most, and nothing uses them by name. The benchmark's functions are not
 * product: {@code src/bench/java}, built into the application only by {@code -Pbench} and {@code -Pfaults}.
 */
class ArchitectureTest {

    private static JavaClasses product;

    @BeforeAll
    static void importProduct() {
        product = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
                .importPackages("dev.eventline");
    }

    @Test
    void floorsUseOnlyTheFloorsBelowThem() {
        layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("foundation").definedBy("dev.eventline.config..", "dev.eventline.util..", "dev.eventline.cloudevents..")
                .layer("broker").definedBy("dev.eventline.broker..")
                .layer("topology").definedBy("dev.eventline.topology..")
                .layer("services").definedBy("dev.eventline.fault..", "dev.eventline.metrics..", "dev.eventline.http..")
                .layer("doors").definedBy("dev.eventline.gate..", "dev.eventline.trigger..", "dev.eventline.admin..",
                        "dev.eventline.console..")
                .layer("app").definedBy("dev.eventline.app..")
                .layer("functions").definedBy("dev.eventline.functions..")
                .whereLayer("app").mayNotBeAccessedByAnyLayer()
                .whereLayer("doors").mayOnlyBeAccessedByLayers("app")
                .whereLayer("services").mayOnlyBeAccessedByLayers("doors", "app", "functions")
                .whereLayer("topology").mayOnlyBeAccessedByLayers("services", "doors", "app")
                .whereLayer("broker").mayOnlyBeAccessedByLayers("topology", "services", "doors", "app")
                .whereLayer("foundation").mayOnlyBeAccessedByLayers("broker", "topology", "services", "doors", "app")
                .whereLayer("functions").mayNotBeAccessedByAnyLayer()
                .check(product);
    }

    @Test
    void theDoorsNeverUseOneAnother() {
        String[][] walls = { { "gate", "trigger" }, { "gate", "admin" }, { "trigger", "gate" }, { "trigger", "admin" },
                { "admin", "gate" }, { "admin", "trigger" }, { "console", "gate" }, { "console", "trigger" },
                { "console", "admin" }, { "gate", "console" }, { "trigger", "console" }, { "admin", "console" } };
        for (String[] wall : walls) {
            noClasses().that().resideInAPackage("dev.eventline." + wall[0] + "..").should().dependOnClassesThat()
                    .resideInAPackage("dev.eventline." + wall[1] + "..").check(product);
        }
    }

    @Test
    void functionsUseNothingButFaultOfTheRuntime() {
        noClasses().that().resideInAPackage("dev.eventline.functions..").should().dependOnClassesThat()
                .resideInAnyPackage("dev.eventline.broker..", "dev.eventline.topology..", "dev.eventline.metrics..",
                        "dev.eventline.http..", "dev.eventline.gate..", "dev.eventline.trigger..", "dev.eventline.admin..",
                        "dev.eventline.app..", "dev.eventline.config..", "dev.eventline.util..")
                .check(product);
    }

    @Test
    void theProductShipsNoBenchmarkCode() {
        // the benchmark's functions live in src/bench/java, built in only by -Pbench and -Pfaults
        noClasses().should().resideInAPackage("dev.eventline.functions.bench..").check(product);
    }
}
