package dev.gaffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code gaffer jobs …}: the REST API for people at a terminal. */
@Command(
        name = "jobs",
        mixinStandardHelpOptions = true,
        description = "Create, list, inspect, review (approve, reject, request changes, revise), cancel, retry and"
                + " watch jobs through the REST API.",
        subcommands = {
            JobsCommand.Create.class,
            JobsCommand.ListJobs.class,
            JobsCommand.Show.class,
            JobsCommand.Watch.class
        })
final class JobsCommand implements Runnable {

    static final Set<String> TERMINAL = Set.of("completed", "failed", "cancelled", "rejected");

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /**
     * Where the API is and how to authenticate: flags over GAFFER_URL and GAFFER_API_KEY; without
     * either, the URL that a {@code gaffer dev} started in this directory wrote to .gaffer/url.
     */
    static final class Connection {
        @Option(
                names = "--url",
                description = "API base URL (GAFFER_URL; default: what `gaffer dev` wrote to .gaffer/url here,"
                        + " else http://127.0.0.1:4000).")
        String url;

        @Option(names = "--api-key", description = "Bearer API key (GAFFER_API_KEY).")
        String apiKey;

        @Option(names = "--json", description = "Print the API's JSON instead of a summary.")
        boolean json;

        ApiClient client() {
            var env = new Settings()
                    .override("GAFFER_URL", url)
                    .override("GAFFER_API_KEY", apiKey)
                    .asMap();
            String base = env.get("GAFFER_URL");
            if (base == null || base.isBlank()) {
                base = devUrl();
            }
            return new ApiClient(base, env.get("GAFFER_API_KEY"));
        }

        /** The URL of the {@code gaffer dev} running from this directory, if one is. */
        private static String devUrl() {
            try {
                return Files.isRegularFile(DevCommand.URL_FILE)
                        ? Files.readString(DevCommand.URL_FILE).strip()
                        : null;
            } catch (IOException e) {
                return null;
            }
        }
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Create a job; it waits as pending until approved.")
    static final class Create implements Callable<Integer> {
        @Mixin
        Connection connection;

        @Parameters(index = "0", paramLabel = "TYPE", description = "Job type, e.g. video, sleep, noop.")
        String type;

        @Option(
                names = {"-p", "--param"},
                paramLabel = "KEY=VALUE",
                description =
                        "A parameter; VALUE is parsed as JSON when it is JSON (numbers, true, [..]), else taken as a string. Repeatable.")
        Map<String, String> params = new LinkedHashMap<>();

        @Option(
                names = "--parameters",
                paramLabel = "JSON|@FILE",
                description = "All parameters as a JSON object, or @file.json.")
        String parametersJson;

        @Option(
                names = "--storyboard",
                paramLabel = "JSON|@FILE",
                description = "The plan to review before approval, as JSON or @file.json.")
        String storyboard;

        @Option(
                names = "--queue",
                description = "Queue to put the job in (workers claim from theirs); default: default.")
        String queue;

        @Option(names = "--priority", description = "From -100 to 100; higher runs first within its queue. Default: 0.")
        Integer priority;

        @Option(
                names = "--max-attempts",
                description = "Runs before a failure is final, 1 to 1000; default: the server's (3).")
        Integer maxAttempts;

        @Option(
                names = "--run-at",
                paramLabel = "ISO-8601",
                description = "Not claimable before this instant, e.g. 2026-12-01T09:00:00Z.")
        String runAt;

        @Option(names = "--idempotency-key", description = "Creating twice with the same key returns the first job.")
        String idempotencyKey;

        @Override
        public Integer call() throws IOException {
            ObjectNode body = ApiClient.JSON.createObjectNode();
            body.put("type", type);
            ObjectNode parameters = parametersJson == null
                    ? ApiClient.JSON.createObjectNode()
                    : objectFrom(parametersJson, "--parameters");
            params.forEach((k, v) -> parameters.set(k, scalar(v)));
            body.set("parameters", parameters);
            if (storyboard != null) {
                body.set("storyboard", jsonFrom(storyboard, "--storyboard"));
            }
            if (queue != null) body.put("queue", queue);
            if (priority != null) body.put("priority", priority);
            if (maxAttempts != null) body.put("max_attempts", maxAttempts);
            if (runAt != null) body.put("run_at", runAt);
            JsonNode job = connection.client().post("/api/v3/jobs", body, idempotencyKey);
            print(connection, job);
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List jobs, newest first.")
    static final class ListJobs implements Callable<Integer> {
        @Mixin
        Connection connection;

        @Option(
                names = "--status",
                description = "Only jobs in this status: pending, approved, processing, waiting, completed, failed,"
                        + " cancelled.")
        String status;

        @Option(names = "--type", description = "Only jobs of this type, e.g. video.")
        String type;

        @Option(names = "--queue", description = "Only jobs in this queue.")
        String queue;

        @Option(names = "--parent", paramLabel = "ID", description = "Only the sub-jobs of job ID.")
        Long parent;

        @Option(names = "--limit", defaultValue = "20", description = "Jobs per page, 1 to 200; default: 20.")
        int limit;

        @Option(names = "--cursor", description = "Continue after a previous page (its next cursor).")
        String cursor;

        @Override
        public Integer call() {
            StringBuilder q = new StringBuilder("/api/v3/jobs?limit=").append(limit);
            append(q, "status", status);
            append(q, "type", type);
            append(q, "queue", queue);
            append(q, "parent_id", parent == null ? null : parent.toString());
            append(q, "cursor", cursor);
            JsonNode page = connection.client().get(q.toString());
            if (connection.json) {
                System.out.println(page.toPrettyString());
                return 0;
            }
            JsonNode jobs = page.isArray() ? page : firstArray(page, "jobs", "data", "items");
            System.out.printf("%-10s %-12s %-11s %5s  %s%n", "ID", "TYPE", "STATUS", "PROG", "STAGE");
            for (JsonNode j : jobs) {
                System.out.printf(
                        "%-10s %-12s %-11s %4d%%  %s%n",
                        j.path("job_id").asText(),
                        j.path("type").asText(),
                        j.path("status").asText(),
                        j.path("progress_percentage").asInt(),
                        j.path("current_stage").asText(""));
            }
            String next = page.path("next_cursor").asText("");
            if (!next.isEmpty()) {
                System.out.println("more: gaffer jobs list --cursor " + next);
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one job.")
    static final class Show implements Callable<Integer> {
        @Mixin
        Connection connection;

        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() {
            print(connection, connection.client().get("/api/v3/jobs/" + id));
            return 0;
        }
    }

    @Command(
            name = "approve",
            mixinStandardHelpOptions = true,
            description = "Approve a pending job's plan, or the gate it waits at (needs the approve role).")
    int approve(
            @Mixin Connection connection,
            @Parameters(paramLabel = "ID") long id,
            @Option(names = "--comment", description = "Kept with the decision in the audit trail.") String comment,
            @Option(
                            names = "--revision",
                            description = "Only if the review is still at this revision (what you looked at).")
                    Integer revision,
            @Option(
                            names = "--gate",
                            description = "Only if the job waits at this gate (plan, or one its handler stopped at).")
                    String gate,
            @Option(
                            names = "--watch",
                            description = "Then show its live progress until it ends, as `gaffer jobs watch` does.")
                    boolean watch) {
        int approved = decide(connection, id, "approve", "comment", comment, revision, gate);
        return watch ? Watch.watch(connection, id) : approved;
    }

    @Command(
            name = "reject",
            mixinStandardHelpOptions = true,
            description = "Reject a pending job's plan (it never runs and cannot be retried) or the gate it waits at"
                    + " (it fails with the reason) (needs the approve role).")
    int reject(
            @Mixin Connection connection,
            @Parameters(paramLabel = "ID") long id,
            @Option(names = "--reason", required = true, description = "Why; kept in the audit trail.") String reason,
            @Option(names = "--revision", description = "Only if the review is still at this revision.")
                    Integer revision,
            @Option(
                            names = "--gate",
                            description = "Only if the job waits at this gate (plan, or one its handler stopped at).")
                    String gate) {
        return decide(connection, id, "reject", "reason", reason, revision, gate);
    }

    @Command(
            name = "request-changes",
            mixinStandardHelpOptions = true,
            description =
                    "Ask the submitter to change a pending job's storyboard (it stays pending), or send a job at a gate"
                            + " back to the stage that makes what was reviewed (needs the approve role).")
    int requestChanges(
            @Mixin Connection connection,
            @Parameters(paramLabel = "ID") long id,
            @Option(names = "--comment", required = true, description = "What to change; kept in the audit trail.")
                    String comment,
            @Option(names = "--revision", description = "Only if the review is still at this revision.")
                    Integer revision,
            @Option(
                            names = "--gate",
                            description = "Only if the job waits at this gate (plan, or one its handler stopped at).")
                    String gate) {
        return decide(connection, id, "request-changes", "comment", comment, revision, gate);
    }

    @Command(
            name = "revise",
            mixinStandardHelpOptions = true,
            description =
                    "Replace a pending job's storyboard (its submitter, or an admin key); it asks for review again.")
    int revise(
            @Mixin Connection connection,
            @Parameters(paramLabel = "ID") long id,
            @Option(
                            names = "--storyboard",
                            required = true,
                            description = "The new storyboard: JSON, or @file to read it from a file.")
                    String storyboard,
            @Option(
                            names = "--revision",
                            required = true,
                            description = "The revision it replaces (storyboard_revision of `gaffer jobs show`).")
                    int revision)
            throws IOException {
        JsonNode job = connection
                .client()
                .put("/api/v3/jobs/" + id + "/storyboard", jsonFrom(storyboard, "--storyboard"), revision);
        if (connection.json) {
            System.out.println(job.toPrettyString());
        } else {
            System.out.println("job " + id + " storyboard is now revision "
                    + job.path("storyboard_revision").asInt() + ", awaiting review");
        }
        return 0;
    }

    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Cancel a job and its unfinished sub-jobs.")
    int cancel(@Mixin Connection connection, @Parameters(paramLabel = "ID") long id) {
        return action(connection, id, "cancel");
    }

    @Command(
            name = "retry",
            mixinStandardHelpOptions = true,
            description = "Run a failed or cancelled job again; a parent reruns only its failed sub-jobs.")
    int retry(@Mixin Connection connection, @Parameters(paramLabel = "ID") long id) {
        return action(connection, id, "retry");
    }

    @Command(
            name = "watch",
            mixinStandardHelpOptions = true,
            description =
                    "Show a live progress bar until the job ends. Exit code 0 when it completed, 1 when it failed or was cancelled.")
    static final class Watch implements Callable<Integer> {
        @Mixin
        Connection connection;

        @Parameters(paramLabel = "ID")
        long id;

        @Override
        public Integer call() {
            return watch(connection, id);
        }

        static int watch(Connection connection, long id) {
            ApiClient client = connection.client();
            ProgressBar bar = new ProgressBar(System.out, System.console() != null);
            JsonNode job = client.get("/api/v3/jobs/" + id);
            if ("pending".equals(job.path("status").asText())) {
                System.out.println("job " + id + " is pending: it waits for a person to approve it"
                        + " (gaffer jobs approve " + id + "); watching until it ends ...");
            }
            bar.draw(job);
            while (!TERMINAL.contains(job.path("status").asText())) {
                // Each event only says that something changed; the job itself is re-read, so the
                // bar shows exactly what GET shows whatever the event carried.
                JsonNode[] latest = {job};
                client.stream("/api/v3/jobs/" + id + "/stream", data -> {
                    latest[0] = client.get("/api/v3/jobs/" + id);
                    bar.draw(latest[0]);
                    if (TERMINAL.contains(latest[0].path("status").asText())) {
                        throw new ApiClient.StopStream();
                    }
                });
                job = client.get("/api/v3/jobs/" + id);
                bar.draw(job);
            }
            bar.finish();
            if (job.hasNonNull("last_error")
                    && !"completed".equals(job.path("status").asText())) {
                System.out.println("last error: " + job.get("last_error").asText());
            }
            return "completed".equals(job.path("status").asText()) ? 0 : 1;
        }
    }

    /** One line that redraws itself on a terminal, or a line per change elsewhere. */
    static final class ProgressBar {
        private final PrintStream out;
        private final boolean redraw;
        private String last = "";

        ProgressBar(PrintStream out, boolean redraw) {
            this.out = out;
            this.redraw = redraw;
        }

        void draw(JsonNode job) {
            int pct = Math.max(0, Math.min(100, job.path("progress_percentage").asInt()));
            int filled = pct / 5;
            String line = String.format(
                    "job %s [%s%s] %3d%%  %-10s %s",
                    job.path("job_id").asText(),
                    "#".repeat(filled),
                    ".".repeat(20 - filled),
                    pct,
                    job.path("status").asText(),
                    job.path("current_stage").asText(""));
            if (line.equals(last)) {
                return;
            }
            if (redraw) {
                out.print("\r" + line + " ".repeat(Math.max(0, last.length() - line.length())));
            } else {
                out.println(line);
            }
            out.flush();
            last = line;
        }

        void finish() {
            if (redraw) {
                out.println();
            }
        }
    }

    private static int action(Connection connection, long id, String verb) {
        return decide(connection, id, verb, null, null, null, null);
    }

    /** A decision or action on one job, with its optional text field, gate and If-Match revision. */
    private static int decide(
            Connection connection, long id, String verb, String field, String text, Integer revision, String gate) {
        ObjectNode body = null;
        if (text != null || gate != null) {
            body = ApiClient.JSON.createObjectNode();
            if (text != null) {
                body.put(field, text);
            }
            if (gate != null) {
                body.put("gate", gate);
            }
        }
        JsonNode answer = connection.client().post("/api/v3/jobs/" + id + "/" + verb, body, null, revision);
        if (connection.json) {
            System.out.println(answer.toPrettyString());
        } else {
            System.out.println(
                    answer.hasNonNull("message")
                            ? answer.get("message").asText() + " (job " + id + ", "
                                    + answer.path("status").asText() + ")"
                            : "job " + id + " is now " + answer.path("status").asText());
        }
        return 0;
    }

    private static void print(Connection connection, JsonNode job) {
        if (connection.json) {
            System.out.println(job.toPrettyString());
            return;
        }
        List<String> keys = new ArrayList<>();
        job.fieldNames().forEachRemaining(keys::add);
        for (String k : keys) {
            JsonNode v = job.get(k);
            if (v.isNull()) {
                continue;
            }
            System.out.printf("%-20s %s%n", k, v.isContainerNode() ? v.toString() : v.asText());
        }
    }

    private static JsonNode firstArray(JsonNode page, String... names) {
        for (String n : names) {
            if (page.path(n).isArray()) {
                return page.get(n);
            }
        }
        return ApiClient.JSON.createArrayNode();
    }

    private static void append(StringBuilder q, String key, String value) {
        if (value != null) {
            q.append('&')
                    .append(key)
                    .append('=')
                    .append(java.net.URLEncoder.encode(value, java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    private static JsonNode scalar(String v) {
        try {
            JsonNode n = ApiClient.JSON.readTree(v);
            return n == null || n.isMissingNode()
                    ? ApiClient.JSON.getNodeFactory().textNode(v)
                    : n;
        } catch (IOException e) {
            return ApiClient.JSON.getNodeFactory().textNode(v);
        }
    }

    private static JsonNode jsonFrom(String arg, String option) throws IOException {
        String text = arg.startsWith("@") ? Files.readString(Path.of(arg.substring(1))) : arg;
        try {
            return ApiClient.JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(option + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ObjectNode objectFrom(String arg, String option) throws IOException {
        JsonNode n = jsonFrom(arg, option);
        if (!n.isObject()) {
            throw new IllegalArgumentException(option + " must be a JSON object");
        }
        return (ObjectNode) n;
    }
}
