package dev.gaffer.cli;

import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = "Apply the schema migrations to DATABASE_URL and exit.")
final class MigrateCommand implements Callable<Integer> {

    @Option(names = "--database-url", description = "Overrides DATABASE_URL (postgres://user:pass@host:5432/db).")
    String databaseUrl;

    @Override
    public Integer call() {
        var settings = new Settings().override("DATABASE_URL", databaseUrl).asMap();
        try (Database db = Database.open(
                DatabaseConfig.fromEnvironment(settings, "gaffer-migrate").withMaxPoolSize(2))) {
            int applied = db.migrate();
            System.out.println(applied == 0 ? "schema is up to date" : "applied " + applied + " migration(s)");
            return 0;
        }
    }
}
