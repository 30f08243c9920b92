package dev.eventline.app;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.health.Readiness;
import org.jboss.logging.Logger;

import com.rabbitmq.client.Connection;

import dev.eventline.admin.AdminRoutes;
import dev.eventline.broker.Broker;
import dev.eventline.broker.BrokerConfig;
import dev.eventline.broker.ConfirmingPublisher;
import dev.eventline.broker.Publishing;
import dev.eventline.broker.StatusExchange;
import dev.eventline.config.EventlineConfig.TriggerSettings.Mode;
import dev.eventline.config.EventlineConfig;
import dev.eventline.config.FunctionCatalog;
import dev.eventline.config.FunctionDescription;
import dev.eventline.gate.ProducerAuth;
import dev.eventline.metrics.FunctionLoad;
import dev.eventline.metrics.PipelineMetrics;
import dev.eventline.metrics.QueueMonitor;
import dev.eventline.topology.Names;
import dev.eventline.topology.TopologyManager;
import dev.eventline.trigger.Trigger;
import dev.eventline.util.Daemons;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;

/**
 * Start-up and shutdown. Configuration that cannot work (a bad description, an unknown function name, an
 * event type without a handler) stops start-up. A broker that cannot be reached does not: the process starts,
 * reports not ready, answers {@code 503} at the gate, and keeps trying; once connected it declares (or
 * verifies) the topology, opens the gate's publisher and starts the functions' consumers.
 */
@ApplicationScoped
public class Lifecycle {

    private static final Logger LOG = Logger.getLogger(Lifecycle.class);

    @Inject
    EventlineConfig config;
    @Inject
    BrokerConfig brokerConfig;
    @Inject
    FunctionCatalog catalog;
    @Inject
    Broker broker;
    @Inject
    Names names;
    @Inject
    Publishing publishing;
    @Inject
    Trigger trigger;
    @Inject
    @Readiness
    Status status;
    @Inject
    QueueMonitor monitor;
    @Inject
    FunctionLoad load;
    @Inject
    PipelineMetrics metrics;

    private final ScheduledExecutorService retries = Daemons.scheduler("eventline-connect");
    private final ScheduledExecutorService monitors = Daemons.scheduler("eventline-monitor");
    private List<FunctionDescription> functions;
    private Trigger.Running running;
    private volatile boolean stopped;

    void onStart(@Observes StartupEvent event) {
        AdminRoutes.requiredToken(config.admin());
        if (config.gate().enabled()) {
            new ProducerAuth(config.gate()); // no producer and not open: start-up fails here, saying why
        }
        functions = catalog.select(config.functions().enabled());
        trigger.check(functions);
        LOG.infof("eventline instance %s: broker %s, gate %s, functions %s (%s trigger)", instance(), broker.describe(),
                config.gate().enabled() ? "on" : "off", functions.stream().map(FunctionDescription::name).toList(),
                config.trigger().mode().name().toLowerCase(Locale.ROOT));
        monitor.instance(instance());
        metrics.registerProcess();
        connect();
        long every = config.monitor().interval().toMillis();
        // the gate watches every function it publishes to; a function-only process, the ones it runs
        List<FunctionDescription> watched = config.gate().enabled() ? List.copyOf(catalog.all()) : functions;
        if (config.gate().enabled()) {
            catalog.all().forEach(metrics::registerGate);
        }
        monitors.scheduleWithFixedDelay(() -> monitor.poll(watched), 0, every, TimeUnit.MILLISECONDS);
    }

    private synchronized void connect() {
        if (stopped || status.connected()) {
            return;
        }
        try {
            long t0 = System.nanoTime();
            status.topology(applyTopology());
            long topologyAt = System.nanoTime();
            boolean http = config.trigger().mode() == Mode.HTTP;
            // the gate publishes events; the HTTP trigger, the dead letters Knative delivery posts to /dead-letters
            if ((config.gate().enabled() || http) && publishing.publisher().isEmpty()) {
                // its own connection, reopened by itself: confirm channels never outlive the connection they counted on
                publishing.set(ConfirmingPublisher.open(broker, (http ? "eventline-http@" : "eventline-gate@") + instance(),
                        brokerConfig.publisherChannels(), brokerConfig.maxUnconfirmed(), brokerConfig.reconnectInterval()));
            }
            long publisherAt = System.nanoTime();
            if (config.gate().enabled()) {
                load.start(broker, instance());
            }
            long reportsAt = System.nanoTime();
            // with the HTTP trigger the RabbitMQ source consumes the partitions, not this process
            running = trigger.launch(instance(), http ? List.of() : functions);
            status.connected(running);
            long end = System.nanoTime();
            LOG.infof("connected in %d ms: topology %d ms, publisher %d ms, progress reports %d ms, consumers %d ms",
                    (end - t0) / 1_000_000, (topologyAt - t0) / 1_000_000, (publisherAt - topologyAt) / 1_000_000,
                    (reportsAt - publisherAt) / 1_000_000, (end - reportsAt) / 1_000_000);
        } catch (IOException | TimeoutException | RuntimeException e) {
            Duration retry = brokerConfig.reconnectInterval();
            String why = Broker.reason(e);
            LOG.warnf("broker %s not reachable or not usable: %s; trying again in %s", broker.describe(), why, retry);
            LOG.debug("connect failure", e);
            status.failed(why);
            retries.schedule(this::connect, retry.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Declares or verifies the topology of the functions this process uses, on a short-lived connection. */
    private List<String> applyTopology() throws IOException, TimeoutException {
        TopologyManager topology = new TopologyManager(names);
        List<String> differences = new ArrayList<>();
        try (Connection connection = broker.open("eventline-topology@" + instance())) {
            // progress reports of consumers to gates: internal; durable, so that the gates' bindings (recovered by
            // the client) find it again after a broker restart. Verify mode only checks it (provisioned with the
            // rest, e.g. by Terraform): a passive check needs no permission
            var ch = connection.createChannel();
            try {
                if (config.topology().declare()) {
                    StatusExchange.declare(ch, names.statusExchange());
                } else {
                    ch.exchangeDeclarePassive(names.statusExchange());
                }
            } catch (IOException e) {
                LOG.warnf("status exchange %s cannot be %s (%s): gates will not see drain rates or "
                        + "consumers' lag, and admission falls back to depth alone", names.statusExchange(),
                        config.topology().declare() ? "declared" : "found", Broker.reason(e));
            } finally {
                Broker.closeQuietly(ch);
            }
            // the gate publishes to every function; a process without it touches only the functions it runs (a
            // function's pod verifies its own topology, not every other function's: less of its cold start)
            for (FunctionDescription fn : config.gate().enabled() ? catalog.all() : functions) {
                topology.apply(connection, fn, config.topology().declare())
                        .forEach(d -> differences.add(fn.name() + ": " + d));
            }
        }
        return differences;
    }

    void onStop(@Observes ShutdownEvent event) {
        stopped = true;
        retries.shutdownNow();
        monitors.shutdownNow();
        monitor.close();
        load.close();
        synchronized (this) {
            if (running != null) {
                running.stop(Duration.ofSeconds(30));
            }
            publishing.set(null);
        }
    }

    /** This process's name in connection names and consumer tags. */
    public String instance() {
        return config.instanceId().orElseGet(Lifecycle::defaultInstance);
    }

    private static String defaultInstance() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        return host + "-" + ManagementFactory.getRuntimeMXBean().getPid();
    }
}
