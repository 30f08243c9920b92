package dev.eventline.faultmatrix;

import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntConsumer;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import dev.eventline.testsupport.LocalCluster;
import dev.eventline.testsupport.TcpProxy;

/**
 * One row of the fault matrix: what is done to the cluster or the application while the load runs, and
 * how it is undone before the next row.
 */
abstract class Fault {

    /** What a fault acts on. */
    record Target(LocalCluster cluster, List<TcpProxy> proxies, AppProcess gate, List<AppProcess> functions,
            String queuePrefix) {
    }

    final String name;

    Fault(String name) {
        this.name = name;
    }

    /** Injects the fault; returns once it is over (an alarm cleared, a node back), or at once for a kill. */
    abstract void inject(Target t) throws Exception;

    /** Puts things back for the next row (a killed node restarted, a killed instance replaced). */
    void restore(Target t) throws Exception {
    }

    /** Sets what the row's events ask of the handler (poison, hang). */
    void load(ClosedLoop load) {
    }

    /** Whether producers may find nothing listening (the gate itself restarts). */
    boolean gateDown() {
        return false;
    }

    /**
     * Runs the action for every node at once, each on a thread of its own, and waits for all of them. Not a
     * parallel stream: on two cores that runs two at a time, and a node restarted after a full stop waits for
     * its peers, so the third start would wait for the first two, which wait for it (RabbitMQ gives up after
     * 5 minutes).
     */
    static void allAtOnce(int nodes, IntConsumer action) {
        ExecutorService threads = Executors.newFixedThreadPool(nodes);
        try {
            List<Future<?>> all = IntStream.range(0, nodes).mapToObj(i -> threads.submit(() -> action.accept(i)))
                    .collect(Collectors.toList());
            for (Future<?> f : all) {
                f.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            threads.shutdownNow();
        }
    }

    /** Holds a fault for a while: the load runs meanwhile (not test synchronisation). */
    static void hold(Duration d) {
        java.util.concurrent.locks.LockSupport.parkNanos(d.toNanos());
    }

    static void awaitHealthy(Target t) {
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(500)).until(t.cluster()::healthy);
    }

    /** Every row of the matrix, in the order they run. */
    static List<Fault> all() {
        return List.of(
                new NodeKill("kill -9 of the node leading a partition", true),
                new NodeKill("kill -9 of a follower node", false),
                simple("stop_app/start_app of one broker", t -> {
                    t.cluster().stopApp(0);
                    t.cluster().startApp(0);
                }),
                simple("stop and restart of one node", t -> {
                    t.cluster().stop(1);
                    t.cluster().start(1);
                }),
                simple("rolling restart of all three nodes", t -> {
                    for (int i = 0; i < t.cluster().nodes().size(); i++) {
                        t.cluster().stop(i);
                        t.cluster().start(i);
                        awaitHealthy(t);
                    }
                }),
                simple("full cluster restart", t -> {
                    allAtOnce(t.cluster().nodes().size(), t.cluster()::stop);
                    allAtOnce(t.cluster().nodes().size(), t.cluster()::start);
                    awaitHealthy(t);
                }),
                simple("memory alarm for 8 s", t -> {
                    t.cluster().memoryAlarm(2, true);
                    hold(Duration.ofSeconds(8));
                    t.cluster().memoryAlarm(2, false);
                }),
                simple("disk alarm for 8 s", t -> {
                    t.cluster().diskAlarm(1, true);
                    hold(Duration.ofSeconds(8));
                    t.cluster().diskAlarm(1, false);
                }),
                new InstanceKill(),
                simple("connections cut between application and broker (TCP proxy reset)",
                        t -> t.proxies().forEach(TcpProxy::cutAll)),
                simple("every connection of one instance closed at once", t -> await().atMost(Duration.ofSeconds(30))
                        .until(() -> t.cluster().closeConnections(
                                n -> n.endsWith("@" + t.functions().get(1).instance())) >= 3)),
                new GateRestart(),
                new LoadFault("poison events under load", "poison", 25, 0),
                new LoadFault("a hanging handler under load", "hang", 200, 3_000));
    }

    interface Action {
        void run(Target t) throws Exception;
    }

    static Fault simple(String name, Action action) {
        return new Fault(name) {
            @Override
            void inject(Target t) throws Exception {
                action.run(t);
            }

            @Override
            void restore(Target t) {
                awaitHealthy(t);
            }
        };
    }

    /** kill -9 of a broker node: the leader of partition 0, or a node that leads no partition if there is one. */
    static final class NodeKill extends Fault {
        private final boolean leader;
        private int killed = -1;

        NodeKill(String name, boolean leader) {
            super(name);
            this.leader = leader;
        }

        @Override
        void inject(Target t) {
            Optional<Integer> lead = t.cluster().leaderOf(t.queuePrefix() + "bench-0");
            int n = t.cluster().nodes().size();
            killed = leader ? lead.orElse(0) : follower(t, lead.orElse(0), n);
            t.cluster().kill(killed);
        }

        private static int follower(Target t, int leaderOfFirst, int n) {
            for (int i = 0; i < n; i++) {
                int node = i;
                boolean leadsAny = IntStream.range(0, FaultMatrix.PARTITIONS).anyMatch(p -> t.cluster()
                        .leaderOf(t.queuePrefix() + "bench-" + p).orElse(-1) == node);
                if (!leadsAny) {
                    return i;
                }
            }
            return (leaderOfFirst + 1) % n;
        }

        @Override
        void restore(Target t) {
            t.cluster().start(killed);
            awaitHealthy(t);
        }
    }

    /** kill -9 of one of the two function instances; the other takes its partitions; a new one joins after. */
    static final class InstanceKill extends Fault {
        InstanceKill() {
            super("kill -9 of an application instance");
        }

        @Override
        void inject(Target t) {
            t.functions().get(0).kill();
        }

        @Override
        void restore(Target t) {
            t.functions().get(0).start();
        }
    }

    /** The gate stops (SIGTERM) and starts again while producers keep sending. */
    static final class GateRestart extends Fault {
        GateRestart() {
            super("gate restart under load");
        }

        @Override
        void inject(Target t) {
            t.gate().stop();
            t.gate().start();
        }

        @Override
        boolean gateDown() {
            return true;
        }
    }

    /** For 10 s, one event in {@code every} asks the handler to fail for good (poison) or to hang past its timeout. */
    static final class LoadFault extends Fault {
        private final String kind;
        private final int every;
        private final long hangMs;
        private ClosedLoop load;

        LoadFault(String name, String kind, int every, long hangMs) {
            super(name);
            this.kind = kind;
            this.every = every;
            this.hangMs = hangMs;
        }

        @Override
        void load(ClosedLoop load) {
            this.load = load;
        }

        @Override
        void inject(Target t) {
            load.faults((key, step) -> Math.floorMod((key + "/" + step).hashCode(), every) == 0 ? kind : null, hangMs);
            hold(Duration.ofSeconds(10));
            load.faults((key, step) -> null, 0);
        }
    }
}
