package dev.eventline.config;

import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Makes the loaded descriptions injectable; a bad description stops start-up with its file and field. */
@ApplicationScoped
public class CatalogProducer {

    @Produces
    @Singleton
    FunctionCatalog catalog(EventlineConfig config) {
        return config.functions().dir()
                .map(dir -> FunctionCatalog.fromDirectory(Path.of(dir)))
                .orElseGet(() -> FunctionCatalog.fromClasspath(Thread.currentThread().getContextClassLoader()));
    }
}
