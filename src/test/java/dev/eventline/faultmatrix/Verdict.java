package dev.eventline.faultmatrix;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What became of one row's accepted events, from the producers' record of what the gate accepted, the
 * instances' journals of what they applied, and the dead-letter queue:
 * <ul>
 * <li>lost: accepted, never applied and not dead-lettered;</li>
 * <li>reordered: applied for the first time before an earlier step of its key was (dead-lettered steps
 * aside);</li>
 * <li>duplicates: applications beyond the first of an accepted step (at-least-once redeliveries).</li>
 * </ul>
 */
record Verdict(long accepted, long processed, long deadLettered, long lost, long reordered, long duplicates) {

    /**
     * @param accepted     key → last step accepted (steps 1..n)
     * @param applied      every application of the row's keys
     * @param deadLettered "key/step" of the row's dead-lettered events
     */
    static Verdict of(Map<String, Long> accepted, List<Journals.Applied> applied, Set<String> deadLettered) {
        Map<String, Long> first = new HashMap<>();
        Map<String, Integer> times = new HashMap<>();
        for (Journals.Applied a : applied) {
            String id = a.key() + "/" + a.step();
            first.merge(id, a.micros(), Math::min);
            times.merge(id, 1, Integer::sum);
        }
        long total = 0;
        long processed = 0;
        long dead = 0;
        long lost = 0;
        long reordered = 0;
        long duplicates = 0;
        for (Map.Entry<String, Long> k : accepted.entrySet()) {
            long latest = Long.MIN_VALUE;
            for (long step = 1; step <= k.getValue(); step++) {
                String id = k.getKey() + "/" + step;
                total++;
                Long at = first.get(id);
                if (at != null) {
                    processed++;
                    duplicates += times.get(id) - 1;
                    if (at < latest) {
                        reordered++;
                    }
                    latest = Math.max(latest, at);
                } else if (deadLettered.contains(id)) {
                    dead++;
                } else {
                    lost++;
                }
            }
        }
        return new Verdict(total, processed, dead, lost, reordered, duplicates);
    }

    /** @return whether every accepted event is applied or dead-lettered */
    boolean complete() {
        return lost == 0;
    }
}
