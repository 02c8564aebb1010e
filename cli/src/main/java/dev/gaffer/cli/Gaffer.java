package dev.gaffer.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code gaffer} executable. Each subcommand wires its own objects with constructors: there
 * is no container. Settings come from environment variables; a flag overrides its variable.
 */
@Command(
        name = "gaffer",
        mixinStandardHelpOptions = true,
        versionProvider = Gaffer.Version.class,
        description = "A PostgreSQL-coordinated job cluster.",
        subcommands = {
            MigrateCommand.class,
            WorkerCommand.class,
            ApiCommand.class,
            KeysCommand.class,
            JobsCommand.class,
            ReviewsCommand.class,
            DevCommand.class
        })
public final class Gaffer implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Gaffer());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // Configuration and connection problems are the user's to fix: plain words, no trace.
            commandLine.getErr().println("gaffer: " + e.getMessage());
            if (e instanceof IllegalArgumentException) {
                return 2;
            }
            return 1;
        });
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Gaffer.class.getPackage().getImplementationVersion();
            return new String[] {"gaffer " + (v == null ? "development build" : v)};
        }
    }
}
