package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerConfigTest {

    @Test
    void unsetVariablesTakeTheDefaults() {
        WorkerConfig c = WorkerConfig.fromEnvironment(Map.of("GAFFER_WORKER_NAME", "w1"));
        assertThat(c.name()).isEqualTo("w1");
        assertThat(c.queues()).containsExactly("default");
        assertThat(c.concurrency()).isEqualTo(16);
        assertThat(c.pollInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.listen()).isTrue();
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.reclaimInterval()).isEqualTo(Duration.ofSeconds(2));
        assertThat(c.shutdownGrace()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.retention()).isEqualTo(Duration.ofDays(7));
        assertThat(c.jobTimeout()).isEqualTo(Duration.ofHours(1));
        assertThat(c.queueLimits()).isEmpty();
        assertThat(WorkerConfig.fromEnvironment(Map.of()).name()).isNotBlank();
    }

    @Test
    void readsEveryVariable() {
        WorkerConfig c = WorkerConfig.fromEnvironment(Map.ofEntries(
                Map.entry("GAFFER_QUEUES", "video, default"),
                Map.entry("GAFFER_CONCURRENCY", "64"),
                Map.entry("GAFFER_QUEUE_LIMITS", "video=2,default=8"),
                Map.entry("GAFFER_POLL_INTERVAL", "500ms"),
                Map.entry("GAFFER_LISTEN", "false"),
                Map.entry("GAFFER_HEARTBEAT_INTERVAL", "1s"),
                Map.entry("GAFFER_HEARTBEAT_TIMEOUT", "10s"),
                Map.entry("GAFFER_RECLAIM_INTERVAL", "3s"),
                Map.entry("GAFFER_SHUTDOWN_GRACE", "1m"),
                Map.entry("GAFFER_RETENTION", "30d"),
                Map.entry("GAFFER_AUDIT_RETENTION", "90d"),
                Map.entry("GAFFER_JOB_TIMEOUT", "2h")));
        assertThat(c.queues()).containsExactly("video", "default");
        assertThat(c.concurrency()).isEqualTo(64);
        assertThat(c.queueLimits()).isEqualTo(Map.of("video", 2, "default", 8));
        assertThat(c.pollInterval()).isEqualTo(Duration.ofMillis(500));
        assertThat(c.listen()).isFalse();
        assertThat(c.heartbeatInterval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(c.heartbeatTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.reclaimInterval()).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.shutdownGrace()).isEqualTo(Duration.ofMinutes(1));
        assertThat(c.retention()).isEqualTo(Duration.ofDays(30));
        assertThat(c.auditRetention()).isEqualTo(Duration.ofDays(90));
        assertThat(c.jobTimeout()).isEqualTo(Duration.ofHours(2));
    }

    @Test
    void wrongValuesFailWithAMessageNamingTheVariable() {
        assertFails(
                "GAFFER_CONCURRENCY", "abc", "GAFFER_CONCURRENCY must be a whole number between 1 and 1000, got 'abc'");
        assertFails("GAFFER_CONCURRENCY", "0", "GAFFER_CONCURRENCY must be a whole number between 1 and 1000");
        assertFails("GAFFER_POLL_INTERVAL", "fast", "GAFFER_POLL_INTERVAL must be a duration such as 500ms");
        assertFails("GAFFER_POLL_INTERVAL", "0s", "GAFFER_POLL_INTERVAL must be positive");
        assertFails("GAFFER_LISTEN", "maybe", "GAFFER_LISTEN must be true or false, got 'maybe'");
        assertFails("GAFFER_QUEUES", "Video!", "GAFFER_QUEUES must be a comma-separated list");
        assertFails("GAFFER_QUEUE_LIMITS", "video", "GAFFER_QUEUE_LIMITS must look like 'video=2,default=8'");
        assertFails("GAFFER_QUEUE_LIMITS", "video=2", "GAFFER_QUEUE_LIMITS names queue 'video'");
        assertFails("GAFFER_HEARTBEAT_TIMEOUT", "3s", "GAFFER_HEARTBEAT_TIMEOUT must be at least twice");
        assertFails("GAFFER_RETENTION", "7 days", "GAFFER_RETENTION must be a duration");
        assertFails("GAFFER_AUDIT_RETENTION", "29d", "GAFFER_AUDIT_RETENTION must be at least 30d");
        assertFails("GAFFER_JOB_TIMEOUT", "-1s", "GAFFER_JOB_TIMEOUT must be a duration");
        assertFails("GAFFER_WORKER_NAME", "a/b", "GAFFER_WORKER_NAME must be 1 to 100 characters without '/'");
    }

    @Test
    void parsesDurationsInEveryUnit() {
        assertThat(WorkerConfig.parseDuration("X", "250ms")).isEqualTo(Duration.ofMillis(250));
        assertThat(WorkerConfig.parseDuration("X", "2s")).isEqualTo(Duration.ofSeconds(2));
        assertThat(WorkerConfig.parseDuration("X", "5m")).isEqualTo(Duration.ofMinutes(5));
        assertThat(WorkerConfig.parseDuration("X", "1h")).isEqualTo(Duration.ofHours(1));
        assertThat(WorkerConfig.parseDuration("X", "7d")).isEqualTo(Duration.ofDays(7));
        assertThat(List.of("1", "s", "1.5s", "1 s"))
                .allSatisfy(t -> assertThatThrownBy(() -> WorkerConfig.parseDuration("X", t))
                        .isInstanceOf(IllegalArgumentException.class));
    }

    private static void assertFails(String variable, String value, String message) {
        java.util.Map<String, String> env = new java.util.HashMap<>(Map.of("GAFFER_WORKER_NAME", "w"));
        env.put(variable, value);
        assertThatThrownBy(() -> WorkerConfig.fromEnvironment(env))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void theDefaultNameIsUniquePerProcessAndFitsTheLimit() {
        String name = WorkerConfig.defaults().name();
        assertThat(name).endsWith("-" + ProcessHandle.current().pid());
        assertThat(name)
                .startsWith(WorkerConfig.hostName()
                        .substring(0, Math.min(10, WorkerConfig.hostName().length())));
        assertThat(name.length()).isLessThanOrEqualTo(100);
        assertThat(name).doesNotContain("/");
    }
}
