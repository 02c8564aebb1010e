package dev.gaffer.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

// Placeholder so the executable builds while this command is written; replaced in full by its issue.
@Command(name = "api", mixinStandardHelpOptions = true, description = "Not built yet.")
final class ApiCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("gaffer api: not built yet");
        return 1;
    }
}
