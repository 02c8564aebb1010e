package dev.gaffer.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Nearest-rank percentiles of a sample. */
final class Percentiles {

    private final List<Double> sorted;

    Percentiles(Collection<Double> values) {
        this.sorted = new ArrayList<>(values);
        this.sorted.sort(Double::compare);
        if (sorted.isEmpty()) {
            throw new IllegalArgumentException("no samples");
        }
    }

    double p(double percent) {
        int i = (int) Math.ceil(percent / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    double max() {
        return sorted.getLast();
    }

    int size() {
        return sorted.size();
    }
}
