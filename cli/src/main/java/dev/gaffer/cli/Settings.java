package dev.gaffer.cli;

import java.util.HashMap;
import java.util.Map;

/**
 * The environment as the configuration records read it, with flags laid over it: a command puts
 * each flag the user gave under the name of the variable it overrides, so validation and its
 * messages live in one place (the config record) whichever way a value arrived.
 */
final class Settings {

    private final Map<String, String> values = new HashMap<>(System.getenv());

    Settings override(String variable, Object flagValue) {
        if (flagValue != null) {
            values.put(variable, String.valueOf(flagValue));
        }
        return this;
    }

    Map<String, String> asMap() {
        return Map.copyOf(values);
    }
}
