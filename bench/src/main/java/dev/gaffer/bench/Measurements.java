package dev.gaffer.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The values of one scenario run, by metric, with units and (where the issue sets one) a target. */
final class Measurements {

    /** A target: the median must be at least (or at most) {@code bound}. */
    record Target(boolean atLeast, double bound, String text) {
        boolean met(double value) {
            return atLeast ? value >= bound : value <= bound;
        }

        static Target atLeast(double bound, String text) {
            return new Target(true, bound, text);
        }

        static Target atMost(double bound, String text) {
            return new Target(false, bound, text);
        }
    }

    record Metric(String name, String unit, Target target) {}

    final Map<String, Metric> metrics = new LinkedHashMap<>();
    final Map<String, Double> values = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();
    /** What went wrong in a part of the run that did not abort it (a peer that timed out, say). */
    final List<String> failures = new ArrayList<>();

    void put(String name, double value, String unit) {
        put(name, value, unit, null);
    }

    void put(String name, double value, String unit, Target target) {
        metrics.put(name, new Metric(name, unit, target));
        values.put(name, value);
    }

    void note(String text) {
        notes.add(text);
    }

    void fail(String text) {
        failures.add(text);
    }
}
