package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.testing.TestPostgres;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

class ListenSocketFactoryTest {

    @Test
    void aOneMillisecondReadWithNothingPendingTimesOutAndOtherReadsAreUntouched() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                Socket client = new ListenSocketFactory()
                        .createSocket(InetAddress.getLoopbackAddress(), server.getLocalPort());
                Socket peer = server.accept()) {
            InputStream in = client.getInputStream();
            OutputStream out = peer.getOutputStream();

            client.setSoTimeout(ListenSocketFactory.PEEK_TIMEOUT_MILLIS);
            // The factory's own answer, not the plain socket's "Read timed out" a millisecond later.
            assertThatThrownBy(in::read)
                    .isInstanceOf(SocketTimeoutException.class)
                    .hasMessage("nothing pending");
            assertThatThrownBy(() -> in.read(new byte[4], 0, 4))
                    .isInstanceOf(SocketTimeoutException.class)
                    .hasMessage("nothing pending");

            out.write(new byte[] {7, 8});
            out.flush();
            // Bytes that are there are read under the peek's timeout, as by a plain socket.
            awaitAvailable(in, 2);
            assertThat(in.read()).isEqualTo(7);

            // Any other timeout waits as usual: the byte written 100 ms later is read.
            client.setSoTimeout(5_000);
            assertThat(in.read()).isEqualTo(8);
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    Thread.sleep(100);
                    out.write(9);
                    out.flush();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            byte[] b = new byte[4];
            assertThat(in.read(b, 0, b.length)).isEqualTo(1);
            assertThat(b[0]).isEqualTo((byte) 9);
            writer.join();
        }
    }

    @Test
    void theListenConnectionUsesItAndLosesNoNotification() throws Exception {
        try (Database db = TestPostgres.freshDatabase("listen_socket");
                Connection listener = db.dedicatedConnection("test-listen");
                Connection sender = db.connection()) {
            // The factory is in use (pgjdbc keeps the socket in its stream, read here by reflection).
            assertThat(socketOf(listener)).isInstanceOf(ListenSocketFactory.PromptSocket.class);
            assertThat(socketOf(sender)).isNotInstanceOf(ListenSocketFactory.PromptSocket.class);
            try (Statement st = listener.createStatement()) {
                st.execute("LISTEN socket_test");
            }
            PGConnection pg = listener.unwrap(PGConnection.class);
            int n = 300;
            Set<String> received = new HashSet<>();
            Thread sending = Thread.ofPlatform().start(() -> {
                try (PreparedStatement ps = sender.prepareStatement("SELECT pg_notify('socket_test', ?)")) {
                    for (int i = 0; i < n; i++) {
                        ps.setString(1, "n" + i);
                        ps.execute();
                        if (i % 50 == 0) {
                            Thread.sleep(20);
                        }
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            long end = System.nanoTime() + 30_000_000_000L;
            while (received.size() < n && System.nanoTime() < end) {
                PGNotification[] ns = pg.getNotifications(500);
                if (ns != null) {
                    for (PGNotification x : ns) {
                        received.add(x.getParameter());
                    }
                }
            }
            sending.join();
            assertThat(received).hasSize(n);
        }
    }

    private static Socket socketOf(Connection c) throws Exception {
        Object executor = c.unwrap(org.postgresql.jdbc.PgConnection.class).getQueryExecutor();
        java.lang.reflect.Field f = org.postgresql.core.QueryExecutorBase.class.getDeclaredField("pgStream");
        f.setAccessible(true);
        return ((org.postgresql.core.PGStream) f.get(executor)).getSocket();
    }

    private static void awaitAvailable(InputStream in, int bytes) throws Exception {
        long end = System.nanoTime() + 5_000_000_000L;
        while (in.available() < bytes) {
            if (System.nanoTime() > end) {
                throw new AssertionError("the bytes never arrived");
            }
            Thread.sleep(5);
        }
    }
}
