package example.wordcount;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobTypeValidator;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.JobHandlerProvider;
import dev.gaffer.worker.Outcome;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The job type {@code wordcount}: counts the words of {@code parameters.text} and reports the
 * {@code parameters.top} most frequent ones (default 3).
 *
 * <p>One class is both the type's handler (found by the worker as a {@link JobHandlerProvider})
 * and its validator (found by the API as a {@link JobTypeValidator}): both are listed in
 * {@code META-INF/services}. The validator runs when a job is created, so a bad request is refused
 * with 422 before anyone approves it; the handler trusts what passed it.
 */
public final class WordCount implements JobHandlerProvider, JobTypeValidator, JobHandler {

    public static final String TYPE = "wordcount";
    static final int MAX_TEXT = 1_000_000;
    private static final int CHUNK = 10_000;

    @Override
    public Map<String, JobHandler> handlers() {
        return Map.of(TYPE, this);
    }

    @Override
    public Set<String> types() {
        return Set.of(TYPE);
    }

    @Override
    public void validate(String type, JsonNode parameters, JsonNode storyboard) {
        JsonNode text = parameters.path("text");
        if (!text.isTextual()) {
            throw new InvalidJobException("parameters.text", "is required and must be a string");
        }
        if (text.asText().length() > MAX_TEXT) {
            throw new InvalidJobException("parameters.text", "must be at most " + MAX_TEXT + " characters");
        }
        JsonNode top = parameters.path("top");
        boolean topOk = top.isIntegralNumber() && top.canConvertToInt() && top.asInt() >= 1 && top.asInt() <= 100;
        if (!top.isMissingNode() && !topOk) {
            throw new InvalidJobException("parameters.top", "must be a whole number from 1 to 100");
        }
    }

    @Override
    public Outcome handle(JobContext ctx) throws InterruptedException {
        String text = ctx.parameters().path("text").asText();
        int top = ctx.parameters().path("top").asInt(3);
        Map<String, Integer> counts = new HashMap<>();
        long words = 0;
        // Work in chunks: report progress (cheap, written with the next heartbeat) and stop when
        // the run is cancelled, its lease lost or the worker shutting down.
        for (int start = 0; start < text.length(); ) {
            ctx.throwIfCancelled();
            int end = Math.min(text.length(), start + CHUNK);
            while (end < text.length() && Character.isLetterOrDigit(text.charAt(end))) {
                end++; // never split a word between chunks
            }
            for (String w : text.substring(start, end).toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}]+")) {
                if (!w.isEmpty()) {
                    counts.merge(w, 1, Integer::sum);
                    words++;
                }
            }
            start = end;
            ctx.progress((int) (100L * end / text.length()), "counting");
        }
        // The result is a pure function of the parameters: running the job twice (a worker died
        // after counting) gives the same answer, which is what makes a handler safe to retry.
        ObjectNode result = JsonNodeFactory.instance.objectNode();
        result.put("words", words);
        result.put("distinct", counts.size());
        var list = result.putArray("top");
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue(Comparator.reverseOrder())
                        .thenComparing(Map.Entry.comparingByKey()))
                .limit(top)
                .forEach(e -> list.addObject().put("word", e.getKey()).put("count", e.getValue()));
        return Outcome.complete(result);
    }
}
