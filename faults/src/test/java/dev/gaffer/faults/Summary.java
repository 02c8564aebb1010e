package dev.gaffer.faults;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One line of figures per scenario, printed and appended to target/faults-summary.txt; these are
 * the numbers docs/reliability.md reports.
 */
final class Summary {

    private final String scenario;
    private final Map<String, Object> figures = new LinkedHashMap<>();

    Summary(String scenario) {
        this.scenario = scenario;
    }

    Summary put(String key, Object value) {
        figures.put(key, value);
        return this;
    }

    Summary invariants(Cluster.Invariants inv) {
        return put("jobs", inv.jobs())
                .put("completed", inv.completed())
                .put("failed", inv.failed())
                .put("lost", inv.lost())
                .put("duplicate_completions", inv.duplicateCompletions())
                .put("executions", inv.executions())
                .put("extra_executions", inv.extraExecutions())
                .put("unexplained_executions", inv.unexplainedExecutions())
                .put("reclaims", inv.reclaims());
    }

    void write() {
        StringBuilder sb = new StringBuilder("FAULTS-SUMMARY scenario=").append(scenario);
        figures.forEach((k, v) -> sb.append(' ').append(k).append('=').append(v));
        String line = sb.toString();
        System.out.println(line);
        Path file = Path.of(System.getProperty("faults.summary", "target/faults-summary.txt"));
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Files.writeString(
                    file, line + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.err.println("cannot append to " + file + ": " + e);
        }
    }
}
