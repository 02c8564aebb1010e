package dev.gaffer.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

// Placeholder so the executable builds while this command is written; replaced in full by its issue.
@Command(name = "keys", mixinStandardHelpOptions = true, description = "Not built yet.")
final class KeysCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.err.println("gaffer keys: not built yet");
        return 1;
    }
}
