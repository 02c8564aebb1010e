package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobHistory;
import dev.gaffer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class NotificationListenerTest {

    static Database db;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("listener");
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @Test
    void deliversHintsAndComesBackAfterItsBackendIsTerminated() throws Exception {
        List<NotificationListener.Hint> hints = new CopyOnWriteArrayList<>();
        List<Boolean> changes = new CopyOnWriteArrayList<>();
        try (NotificationListener listener =
                new NotificationListener(db, JobHistory.CHANNEL, Duration.ofMillis(300), Duration.ofMillis(500))) {
            listener.subscribe(new NotificationListener.Subscriber() {
                        @Override
                        public void onHint(NotificationListener.Hint hint) {
                            hints.add(hint);
                        }

                        @Override
                        public void onConnectionChange(boolean listening) {
                            changes.add(listening);
                        }
                    })
                    .start();
            await(listener::isListening);
            JobFixtures fx = new JobFixtures(db);
            long first = fx.approved("noop").id();
            await(() -> hints.stream().anyMatch(h -> "approved".equals(h.event()) && h.id() == first));
            assertThat(hints).contains(new NotificationListener.Hint("approved", first, "default"));

            int pid = listener.backendPid();
            try (Connection c = db.connection();
                    PreparedStatement ps = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
                ps.setInt(1, pid);
                ps.execute();
            }
            await(() -> listener.connects() >= 2 && listener.isListening());
            assertThat(listener.backendPid()).isNotEqualTo(pid);
            assertThat(changes).containsSubsequence(true, false, true);

            long second = fx.approved("noop").id();
            await(() -> hints.stream().anyMatch(h -> "approved".equals(h.event()) && h.id() == second));
        }
    }

    @Test
    void ignoresPayloadsThatAreNotGaffers() {
        assertThat(NotificationListener.parse("not json")).isNull();
        assertThat(NotificationListener.parse("{\"event\":\"claimed\",\"queue\":\"q\"}"))
                .isEqualTo(new NotificationListener.Hint("claimed", null, "q"));
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within 20 s");
            }
            Thread.sleep(20);
        }
    }
}
