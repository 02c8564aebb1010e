package dev.gaffer.db;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import javax.net.SocketFactory;

/**
 * The sockets of the LISTEN connection (pgjdbc's {@code socketFactory} property): they take a
 * millisecond off every hint.
 *
 * <p>pgjdbc's {@code getNotifications(timeout)} does not return with the notification it has just
 * read: it first asks whether another message is pending by reading under a 1 ms socket timeout
 * (PGStream.hasMessagePending), and on an idle connection that read always waits the millisecond
 * out, plus the kernel's timer slack. Found with the ping-pong benchmark (docs/benchmarks.md,
 * issue 16): from a NOTIFY sent to getNotifications returning it took 1.8 – 2.0 ms on the bench
 * machine, 0.63 – 0.65 ms with these sockets (medians of 500). A read under a timeout
 * of exactly 1 ms, when the kernel holds no byte for the socket, here fails at once with the same
 * {@link SocketTimeoutException}; bytes that arrive later are read by the next call, as they would
 * have been after a missed millisecond. Every other read, and every other timeout, is the plain
 * socket's.
 */
public final class ListenSocketFactory extends SocketFactory {

    /** The one timeout that marks pgjdbc's "anything more?" peek. */
    static final int PEEK_TIMEOUT_MILLIS = 1;

    /** pgjdbc instantiates the factory by class name. */
    public ListenSocketFactory() {}

    @Override
    public Socket createSocket() {
        return new PromptSocket();
    }

    @Override
    public Socket createSocket(String host, int port) throws IOException {
        return connected(null, new InetSocketAddress(host, port));
    }

    @Override
    public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
        return connected(new InetSocketAddress(localHost, localPort), new InetSocketAddress(host, port));
    }

    @Override
    public Socket createSocket(InetAddress host, int port) throws IOException {
        return connected(null, new InetSocketAddress(host, port));
    }

    @Override
    public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
            throws IOException {
        return connected(new InetSocketAddress(localAddress, localPort), new InetSocketAddress(address, port));
    }

    /** A socket bound to {@code local} (null: any) and connected to {@code remote}. */
    private static Socket connected(InetSocketAddress local, InetSocketAddress remote) throws IOException {
        Socket s = new PromptSocket();
        if (local != null) {
            s.bind(local);
        }
        s.connect(remote);
        return s;
    }

    /** A plain socket whose input answers a 1 ms peek at once when nothing is there. */
    static final class PromptSocket extends Socket {
        private volatile int timeoutMillis;
        private InputStream in;

        @Override
        public synchronized void setSoTimeout(int timeout) throws java.net.SocketException {
            super.setSoTimeout(timeout);
            timeoutMillis = timeout;
        }

        @Override
        public synchronized InputStream getInputStream() throws IOException {
            if (in == null) {
                in = new PromptInput(super.getInputStream(), this);
            }
            return in;
        }

        boolean peeking() {
            return timeoutMillis == PEEK_TIMEOUT_MILLIS;
        }
    }

    private static final class PromptInput extends FilterInputStream {
        private final PromptSocket socket;

        PromptInput(InputStream in, PromptSocket socket) {
            super(in);
            this.socket = socket;
        }

        @Override
        public int read() throws IOException {
            checkPeek();
            return super.read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            checkPeek();
            return super.read(b, off, len);
        }

        private void checkPeek() throws IOException {
            // available() asks the kernel (FIONREAD): no wait, no byte consumed.
            if (socket.peeking() && super.available() == 0) {
                throw new SocketTimeoutException("nothing pending");
            }
        }
    }
}
