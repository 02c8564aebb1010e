package dev.gaffer.faults;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy in front of PostgreSQL that can make one connection half-open: its bytes
 * stop flowing in both directions while both sockets stay open, as when a NAT or a firewall in
 * between forgets the connection. Connections are known by the proxy's local port towards the
 * server, which PostgreSQL shows as pg_stat_activity.client_port.
 */
final class TcpProxy implements AutoCloseable {

    private static final class Pair {
        final Socket client;
        final Socket server;
        volatile boolean frozen;

        Pair(Socket client, Socket server) {
            this.client = client;
            this.server = server;
        }
    }

    private final ServerSocket listener;
    private final int targetPort;
    private final Map<Integer, Pair> byServerSidePort = new ConcurrentHashMap<>();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    TcpProxy(int targetPort) {
        this.targetPort = targetPort;
        try {
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Thread.ofPlatform().daemon().name("proxy-accept").start(this::acceptLoop);
    }

    int port() {
        return listener.getLocalPort();
    }

    /** Stops forwarding the connection whose server-side local port is {@code port}; keeps it open. */
    boolean freeze(int serverSidePort) {
        Pair p = byServerSidePort.get(serverSidePort);
        if (p == null) {
            return false;
        }
        p.frozen = true;
        return true;
    }

    private void acceptLoop() {
        while (!closed) {
            try {
                Socket client = listener.accept();
                Socket server = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                client.setTcpNoDelay(true);
                server.setTcpNoDelay(true);
                sockets.add(client);
                sockets.add(server);
                Pair pair = new Pair(client, server);
                byServerSidePort.put(server.getLocalPort(), pair);
                Thread.ofPlatform().daemon().name("proxy-up").start(() -> pump(pair, client, server));
                Thread.ofPlatform().daemon().name("proxy-down").start(() -> pump(pair, server, client));
            } catch (IOException e) {
                if (!closed) {
                    // The server may be down for a moment; the client sees its connection fail.
                    continue;
                }
            }
        }
    }

    private void pump(Pair pair, Socket from, Socket to) {
        byte[] buf = new byte[16 * 1024];
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buf)) >= 0) {
                while (pair.frozen && !closed) {
                    Thread.sleep(50); // half-open: hold the bytes, close nothing
                }
                out.write(buf, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side went away
        } finally {
            if (!pair.frozen) {
                closeQuietly(pair.client);
                closeQuietly(pair.server);
            }
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
        sockets.forEach(TcpProxy::closeQuietly);
    }
}
