package dev.gaffer.cli;

import dev.gaffer.auth.ApiKey;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(
        name = "keys",
        mixinStandardHelpOptions = true,
        description = "Manage the API's bearer keys (roles: read < submit < approve < admin).",
        subcommands = {KeysCommand.Create.class, KeysCommand.ListKeys.class, KeysCommand.Revoke.class})
final class KeysCommand implements Runnable {

    @Option(names = "--database-url", description = "Overrides DATABASE_URL (postgres://user:pass@host:5432/db).")
    String databaseUrl;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    <T> T withStore(Function<ApiKeyStore, T> work) {
        var settings = new Settings().override("DATABASE_URL", databaseUrl).asMap();
        try (Database db = Database.open(
                DatabaseConfig.fromEnvironment(settings, "gaffer-keys").withMaxPoolSize(1))) {
            return work.apply(new ApiKeyStore(db.dataSource()));
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a key and print it once.")
    static final class Create implements Callable<Integer> {
        @ParentCommand
        KeysCommand parent;

        @Option(names = "--name", required = true, description = "Who holds the key; recorded as approved_by etc.")
        String name;

        @Option(names = "--role", required = true, description = "read, submit, approve or admin.")
        String role;

        @Override
        public Integer call() {
            ApiKeyRole r = ApiKeyRole.parse(role);
            var created = parent.withStore(store -> store.create(name, r));
            System.out.println(created.key());
            System.err.println("Created key '" + name + "' with role " + r.dbName()
                    + ". This is the only time the key is shown; store it now.");
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never the keys themselves).")
    static final class ListKeys implements Callable<Integer> {
        @ParentCommand
        KeysCommand parent;

        @Override
        public Integer call() {
            var keys = parent.withStore(ApiKeyStore::list);
            System.out.printf(
                    "%-24s %-8s %-12s %-20s %-20s %s%n", "NAME", "ROLE", "PREFIX", "CREATED", "LAST USED", "REVOKED");
            for (ApiKey k : keys) {
                System.out.printf(
                        "%-24s %-8s %-12s %-20s %-20s %s%n",
                        k.name(),
                        k.role().dbName(),
                        k.keyPrefix() + "…",
                        time(k.createdAt()),
                        time(k.lastUsedAt()),
                        time(k.revokedAt()));
            }
            return 0;
        }

        private static String time(java.time.Instant t) {
            return t == null
                    ? "-"
                    : DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke the key of that name.")
    static final class Revoke implements Callable<Integer> {
        @ParentCommand
        KeysCommand parent;

        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            var revoked = parent.withStore(store -> store.revoke(name));
            if (revoked.isEmpty()) {
                System.err.println("gaffer: no live key named '" + name + "'");
                return 1;
            }
            System.out.println("revoked key '" + name + "'");
            return 0;
        }
    }
}
