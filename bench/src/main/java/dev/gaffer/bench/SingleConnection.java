package dev.gaffer.bench;

import java.io.PrintWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * A DataSource that hands out one connection whose close() and setAutoCommit() do nothing, so
 * that the stores' statements run inside a transaction the bench controls (and rolls back: a claim probe that
 * leaves no trace but its dead tuples).
 */
final class SingleConnection implements DataSource {

    private final Connection proxy;

    SingleConnection(Connection connection) {
        this.proxy = (Connection) Proxy.newProxyInstance(
                Connection.class.getClassLoader(), new Class<?>[] {Connection.class}, (p, m, args) -> {
                    if (m.getName().equals("close") || m.getName().equals("setAutoCommit")) {
                        return null;
                    }
                    if (m.getName().equals("getAutoCommit")) {
                        // The stores put a connection that is not in autocommit into it (an
                        // application's pool may lend one so, Sql.autocommitted): this one stays
                        // in the bench's transaction.
                        return true;
                    }
                    try {
                        return m.invoke(connection, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Override
    public Connection getConnection() {
        return proxy;
    }

    @Override
    public Connection getConnection(String username, String password) {
        return proxy;
    }

    @Override
    public PrintWriter getLogWriter() {
        return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
        return 0;
    }

    @Override
    public Logger getParentLogger() {
        return Logger.getGlobal();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
        return false;
    }
}
