package dev.gaffer.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code gaffer reviews …}: the audit trail of review decisions and what awaits a decision. */
@Command(
        name = "reviews",
        mixinStandardHelpOptions = true,
        description = "Export the audit trail of review decisions; list the jobs awaiting review.",
        subcommands = {ReviewsCommand.Export.class, ReviewsCommand.Awaiting.class, ReviewsCommand.Policy.class})
final class ReviewsCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    @Command(
            name = "export",
            mixinStandardHelpOptions = true,
            description = "Write every decision (approve, reject, request changes), oldest first, as JSON lines or CSV."
                    + " Decisions outlive their jobs (GAFFER_AUDIT_RETENTION).")
    static final class Export implements Callable<Integer> {
        @Mixin
        JobsCommand.Connection connection;

        @Option(names = "--format", defaultValue = "jsonl", description = "jsonl (default) or csv.")
        String format;

        @Option(names = "--since", defaultValue = "0", description = "Only decisions with a higher id.")
        long since;

        @Option(names = "--job", paramLabel = "ID", description = "Only the decisions on this job.")
        Long job;

        @Option(names = "--output", paramLabel = "FILE", description = "Write to FILE instead of standard output.")
        Path output;

        @Override
        public Integer call() throws IOException {
            if (!format.equals("jsonl") && !format.equals("csv")) {
                throw new IllegalArgumentException("--format must be jsonl or csv, got '" + format + "'");
            }
            ApiClient client = connection.client();
            try (OutputStream file = output == null ? null : Files.newOutputStream(output);
                    PrintStream out =
                            file == null ? System.out : new PrintStream(file, false, StandardCharsets.UTF_8)) {
                long after = since;
                boolean first = true;
                while (true) {
                    var page = client.getText("/api/v3/reviews?format=" + format + "&since=" + after
                            + (job == null ? "" : "&job_id=" + job));
                    String body = page.body();
                    if (format.equals("csv")) {
                        // Every page starts with the header line: keep the first one only.
                        int header = body.indexOf("\r\n");
                        if (!first) {
                            body = header < 0 ? "" : body.substring(header + 2);
                        }
                    }
                    out.print(body);
                    first = false;
                    if (page.nextSince() == after) {
                        break;
                    }
                    after = page.nextSince();
                }
                out.flush();
                if (output != null) {
                    System.err.println("wrote the decisions up to id " + after + " to " + output);
                }
                return 0;
            }
        }
    }

    @Command(
            name = "awaiting",
            mixinStandardHelpOptions = true,
            description = "List pending jobs that wait for a decision, oldest first (needs the approve role).")
    static final class Awaiting implements Callable<Integer> {
        @Mixin
        JobsCommand.Connection connection;

        @Option(names = "--limit", defaultValue = "50", description = "Jobs per page, 1 to 200; default: 50.")
        int limit;

        @Override
        public Integer call() {
            JsonNode page = connection.client().get("/api/v3/reviews/awaiting?limit=" + limit);
            if (connection.json) {
                System.out.println(page.toPrettyString());
                return 0;
            }
            for (JsonNode j : page.path("jobs")) {
                System.out.printf(
                        "%-8d %-12s revision %-3d by %-16s %s%n",
                        j.path("job_id").asLong(),
                        j.path("type").asText(),
                        j.path("storyboard_revision").asInt(),
                        j.path("created_by").asText("-"),
                        j.path("inserted_at").asText());
            }
            if (page.hasNonNull("next_cursor")) {
                System.out.println(
                        "(more: the API's ?cursor=" + page.get("next_cursor").asText() + ")");
            }
            return 0;
        }
    }

    @Command(
            name = "policy",
            mixinStandardHelpOptions = true,
            description =
                    "Show, set or remove the review policy of a job type's plan or of a gate it declares (setting and"
                            + " removing need an admin key).")
    static final class Policy implements Callable<Integer> {
        @Mixin
        JobsCommand.Connection connection;

        @picocli.CommandLine.Parameters(
                paramLabel = "TYPE",
                arity = "0..1",
                description = "The job type; without it, every policy is listed.")
        String type;

        @Option(
                names = "--gate",
                description = "The gate the policy is for: plan (default) or a gate the job type declares.")
        String gate;

        @Option(names = "--four-eyes", negatable = true, description = "The requester may not approve their own job.")
        Boolean fourEyes;

        @Option(names = "--role", description = "The role that decides: approve (default) or admin.")
        String role;

        @Option(
                names = "--expires-after",
                description = "30m, 12h or 7d: a pending job idle that long is cancelled; 'never' for no expiry.")
        String expiresAfter;

        @Option(names = "--quorum", description = "How many distinct reviewers must approve (1 to 10; default 1).")
        Integer quorum;

        @Option(
                names = "--on-expiry",
                description = "What an expired review does: cancel the job (default) or escalate (an admin decides).")
        String onExpiry;

        @Option(names = "--delete", description = "Remove the policy: the type has the defaults again.")
        boolean delete;

        @Override
        public Integer call() {
            ApiClient client = connection.client();
            if (type == null) {
                if (fourEyes != null || role != null || expiresAfter != null || delete || gate != null) {
                    throw new IllegalArgumentException("name the job type to set or remove its policy");
                }
                JsonNode all = client.get("/api/v3/review-policies");
                if (connection.json) {
                    System.out.println(all.toPrettyString());
                } else {
                    for (JsonNode p : all.path("policies")) {
                        System.out.println(line(p));
                    }
                }
                return 0;
            }
            String path = "/api/v3/review-policies/" + type + (gate == null ? "" : "/" + gate);
            if (delete) {
                client.delete(path);
                System.out.println(type + (gate == null ? "" : " at gate " + gate)
                        + ": review policy removed (the defaults apply)");
                return 0;
            }
            var body = ApiClient.JSON.createObjectNode();
            if (fourEyes != null) body.put("four_eyes", fourEyes);
            if (role != null) body.put("required_role", role);
            if (quorum != null) body.put("quorum", quorum);
            if (onExpiry != null) body.put("on_expiry", onExpiry);
            if (expiresAfter != null && !expiresAfter.equals("never")) body.put("expires_after", expiresAfter);
            JsonNode p = client.put(path, body, null);
            System.out.println(connection.json ? p.toPrettyString() : line(p));
            return 0;
        }

        private static String line(JsonNode p) {
            return p.path("job_type").asText()
                    + (p.path("gate").asText("plan").equals("plan")
                            ? ""
                            : " at gate " + p.path("gate").asText())
                    + ": role "
                    + p.path("required_role").asText()
                    + (p.path("four_eyes").asBoolean() ? ", four eyes" : "")
                    + (p.path("quorum").asInt(1) > 1
                            ? ", quorum " + p.path("quorum").asInt()
                            : "")
                    + (p.hasNonNull("expires_after")
                            ? (p.path("on_expiry").asText().equals("escalate")
                                            ? ", escalates after "
                                            : ", expires after ")
                                    + p.get("expires_after").asText()
                            : "");
        }
    }
}
